"""Bundles sealed to their recipient (kit.sync.seal): a lost stick shows counts and school names,
no learner's name, id or PIN hash; only the recipient opens it; any change is refused; and a pair
of servers upgraded from a kit without sealing keys learns them in its first signed exchange."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from contextlib import ExitStack
from pathlib import Path

import pytest
from click.testing import CliRunner

from kit.cli import main
from kit.core import records, roster
from kit.core.errors import BundleError, TrustError
from kit.core.keys import SigningKey, box_key_of, box_key_path, trust
from kit.sync import enrol as enrolment, seal
from kit.sync.bundle import export_bundle, export_for, import_bundle
from kit.sync.client import pull, push
from kit.sync.usb import visit
from netlink import served
from syncworld import (activity, bulk_events, db_files, dump, enrol, enrol_as_before, forge, move_school, read_manifest,
                       server, truth)


def refused(inst, path: Path, reason: str) -> None:
    """Refused with `reason`, and not one byte of the database changed."""
    before, files = dump(inst), db_files(inst)
    with pytest.raises(BundleError, match=reason):
        import_bundle(inst, path)
    assert dump(inst) == before and db_files(inst) == files


@pytest.fixture
def learner_bundle(world):
    """A bundle from school A to its hub about a learner with a name, a PIN and a history."""
    hub, a, b, out = world
    klass = roster.create_class(a.db, "CM2 Tamda", code="4321")
    amina = roster.add_learner(a.db, klass.id, "Amina Zerhouni", pin="8765")
    activity(a, amina.id, 4)
    report = export_bundle(a, out, destination=hub.device_id)
    return hub, a, b, out, amina, report


# --- what a lost stick shows --------------------------------------------------------------------

def test_a_lost_sticks_bundle_holds_no_learner_name_id_or_pin_hash(learner_bundle):
    hub, a, _, _, amina, report = learner_bundle
    pin_hash = records.get(a.db, "learner", amina.id)["pin_hash"]
    secrets = [b"Amina Zerhouni", amina.id.encode(), pin_hash.encode(), b"pin_hash", b"CM2 Tamda", b"lesson.read"]
    raw = report.path.read_bytes()
    inside = b"".join(read_manifest(report.path, hub)[1].values())
    assert [s for s in secrets if s in inside] == secrets   # the events inside hold them all...
    assert [s for s in secrets if s in raw] == []           # ...the file on the stick none
    assert raw.startswith(seal.MAGIC)


def test_the_stick_shows_counts_and_school_names_only(learner_bundle):
    hub, a, _, _, amina, report = learner_bundle
    out = CliRunner().invoke(main, ["sync", "inspect", str(report.path)])
    assert out.exit_code == 0, out.output
    assert out.output == (f"{report.path.name}: sealed for Hub ({hub.device_id}), from School A: "
                          f"{report.events} events, 1 learners\n")
    header = seal.envelope_of(report.path, 1 << 30)
    assert (header.from_name, header.to_name, header.events, header.learners) == ("School A", "Hub", 6, 1)
    clear = report.path.read_bytes()[:len(header.header)]
    assert set(json.loads(clear[12:])) == seal.FIELDS  # the whole clear part: these fields, nothing else


def test_only_the_recipient_opens_it_not_another_school_of_the_same_hub(learner_bundle, tmp_path):
    hub, a, b, out, amina, report = learner_bundle
    refused(b, report.path, f"sealed for Hub \\({hub.device_id}\\), not for this server")
    # Readdressed to B in the clear header (B's id and key id), it still does not open with B's key.
    header = seal.envelope_of(report.path, 1 << 30)
    fields = json.loads(header.header[12:])
    fields.update(to=b.device_id, to_box=seal.box_id(b.box_key().public_raw))
    text = json.dumps(fields, sort_keys=True, separators=(",", ":")).encode()
    readdressed = tmp_path / "readdressed.kitsync"
    readdressed.write_bytes(seal.MAGIC + len(text).to_bytes(4, "big") + text
                            + report.path.read_bytes()[len(header.header):])
    refused(b, readdressed, "does not open with this server's sealing key")
    assert import_bundle(hub, report.path).new == 6


# --- any change is refused ----------------------------------------------------------------------

@pytest.fixture
def chunked(world, monkeypatch):
    """A sealed bundle of 6,000 events for the hub in chunks of 8 KiB instead of 1 MiB, so it
    has several: (hub, its path, its bytes, the header's length, a sealed chunk's length)."""
    monkeypatch.setattr(seal, "CHUNK", 8 << 10)
    hub, a, _, out = world
    bulk_events(a, 6000)
    path = export_bundle(a, out, destination=hub.device_id).path
    data = path.read_bytes()
    return hub, path, data, len(seal.envelope_of(path, 1 << 30).header), seal.CHUNK + seal.TAG


def test_a_byte_flipped_in_the_header_or_any_chunk_of_a_bundle_is_refused(chunked, tmp_path):
    hub, path, data, header, step = chunked
    assert len(data) > header + 2 * step
    offsets = list(range(header)) + [header, header + step - 1, header + step, header + 2 * step, len(data) - 1]
    bad = tmp_path / "bad.kitsync"
    before, files = dump(hub), db_files(hub)
    for offset in offsets:
        bad.write_bytes(data[:offset] + bytes([data[offset] ^ 0x01]) + data[offset + 1:])
        with pytest.raises(BundleError):
            import_bundle(hub, bad)
    assert dump(hub) == before and db_files(hub) == files
    assert import_bundle(hub, path).new == 6000


def test_a_bundle_cut_dropped_or_reordered_by_whole_chunks_is_refused(chunked, tmp_path):
    hub, path, data, header, step = chunked
    first, second, rest = (data[header:header + step], data[header + step:header + 2 * step],
                           data[header + 2 * step:])
    for name, damaged in [("cut after two chunks", data[:header + 2 * step]),
                          ("cut after one chunk", data[:header + step]),
                          ("cut in the header", data[:header - 3]),
                          ("a chunk dropped", data[:header] + first + rest),
                          ("two chunks swapped", data[:header] + second + first + rest),
                          ("a chunk repeated", data[:header] + first + first + second + rest)]:
        (tmp_path / "x.kitsync").write_bytes(damaged)
        refused(hub, tmp_path / "x.kitsync", "damaged|cut short")
    assert not list((hub.data.tmp_dir / "seal").iterdir())  # no scratch copy left behind
    assert import_bundle(hub, path).new == 6000


def test_a_clear_copy_left_by_a_power_cut_during_an_import_goes_at_the_next_import(learner_bundle):
    hub, a, _, _, amina, report = learner_bundle
    seal_dir = hub.data.tmp_dir / "seal"
    leftover = seal_dir / "tmpcut1234"          # as mkdtemp named it before the power went
    leftover.mkdir(parents=True, mode=0o700)
    (leftover / report.path.name).write_bytes(b"Amina Zerhouni ... the zip in clear, half written")
    (seal_dir / "tmpcut5678").mkdir()            # one cut before it held anything
    assert import_bundle(hub, report.path).new == 6
    assert list(seal_dir.iterdir()) == []


HOLD_A_SCRATCH = """
import sys
from pathlib import Path
from kit.core.config import DataDir
from kit.core.instance import open_instance
from kit.sync import seal
inst = open_instance(DataDir(Path(sys.argv[1])))
with seal.scratch(inst) as folder:
    (folder / "bundle.kitsync").write_bytes(b"in clear, being imported")
    print(folder, flush=True)
    sys.stdin.read()  # until the test lets go
"""


@pytest.mark.parametrize("where", ["another process (the CLI beside the web server)", "another thread"])
def test_a_scratch_copy_in_use_by_a_concurrent_import_is_kept(learner_bundle, where):
    hub, a, _, _, amina, report = learner_bundle
    if where.startswith("another process"):
        holder = subprocess.Popen([sys.executable, "-c", HOLD_A_SCRATCH, str(hub.data.root)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        held = Path(holder.stdout.readline().strip())
        let_go = holder.communicate
    else:
        stack = ExitStack()
        held = stack.enter_context(seal.scratch(hub))
        (held / "bundle.kitsync").write_bytes(b"in clear, being imported")
        let_go = stack.close
    try:
        assert held.parent == hub.data.tmp_dir / "seal" and (held / "bundle.kitsync").exists()
        assert import_bundle(hub, report.path).new == 6
        assert (held / "bundle.kitsync").read_bytes() == b"in clear, being imported"
        assert list(held.parent.iterdir()) == [held]  # the import's own copy went, the other's stayed
    finally:
        let_go()
    assert list(held.parent.iterdir()) == []


def test_an_envelope_showing_other_counts_than_the_signed_manifest_is_refused(learner_bundle, tmp_path):
    hub, a, _, _, _, report = learner_bundle
    manifest, chunks = read_manifest(report.path, hub)
    for shows in ((6, 0), (60, 1)):                     # the manifest inside says 6 events, 1 learner
        refused(hub, forge(tmp_path / "lying.kitsync", a.key(), manifest, chunks, to=hub, shows=shows),
                "other counts")
    assert import_bundle(hub, forge(tmp_path / "true.kitsync", a.key(), manifest, chunks, to=hub)).new == 6


# --- a bundle has one destination ---------------------------------------------------------------

def test_a_bundle_without_a_destination_is_refused_sealed_or_not(learner_bundle, tmp_path):
    hub, a, _, out, _, report = learner_bundle
    manifest, chunks = read_manifest(report.path, hub)
    anyone = {**manifest, "destination": None}
    refused(hub, forge(tmp_path / "clear.kitsync", a.key(), anyone, chunks), "names no destination")
    refused(hub, forge(tmp_path / "sealed.kitsync", a.key(), anyone, chunks, to=hub), "names no destination")
    with pytest.raises(BundleError, match="say which"):
        export_for(a, out)                              # and none is written


def test_kit_sync_export_seals_to_the_schools_one_hub_by_default(learner_bundle, tmp_path):
    hub, a, _, _, _, _ = learner_bundle
    stick = tmp_path / "stick"
    stick.mkdir()
    out = CliRunner().invoke(main, ["sync", "export", str(stick), "--data", str(a.data.root)])
    assert out.exit_code == 0 and "6 events" in out.output, out.output
    [path] = stick.iterdir()
    assert path.name.startswith("school-a-to-hub-") and path.read_bytes().startswith(seal.MAGIC)
    assert import_bundle(hub, path).new == 6


# --- round trips still converge -----------------------------------------------------------------

def test_a_usb_round_trip_hub_to_school_and_back_converges_with_only_sealed_files(world, tmp_path):
    hub, a, b, _ = world
    stick = tmp_path / "stick"
    stick.mkdir()
    records.set_fields(a.db, "learner", "LA", {"name": "Amina"})
    activity(a, "LA", 3)
    records.set_fields(b.db, "learner", "LB", {"name": "Bilal"})
    activity(b, "LB", 2)
    for inst in (a, b, hub, a, b):                      # school, school, hub, then each school again
        visit(inst, stick)
    files = list((stick / "kit").glob("*.kitsync"))
    assert files and all(f.read_bytes().startswith(seal.MAGIC) for f in files)
    assert not any(b"Amina" in f.read_bytes() or b"Bilal" in f.read_bytes() for f in files)
    assert sorted(truth(a)["events"] + truth(b)["events"]) == sorted(truth(hub)["events"])  # each its own


def test_push_and_pull_seal_what_they_carry_and_converge(world):
    hub, a, b, _ = world
    records.set_fields(a.db, "learner", "LA", {"name": "Amina"})
    activity(a, "LA", 3)
    with served(hub.data) as url:
        assert push(a, url).pushed_new == 4
        prepared = hub.db.execute("SELECT path FROM sync_transfers WHERE direction = 'serve'").fetchall()
        move_school(hub, a, b)                          # Amina moves to B, who pulls her history
        assert pull(b, url).pulled_new == 4 + 1
    assert truth(b)["events"] == truth(hub)["events"]
    [(served_path,)] = hub.db.execute("SELECT path FROM sync_transfers WHERE direction = 'serve'").fetchall()
    assert prepared == [] and Path(served_path).read_bytes().startswith(seal.MAGIC)  # what went down the wire
    assert b"Amina" not in Path(served_path).read_bytes()


# --- the upgrade: keys travel in the first signed exchange --------------------------------------

def test_an_upgraded_pair_learns_its_sealing_keys_over_http_before_any_data_moves(tmp_path):
    hub, a = server(tmp_path, "Hub", role="hub"), server(tmp_path, "School A")
    enrol_as_before(hub, a)                             # enrolled by a kit without sealing keys
    assert box_key_of(hub.db, a.device_id) is None and box_key_of(a.db, hub.device_id) is None
    records.set_fields(a.db, "learner", "LA", {"name": "Amina"})
    activity(a, "LA", 2)
    with served(hub.data) as url:
        assert push(a, url).pushed_new == 3             # the hello carried both keys: sealed at once
        assert box_key_of(hub.db, a.device_id) == a.box_key().public_raw
        assert box_key_of(a.db, hub.device_id) == hub.box_key().public_raw
        records.set_fields(hub.db, "learner", "LH", {"name": "Hafsa", "school": a.device_id})
        assert pull(a, url).pulled_new == 1
    assert truth(a)["events"] == truth(hub)["events"]
    hub.close(), a.close()


def test_an_upgraded_pair_learns_its_sealing_keys_by_stick_and_never_writes_a_learner_in_clear(tmp_path):
    hub, a = server(tmp_path, "Hub", role="hub"), server(tmp_path, "School A")
    enrol_as_before(hub, a)
    records.set_fields(a.db, "learner", "LA", {"name": "Amina"})
    activity(a, "LA", 2)
    records.set_fields(hub.db, "learner", "LH", {"name": "Hafsa", "school": a.device_id})  # one of A's
    stick = tmp_path / "stick"
    stick.mkdir()
    first = visit(a, stick)                             # A does not know the hub's key yet
    [intro] = first.exported
    assert (intro.events, intro.held_back) == (0, 3) and b"Amina" not in intro.path.read_bytes()
    visit(hub, stick)                                   # the hub learns A's key from that signed bundle...
    assert box_key_of(hub.db, a.device_id) == a.box_key().public_raw
    visit(a, stick)                                     # ...seals its answer, which brings A the hub's
    assert box_key_of(a.db, hub.device_id) == hub.box_key().public_raw
    visit(hub, stick)
    files = list((stick / "kit").glob("*.kitsync"))
    assert not any(b"Amina" in f.read_bytes() or b"Hafsa" in f.read_bytes() for f in files)
    assert truth(a)["events"] == truth(hub)["events"] and len(truth(hub)["events"]) == 4
    hub.close(), a.close()


def test_a_pull_prepared_before_the_sealing_key_came_is_not_served_again_once_it_has(tmp_path):
    from kit.sync import transfers
    hub, a = server(tmp_path, "Hub", role="hub"), server(tmp_path, "School A")
    enrol_as_before(hub, a)
    records.set_fields(hub.db, "learner", "LH", {"name": "Hafsa", "school": a.device_id})
    first = transfers.prepare_download(hub, a.device_id, {})        # an older kit's pull: no key yet
    assert first["events"] == 0 and first["name"] is not None
    seal.learn(hub.db, a.device_id, seal.own_box(a))                # the school upgraded: its hello says
    again = transfers.prepare_download(hub, a.device_id, {})        # the same vector as before
    assert again["events"] == 1 and again["name"] != first["name"]
    hub.close(), a.close()


def test_an_older_kits_clear_bundle_is_taken_until_its_sender_has_sent_a_sealing_key(tmp_path):
    hub, a = server(tmp_path, "Hub", role="hub"), server(tmp_path, "School A")
    enrol_as_before(hub, a)
    activity(a, "LA", 2)
    sealed = export_bundle(a, tmp_path, destination=a.device_id).path   # to itself: to read it back
    manifest, chunks = read_manifest(sealed, a)
    origin = {k: v for k, v in manifest["origin"].items() if k != "box"}
    old = {**manifest, "origin": origin, "destination": hub.device_id}
    older_kit = forge(tmp_path / "old.kitsync", a.key(), old, chunks)   # in clear, as an older kit wrote it
    assert import_bundle(hub, older_kit).new == 2                        # refusing it would protect nothing
    assert box_key_of(hub.db, a.device_id) is None
    upgraded = forge(tmp_path / "new.kitsync", a.key(), {**old, "origin": manifest["origin"]}, chunks)
    refused(hub, upgraded, "not sealed")                                 # a kit with a sealing key never does that
    enrolment.accept(hub.db, enrolment.own_enrolment(a), "school")       # A's sealing key is known now
    refused(hub, older_kit, "not sealed")


# --- the keys themselves ------------------------------------------------------------------------

def test_the_sealing_key_is_private_and_made_for_a_data_dir_an_older_kit_made(tmp_path):
    inst = server(tmp_path, "School")
    path = box_key_path(inst.data)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    public = inst.box_key().public_raw
    path.unlink()                                       # a data dir from before sealing keys
    made = inst.box_key()
    assert made.public_raw != public and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert inst.box_key().public_raw == made.public_raw  # made once, then kept
    inst.close()


def test_the_enrolment_file_carries_the_sealing_key_and_an_older_one_without_it_still_reads(world):
    hub, a, _, _ = world
    text = enrolment.own_enrolment(a).text()
    assert f"box: {seal.own_box(a)}\n" in text
    parsed = enrolment.parse_enrolment(text)
    assert parsed.box == a.box_key().public_raw
    old = "".join(line + "\n" for line in text.splitlines() if not line.startswith("box:"))
    assert enrolment.parse_enrolment(old).box is None
    with pytest.raises(TrustError, match="sealing key"):
        enrolment.parse_enrolment(old + "box: bm90IGEga2V5\n")


def test_kit_keys_show_names_this_servers_sealing_key_and_whether_each_peers_is_known(tmp_path):
    hub = server(tmp_path, "Hub", role="hub")
    a, b = server(tmp_path, "School A"), server(tmp_path, "School B")
    enrol(hub, a)
    enrol_as_before(hub, b)  # enrolled by an older kit: no sealing key yet
    ministry = SigningKey.generate("Ministry")
    trust(hub.db, ministry.public, "publisher")

    def shown() -> "list[str]":
        out = CliRunner().invoke(main, ["keys", "show", "--data", str(hub.data.root)])
        assert out.exit_code == 0, out.output
        lines = out.output.splitlines()
        assert lines[0] == hub.key().public.line().strip()
        assert lines[1:3] == [f"id: {hub.device_id}", f"sealing key: {seal.box_id(hub.box_key().public_raw)}"]
        return sorted(lines[3:])

    a_box, b_box = (seal.box_id(s.box_key().public_raw) for s in (a, b))
    assert shown() == sorted([
        f"trusted school: {a.device_id} School A; sealing key: {a_box}",
        f"trusted school: {b.device_id} School B; sealing key: not yet known: it comes with their next signed "
        "bundle or hello",
        f"trusted publisher: {ministry.key_id} Ministry",
        f"trusted publisher: {hub.device_id} Hub"])  # a hub signs the packs it hands out
    activity(b, "LB", 1)
    intro = export_bundle(b, tmp_path, destination=hub.device_id)  # B does not know the hub's key either
    assert intro.held_back == 1
    import_bundle(hub, intro.path)
    assert f"trusted school: {b.device_id} School B; sealing key: {b_box}" in shown()
    for inst in (hub, a, b):
        inst.close()

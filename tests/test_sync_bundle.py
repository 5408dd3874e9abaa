"""Progress bundles: written, verified, merged; refused whole when anything is wrong."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import date

import pytest

from kit.core import records
from kit.core.errors import BundleError
from kit.core.eventlog import version_vector
from kit.core.keys import SigningKey
from kit.sync.bundle import export_bundle, import_bundle, read_bundle
from kit.sync.scope import holds
from syncworld import activity, bulk_events, db_files, dump, enrol, forge, read_manifest, server, truth


def test_export_writes_every_event_and_the_manifest_says_what(world):
    hub, a, _, out = world
    records.set_fields(a.db, "learner", "L1", {"name": "Amina"})
    activity(a, "L1", 5)
    report = export_bundle(a, out, destination=hub.device_id)
    assert report.events == 6 and report.learners == 1 and report.bytes == report.path.stat().st_size
    assert report.path.name == f"school-a-to-hub-{date.today().isoformat()}-1.kitsync"
    manifest, chunks = read_manifest(report.path, hub)
    assert manifest["covers"] == {a.device_id: [0, 6]} and manifest["destination"] == hub.device_id
    assert sum(c.count(b"\n") for c in chunks.values()) == 6
    assert not [p for p in os.listdir(out) if p.startswith(".")]  # no temp file left behind


def test_nothing_to_export_writes_no_file(world):
    hub, a, _, out = world
    assert export_bundle(a, out, destination=hub.device_id).path is None
    assert os.listdir(out) == []


def test_a_bundle_without_a_destination_is_not_written(world):
    _, a, _, out = world
    activity(a, "L1", 2)
    with pytest.raises(BundleError, match="sealed to the one server it is for"):
        export_bundle(a, out)
    assert os.listdir(out) == []


def test_import_brings_events_and_records(world):
    hub, a, _, out = world
    records.set_fields(a.db, "learner", "L1", {"name": "Amina", "class_id": "C1"})
    activity(a, "L1", 3)
    report = import_bundle(hub, export_bundle(a, out, destination=hub.device_id).path)
    assert (report.events, report.new, report.origin) == (4, 4, a.device_id)
    assert records.get(hub.db, "learner", "L1") == {"id": "L1", "name": "Amina", "class_id": "C1"}
    assert truth(hub)["events"] == truth(a)["events"]


def test_import_twice_changes_nothing(world):
    hub, a, _, out = world
    records.set_fields(a.db, "learner", "L1", {"name": "Amina"})
    activity(a, "L1", 3)
    path = export_bundle(a, out, destination=hub.device_id).path
    import_bundle(hub, path)
    before = dump(hub)
    assert import_bundle(hub, path).new == 0
    assert dump(hub) == before


def test_a_then_b_equals_b_then_a(world, tmp_path):
    hub, a, b, out = world
    records.set_fields(a.db, "learner", "L1", {"name": "Amina"})
    records.set_fields(b.db, "learner", "L2", {"name": "Bilal"})
    records.set_fields(b.db, "learner", "L2", {"name": "Bilal K.", "class_id": "CB"})
    activity(a, "L1", 3)
    activity(b, "L2", 2)
    other = server(tmp_path, "Hub 2", role="hub")
    enrol(other, a, b)
    to_hub, to_other = [[export_bundle(s, out, destination=h.device_id).path for s in (a, b)] for h in (hub, other)]
    import_bundle(hub, to_hub[0]), import_bundle(hub, to_hub[1])
    import_bundle(other, to_other[1]), import_bundle(other, to_other[0])
    assert truth(hub) == truth(other)
    assert records.get(other.db, "learner", "L2") == {"id": "L2", "name": "Bilal K.", "class_id": "CB"}


def test_a_later_bundle_first_leaves_a_gap_that_the_earlier_one_fills(world):
    hub, a, _, out = world
    activity(a, "L1", 3)
    first = export_bundle(a, out, destination=hub.device_id).path
    activity(a, "L1", 4, lesson="m")
    second = export_bundle(a, out, since_vector={a.device_id: 3}, destination=hub.device_id).path
    import_bundle(hub, second)
    assert version_vector(hub.db).get(a.device_id, 0) == 0  # 4..7 held, but 1..3 missing
    import_bundle(hub, first)
    assert version_vector(hub.db)[a.device_id] == 7
    assert truth(hub)["events"] == truth(a)["events"]


def test_replayed_old_bundle_changes_nothing(world):
    hub, a, _, out = world
    activity(a, "L1", 2)
    old = export_bundle(a, out, destination=hub.device_id).path
    activity(a, "L1", 2, lesson="m")
    import_bundle(hub, old)
    import_bundle(hub, export_bundle(a, out, since_vector={a.device_id: 2}, destination=hub.device_id).path)
    before = dump(hub)
    assert import_bundle(hub, old).new == 0
    assert dump(hub) == before


def test_concurrent_edits_of_one_learner_give_the_same_result_everywhere(world):
    hub, a, b, out = world
    records.set_fields(a.db, "learner", "L1", {"name": "Amina", "pin_hash": "hash-1111"})
    import_bundle(hub, export_bundle(a, out, destination=hub.device_id).path)
    # Apart, the school that made her and the coordinator at the hub edit the same learner.
    records.set_fields(a.db, "learner", "L1", {"name": "Amina B.", "class_id": "C2"})
    records.set_fields(hub.db, "learner", "L1", {"name": "Aminata", "pin_hash": "hash-2222"})
    import_bundle(hub, export_bundle(a, out, since_vector={a.device_id: 1}, destination=hub.device_id).path)
    import_bundle(a, export_bundle(hub, out, since_vector=holds(a.db), destination=a.device_id).path)
    results = {json.dumps(records.get(s.db, "learner", "L1"), sort_keys=True) for s in (hub, a)}
    assert len(results) == 1 and records.get(b.db, "learner", "L1") is None  # she is A's, not B's
    edits = [(hlc, dev, json.loads(body)["fields"]["name"]) for hlc, dev, body in hub.db.execute(
        "SELECT hlc, device_id, body FROM events WHERE kind = 'record.set'")]
    edits = [edit for edit in edits if edit[2] != "Amina"]  # the two made apart
    assert sorted(name for _, _, name in edits) == ["Amina B.", "Aminata"]
    assert records.get(a.db, "learner", "L1") == {  # field by field: the later name, the only edits of the rest
        "id": "L1", "name": max(edits)[2], "pin_hash": "hash-2222", "class_id": "C2"}


def test_a_deletion_syncs_and_never_resurrects(world):
    hub, a, b, out = world
    records.set_fields(a.db, "learner", "L1", {"name": "Amina"})
    import_bundle(hub, export_bundle(a, out, destination=hub.device_id).path)
    records.delete(a.db, "learner", "L1")
    records.set_fields(hub.db, "learner", "L1", {"name": "Amina again"})  # a later edit at the hub
    import_bundle(hub, export_bundle(a, out, since_vector={a.device_id: 1}, destination=hub.device_id).path)
    assert records.get(hub.db, "learner", "L1") is None
    back = export_bundle(hub, out, since_vector=holds(a.db), destination=a.device_id)
    assert back.events >= 1  # the hub's edit goes to her school, and loses there too
    import_bundle(a, back.path)
    assert records.get(a.db, "learner", "L1") is None


# --- refusals -------------------------------------------------------------------------------

@pytest.fixture
def one_bundle(world):
    hub, a, _, out = world
    records.set_fields(a.db, "learner", "L1", {"name": "Amina"})
    activity(a, "L1", 4)
    return hub, a, export_bundle(a, out, destination=hub.device_id).path


def refused(hub, path, reason: str) -> None:
    before, files = dump(hub), db_files(hub)
    with pytest.raises(BundleError, match=reason or None):
        import_bundle(hub, path)
    assert dump(hub) == before and db_files(hub) == files


def test_a_truncated_bundle_is_refused_at_every_length(one_bundle, tmp_path):
    hub, _, path = one_bundle
    data = path.read_bytes()
    cut = tmp_path / "cut.kitsync"
    before, files = dump(hub), db_files(hub)
    for length in range(0, len(data), 7):
        cut.write_bytes(data[:length])
        with pytest.raises(BundleError):
            import_bundle(hub, cut)
    refused(hub, cut, "")
    assert dump(hub) == before and db_files(hub) == files


def test_a_byte_changed_anywhere_is_refused(one_bundle, tmp_path):
    hub, _, path = one_bundle
    data = path.read_bytes()
    bad = tmp_path / "bad.kitsync"
    before, files = dump(hub), db_files(hub)
    for offset in range(len(data)):
        bad.write_bytes(data[:offset] + bytes([data[offset] ^ 0x5A]) + data[offset + 1:])
        with pytest.raises(BundleError):
            import_bundle(hub, bad)
    assert dump(hub) == before and db_files(hub) == files
    assert import_bundle(hub, path).new == 5  # the intact one still goes in


def test_extra_bytes_before_or_after_are_refused(one_bundle, tmp_path):
    hub, _, path = one_bundle
    for name, data in (("pre", b"x" + path.read_bytes()), ("post", path.read_bytes() + b"\0")):
        (tmp_path / name).write_bytes(data)
        refused(hub, tmp_path / name, "")


def test_unknown_school_is_refused(one_bundle, tmp_path):
    hub, a, path = one_bundle
    stranger = server(tmp_path, "Other Hub", role="hub")
    refused(stranger, path, "sealed for Hub")  # it does not even open there
    manifest, chunks = read_manifest(path, hub)  # sealed to it by anyone, A's bundle is still A's
    refused(stranger, forge(tmp_path / "s.kitsync", a.key(), {**manifest, "destination": stranger.device_id}, chunks,
                            to=stranger), "not enrolled")


def test_signature_by_another_key_is_refused(one_bundle, tmp_path):
    hub, a, path = one_bundle
    manifest, chunks = read_manifest(path, hub)
    forged = forge(tmp_path / "f.kitsync", SigningKey.generate("impostor"), manifest, chunks, to=hub)
    refused(hub, forged, "signature does not match")


def test_unknown_format_version_is_refused(one_bundle, tmp_path):
    hub, a, path = one_bundle
    manifest, chunks = read_manifest(path, hub)
    newer = forge(tmp_path / "v2.kitsync", a.key(), {**manifest, "version": 3}, chunks, to=hub)
    refused(hub, newer, "format version 3 is unknown")


def test_a_school_forging_another_schools_device_is_refused(world, tmp_path):
    hub, a, b, out = world
    activity(a, "L1", 2)
    manifest, chunks = read_manifest(export_bundle(a, out, destination=hub.device_id).path, hub)
    # School B rewrites A's events as its own bundle: its signature is valid, the claim is not.
    forged = {**manifest, "origin": {**manifest["origin"], "device_id": b.device_id, "key_id": b.device_id}}
    refused(hub, forge(tmp_path / "x.kitsync", b.key(), forged, chunks, to=hub), "may only send its own events")
    # Hiding the claim in the events while the manifest says B's device is caught too.
    lying = {**forged, "covers": {b.device_id: [0, 2]}}
    refused(hub, forge(tmp_path / "y.kitsync", b.key(), lying, chunks, to=hub), "not covered")


def test_a_bundle_with_a_gap_or_a_bad_event_is_refused(one_bundle, tmp_path):
    hub, a, path = one_bundle
    manifest, chunks = read_manifest(path, hub)
    name, data = next(iter(chunks.items()))
    lines = data.splitlines(keepends=True)
    refused(hub, forge(tmp_path / "gap.kitsync", a.key(), {**manifest, "counts": {"events": 4, "learners": 1},
                                                           "covers": {a.device_id: [0, 4]}},
                       {name: lines[0] + b"".join(lines[2:])}, to=hub), "expected seq 2")
    event = json.loads(lines[1])
    event["body"] = ["not", "an", "object"]
    tampered = lines[0] + json.dumps(event).encode() + b"\n" + b"".join(lines[2:])
    refused(hub, forge(tmp_path / "body.kitsync", a.key(), manifest, {name: tampered}, to=hub), "body is not a JSON object")


def test_a_bundle_addressed_to_another_server_is_refused(world, tmp_path):
    hub, a, _, out = world
    activity(a, "L1", 1)
    other = server(tmp_path, "Other Hub", role="hub")
    enrol(other, a)
    path = export_bundle(a, out, destination=hub.device_id).path
    refused(other, path, "sealed for Hub")
    # Sealed to the other hub by someone holding it, the signed manifest still names the first.
    manifest, chunks = read_manifest(path, hub)
    refused(other, forge(tmp_path / "r.kitsync", a.key(), manifest, chunks, to=other), "addressed to")


def test_a_hub_may_not_invent_events_of_the_receiving_school(world, tmp_path):
    hub, a, _, out = world
    activity(a, "L1", 1)
    manifest, chunks = read_manifest(export_bundle(a, out, destination=hub.device_id).path, hub)
    name, data = next(iter(chunks.items()))
    line = json.loads(data)
    made_up = {**line, "uid": f"{a.device_id}:2", "seq": 2}
    forged = {**manifest, "origin": {**manifest["origin"], "device_id": hub.device_id, "key_id": hub.device_id},
              "covers": {a.device_id: [1, 2]}, "destination": a.device_id}
    refused(a, forge(tmp_path / "h.kitsync", hub.key(), forged, {name: json.dumps(made_up).encode() + b"\n"}, to=a),
            "never made")


# --- a crash in the middle --------------------------------------------------------------------

KILL_SCRIPT = """
import sys
from kit.core.config import DataDir
from kit.core.instance import open_instance
from kit.sync.bundle import import_bundle
from pathlib import Path
import_bundle(open_instance(DataDir(Path(sys.argv[1]))), sys.argv[2])
"""


def test_kill_9_during_import_leaves_a_consistent_database_and_reimport_completes(world):
    hub, a, _, out = world
    records.set_fields(a.db, "learner", "L1", {"name": "Amina"})
    bulk_events(a, 150_000)
    path = export_bundle(a, out, destination=hub.device_id).path
    wal = hub.data.db_path.with_name("kit.db-wal")
    start = wal.stat().st_size if wal.exists() else 0
    proc = subprocess.Popen([sys.executable, "-c", KILL_SCRIPT, str(hub.data.root), str(path)])
    deadline = time.time() + 60
    while proc.poll() is None and time.time() < deadline:  # wait until it is writing
        if wal.exists() and wal.stat().st_size > start + (2 << 20):
            break
        time.sleep(0.005)
    assert proc.poll() is None, "the import finished before it could be killed; make the bundle larger"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    hub.db.conn.close()
    from kit.core.instance import open_instance
    again = open_instance(hub.data)
    assert again.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert again.db.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0  # all or nothing
    assert import_bundle(again, path).new == 150_001
    assert records.get(again.db, "learner", "L1") == {"id": "L1", "name": "Amina"}
    again.close()


def test_a_destination_that_cannot_be_written_is_one_clear_error(tmp_path):
    school = server(tmp_path, "school")
    activity(school, "L1", 2)
    not_a_folder = tmp_path / "afile"
    not_a_folder.write_text("x")
    with pytest.raises(BundleError, match="cannot write .*check the stick or the folder"):
        export_bundle(school, not_a_folder / "x.kitsync", destination=school.device_id)


def test_a_range_lost_on_the_way_to_the_hub_is_sent_again_after_the_hubs_answer(world):
    """A stick that never reaches the hub: the hub's next answer (a bundle even with nothing
    new, carrying what it holds) makes the school send that range again."""
    from kit.sync.bundle import export_for
    hub, a, _, out = world
    lost, stick = out / "lost", out / "stick"
    lost.mkdir(), stick.mkdir()
    activity(a, "L1", 3)
    export_for(a, lost, hub.device_id)                 # this bundle never arrives
    for visit in range(2):
        activity(a, "L1", 1, lesson=f"v{visit}")
        import_bundle(hub, export_for(a, stick, hub.device_id).path)
        answer = export_for(hub, stick, a.device_id)    # nothing new for A: still an answer
        assert answer.path is not None and answer.events == 0
        import_bundle(a, answer.path)
    assert version_vector(hub.db)[a.device_id] == version_vector(a.db)[a.device_id]


def test_a_bad_event_in_the_second_chunk_leaves_none_of_the_first_chunks_events(world, tmp_path):
    from kit.sync.bundle import EVENTS_PER_MEMBER
    hub, a, _, out = world
    bulk_events(a, EVENTS_PER_MEMBER + 10)          # two members, as the export cuts them
    manifest, chunks = read_manifest(export_bundle(a, out, destination=hub.device_id).path, hub)
    assert [m["events"] for m in manifest["members"]] == [EVENTS_PER_MEMBER, 10]
    first, second = manifest["members"][0]["name"], manifest["members"][1]["name"]
    lines = chunks[second].splitlines(keepends=True)
    event = json.loads(lines[5])
    event["body"] = ["not", "an", "object"]
    lines[5] = json.dumps(event).encode() + b"\n"
    bad = forge(tmp_path / "second-chunk.kitsync", a.key(), manifest,
                {first: chunks[first], second: b"".join(lines)}, to=hub)
    refused(hub, bad, f"{second} line 6: the body is not a JSON object")
    assert hub.db.execute("SELECT COUNT(*) FROM events WHERE device_id = ?", [a.device_id]).fetchone()[0] == 0

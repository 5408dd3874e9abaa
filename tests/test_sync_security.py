"""Sync under attack: what an impostor hub, a dishonest school or a hostile USB stick can do,
each shown to work against an earlier kit before it was fixed. Nothing here may ever pass again."""

from __future__ import annotations

import hashlib
import json
import os
import threading
import tracemalloc
import zipfile
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from click.testing import CliRunner

from kit.core import eventlog, records, roster
from kit.cli import main
from kit.core.errors import BundleError, RosterError, SyncError, TrustError
from kit.core.eventlog import version_vector
from kit.core.events import PAYLOADS, RecordSet
from kit.core.keys import SigningKey, trust, trusted_key
from kit.sync import auth, enrol as enrolment
from kit.sync.bundle import export_bundle, import_bundle
from kit.sync.scope import holds
from kit.sync.client import pull, push
from kit.sync.usb import envelope, visit
from netlink import self_signed, served, tls_front
from syncworld import activity, db_files, dump, forge, read_manifest, server, truth

FAST = {"backoff": 0.01, "max_backoff": 0.02, "attempts": 2}


def refused(inst, path, reason: str) -> None:
    """The bundle is refused with `reason`, and not one byte of the database changed."""
    before, files = dump(inst), db_files(inst)
    with pytest.raises(BundleError, match=reason):
        import_bundle(inst, path)
    assert dump(inst) == before and db_files(inst) == files


def relay(src, dst, out, hub=None) -> None:
    """What the other side lacks, from src to dst (through a bundle file)."""
    made = export_bundle(src, out / f"{src.device_id}-to-{dst.device_id}.kitsync", holds(dst.db),
                         destination=dst.device_id)
    if made.path:
        import_bundle(dst, made.path)


# --- H1: a machine at the hub's address --------------------------------------------------------

class FakeHub:
    """Anything answering HTTP at the hub's address. `answer(method, path, body)` gives
    (status, body[, headers]); answers are signed with `key` when one is given."""

    def __init__(self, answer, key: "SigningKey | None" = None):
        self.answer, self.key, self.requests = answer, key, []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def reply(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.requests.append((self.command, self.path, body))
                status, data, *extra = fake.answer(self.command, self.path, body)
                headers = {"Content-Type": "application/json", "Content-Length": str(len(data))}
                if fake.key:
                    headers.update(auth.sign_answer(fake.key, self.command, self.path, self.headers, status, data))
                headers.update(*extra)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = reply

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def sent(self, method: str) -> list:
        return [r for r in self.requests if r[0] == method]


@contextmanager
def fake_hub(answer, key=None):
    fake = FakeHub(answer, key)
    try:
        yield fake
    finally:
        fake.server.shutdown()
        fake.server.server_close()


def hub_like(hub_id: str, packs: list, payload: bytes = b"#!/bin/sh\necho owned\n"):
    """Answers shaped like a hub's: it names the real hub, holds nothing, offers `packs`."""
    uploaded = {"bytes": 0}

    def answer(method, path, body):
        if path.endswith("/hello"):
            return 200, json.dumps({"device_id": hub_id, "name": "Hub", "role": "hub", "vector": {}}).encode()
        if path.endswith("/done"):
            return 200, b'{"events": 0, "new": 0}'
        if path.startswith("/sync/push/"):
            uploaded["bytes"] += len(body)
            return 200, json.dumps({"received": uploaded["bytes"]}).encode()
        if path == "/sync/pull":
            return 200, b'{"name": null, "size": 0, "events": 0}'
        if path == "/sync/packs":
            return 200, json.dumps({"packs": packs}).encode()
        if path.startswith("/sync/packs/"):
            return 200, payload
        return 404, b"{}"
    return answer


def evil_pack(**fields) -> dict:
    payload = b"#!/bin/sh\necho owned\n"
    return {"file": "mini-9.9.9.kitpack", "id": "mini", "version": "9.9.9", "size": len(payload),
            "sha256": hashlib.sha256(payload).hexdigest(), **fields}


def school_with_a_roster(inst) -> None:
    klass = roster.create_class(inst.db, "CP1")
    roster.add_learner(inst.db, klass.id, "Amina", pin="1234")


def test_an_unsigned_impostor_at_the_hub_address_learns_nothing_and_plants_nothing(world, tmp_path):
    hub, a, _, _ = world
    school_with_a_roster(a)
    outside = tmp_path / "outside"
    outside.mkdir()
    escape = str(outside / "dropped")
    with fake_hub(hub_like(hub.device_id, [evil_pack(file=escape)])) as fake:
        with pytest.raises(SyncError, match="without a hub's signature"):
            push(a, fake.url, **FAST)
        with pytest.raises(SyncError, match="without a hub's signature"):
            pull(a, fake.url, **FAST)
    assert [(m, p) for m, p, _ in fake.requests] == [("POST", "/sync/hello")] * 2  # nothing sent, nothing fetched
    assert list(outside.iterdir()) == [] and not list(a.data.tmp_dir.rglob("*.part"))


def test_an_impostor_signing_with_its_own_key_is_not_the_enrolled_hub(world):
    hub, a, _, _ = world
    school_with_a_roster(a)
    with fake_hub(hub_like(hub.device_id, []), key=SigningKey.generate("Hub")) as fake:
        with pytest.raises(TrustError, match="not a hub enrolled here"):
            push(a, fake.url, **FAST)
    assert fake.sent("PUT") == [] and len(fake.requests) == 1


def test_a_genuine_hub_answer_replayed_for_another_request_is_refused(world):
    hub, a, _, _ = world
    with served(hub.data) as url:  # capture one real, signed answer of the hub
        import http.client
        body = b"{}"
        conn = http.client.HTTPConnection(*url.rsplit("//", 1)[1].split(":"))
        conn.request("POST", "/sync/hello", body=body, headers=auth.sign(a.key(), "POST", "/sync/hello", body))
        response = conn.getresponse()
        captured = response.read(), {h: response.headers[h] for h in (auth.KEY, auth.SIGNATURE)}
        conn.close()
    with fake_hub(lambda method, path, body: (200, captured[0], captured[1])) as fake:
        with pytest.raises(SyncError, match="not signed by hub"):
            push(a, fake.url, **FAST)
    assert fake.sent("PUT") == []


@pytest.mark.parametrize("listing", [
    evil_pack(file="{escape}"),                          # ../../../outside/dropped, from the pack folder
    evil_pack(file="mini-9.9.9.kitpack/{escape}"),
    evil_pack(file="../mini-9.9.9.kitpack"),
    evil_pack(id="other"),                               # a good name, for another pack than it says
    evil_pack(file="Mini-9.9.9.kitpack", id="Mini"),
    evil_pack(size=-5),
    evil_pack(size=1 << 40),
    evil_pack(sha256="../x"),
    "mini-9.9.9.kitpack",
], ids=["dotdot", "dotdot-after-name", "dotdot-before-name", "other-id", "capitals", "negative-size",
        "huge-size", "bad-sha", "not-an-object"])
def test_a_hub_listing_a_pack_under_a_bad_name_or_size_is_refused_before_any_file_is_written(world, tmp_path,
                                                                                             listing):
    from kit.content.install import install_pack
    from kit.content.pack import build_pack
    from conftest import MINI
    hub, a, _, _ = world
    install_pack(a.data, a.db, build_pack(MINI, tmp_path, a.key()), update_search=False)  # mini 1.0.0 is here
    outside = tmp_path / "outside"
    outside.mkdir()
    if isinstance(listing, dict):
        escape = os.path.relpath(outside / "dropped", a.data.tmp_dir / "sync-packs")
        listing = {**listing, "file": listing["file"].format(escape=escape)}
    # Signed with the hub's own key: a broken or stolen hub still cannot write outside its folder.
    with fake_hub(hub_like(hub.device_id, [listing]), key=hub.key()) as fake:
        with pytest.raises(SyncError) as caught:
            pull(a, fake.url, **FAST)
    assert "\n" not in str(caught.value) and "sync-packs" not in str(caught.value)
    assert not [r for r in fake.requests if r[1].startswith("/sync/packs/")]
    assert not list(a.data.root.rglob("*.part")) and list(outside.iterdir()) == []


def test_kit_sync_auto_keeps_trying_through_impostors_and_bad_answers(world):
    hub, a, _, _ = world
    school_with_a_roster(a)
    with fake_hub(hub_like(hub.device_id, [])) as unsigned:
        with fake_hub(hub_like(hub.device_id, [evil_pack(file="../x")]), key=hub.key()) as bad_listing:
            for url in (unsigned.url, bad_listing.url):
                out = CliRunner().invoke(main, ["sync", "auto", "--hub", url, "--rounds", "2", "--interval", "0",
                                                "--data", str(a.data.root)])
                assert out.exit_code == 0 and out.exception is None, out.output
                lines = out.output.strip().splitlines()
                assert len(lines) == 2 and all(" not synced: " in line for line in lines), out.output
                assert "Traceback" not in out.output


def test_every_answer_of_the_hub_is_signed_even_a_refusal(world):
    import http.client
    hub, a, _, _ = world
    stranger = SigningKey.generate("stranger")
    with served(hub.data) as url:
        for key, status in ((a.key(), 200), (stranger, 403)):
            headers = auth.sign(key, "POST", "/sync/hello", b"{}")
            conn = http.client.HTTPConnection(*url.rsplit("//", 1)[1].split(":"))
            conn.request("POST", "/sync/hello", body=b"{}", headers=headers)
            response = conn.getresponse()
            data = response.read()
            conn.close()
            key_id, signature = auth.answer_signer(response.headers)
            assert response.status == status and key_id == hub.device_id
            assert hub.key().public.verify(signature, auth.answer_text(
                "POST", "/sync/hello", headers[auth.TIME], headers[auth.NONCE], status, data))


def test_push_and_pull_work_over_https_and_refuse_an_untrusted_certificate(world, tmp_path, monkeypatch):
    hub, a, b, _ = world
    klass = roster.create_class(a.db, "CP", code="1234")
    amina = roster.add_learner(a.db, klass.id, "Amina", pin="1234")
    activity(a, amina.id, 3)
    cert, key = self_signed(tmp_path)
    with served(hub.data) as url, tls_front(url, cert, key) as https_url:
        with pytest.raises(SyncError, match="did not answer"):
            push(a, https_url, **FAST)  # the certificate is nobody this machine trusts
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert push(a, https_url, **FAST).pushed_new == 5
        roster.set_secret(hub.db, amina.id, pin="4321")  # the coordinator resets her PIN
        assert pull(a, https_url, **FAST).pulled_new == 1
        assert pull(b, https_url, **FAST).pulled_new == 0  # she is none of B's business
    assert truth(a)["records"] == truth(hub)["records"]


# --- H4: one school rewriting another's roster -------------------------------------------------

@pytest.fixture
def rosters(world):
    """School B's class and learners at the hub, and at A as a district synced before schools
    held only their own learners left them (copied, as an unscoped hub relayed them)."""
    hub, a, b, out = world
    klass = roster.create_class(b.db, "B-CM2", code="4444")
    victim = roster.add_learner(b.db, klass.id, "Yasmine", pin="8765")
    other = roster.add_learner(b.db, klass.id, "Omar", pin="1212")
    relay(b, hub, out)
    records.merge(a.db, eventlog.events_after(b.db, {}))
    assert roster.get_learner(a.db, victim.id) is not None
    return klass, victim, other


def test_a_school_cannot_change_another_schools_learners_at_home(world, rosters):
    hub, a, b, out = world
    klass, victim, other = rosters
    with pytest.raises(RosterError, match="belongs to another server"):
        roster.set_secret(a.db, victim.id, pin="0000")
    with pytest.raises(RosterError, match="belongs to another server"):
        roster.remove_learner(a.db, other.id)
    with pytest.raises(RosterError, match="belongs to another server"):
        records.set_fields(a.db, "class", klass.id, {"self_register": True})
    roster.set_secret(b.db, victim.id, pin="1111")  # its own school may
    roster.set_secret(hub.db, victim.id, pin="2222")  # and so may the coordinator at the hub


@pytest.mark.parametrize("kind, body", [
    ("record.set", {"kind": "learner", "id": "VICTIM", "fields": {"pin_hash": "forged-hash-of-0000"}}),
    ("record.set", {"kind": "learner", "id": "VICTIM", "fields": {"class_id": "somewhere-else"}}),
    ("record.delete", {"kind": "learner", "id": "OTHER"}),
    ("record.set", {"kind": "class", "id": "CLASS", "fields": {"name": "Hijacked", "self_register": True}}),
    ("record.delete", {"kind": "class", "id": "CLASS"}),
], ids=["pin", "class", "delete-learner", "class-fields", "delete-class"])
def test_a_bundle_changing_another_schools_records_is_refused_whole(world, rosters, kind, body, try_code):
    hub, a, b, out = world
    klass, victim, other = rosters
    activity(a, "a-learner", 2)  # honest events in the same bundle do not carry it in
    ids = {"VICTIM": victim.id, "OTHER": other.id, "CLASS": klass.id}
    # A modified kit at A writes the event anyway; A's key signs it as its own.
    records.record(a.db, PAYLOADS[kind].from_body({**body, "id": ids[body["id"]]}),
                   learner_id=ids[body["id"]] if body["kind"] == "learner" else None)
    refused(hub, export_bundle(a, out, destination=hub.device_id).path, "a school may only change its own records")
    relay(hub, b, out)
    assert try_code(b.db, victim.id, "8765", "10.0.0.1").who is not None
    assert roster.get_learner(b.db, other.id) is not None
    assert roster.get_class(b.db, klass.id) == klass


def test_schools_create_and_change_their_own_records_and_the_hub_moves_learners(world, rosters, try_code):
    hub, a, b, out = world
    klass, victim, other = rosters
    mine = roster.create_class(a.db, "A-CP", code="5555")
    learner = roster.add_learner(a.db, mine.id, "Karim", pin="2222")
    roster.set_secret(a.db, learner.id, pin="3333")
    relay(a, hub, out)
    records.set_fields(hub.db, "learner", victim.id, {"class_id": mine.id, "school": a.device_id})  # to A
    relay(hub, a, out)
    relay(hub, b, out)
    assert [l.name for l in roster.class_learners(a.db, mine.id)] == ["Karim", "Yasmine"]
    with pytest.raises(RosterError, match="belongs to another server"):
        roster.set_secret(b.db, victim.id, pin="4444")  # B made her, but she is A's now
    roster.set_secret(a.db, victim.id, pin="4444")  # her new school resets her PIN
    relay(a, hub, out)
    relay(hub, b, out)
    assert try_code(a.db, victim.id, "4444", "10.0.0.1").who is not None
    assert records.get(a.db, "learner", victim.id) == records.get(hub.db, "learner", victim.id)
    at_b = records.get(b.db, "learner", victim.id)  # the move reached B, her new PIN did not
    assert (at_b["school"], at_b["class_id"]) == (a.device_id, mine.id)
    assert at_b["pin_hash"] != records.get(a.db, "learner", victim.id)["pin_hash"]
    # What A held of B from before districts were scoped went once the hub held it.
    assert roster.get_class(a.db, klass.id) is None and roster.get_learner(a.db, other.id) is None


BAD_FIELDS = [
    ("class", {"name": 5}), ("class", {"name": "x" * 81}), ("class", {"name": ""}), ("class", {"name": "a\nb"}),
    ("class", {"code": "12ab"}), ("class", {"code": 1234}), ("class", {"code": "12"}),
    ("class", {"login": "password"}), ("class", {"self_register": "yes"}), ("class", {"self_register": 1}),
    ("class", {"coaches": "prof"}), ("class", {"coaches": [5]}), ("class", {"is_admin": True}),
    ("learner", {"name": ["Amina"]}), ("learner", {"class_id": None}), ("learner", {"pin_hash": "h" * 201}),
    ("learner", {"picture_hash": {"x": 1}}), ("learner", {"role": "admin"}),
]


@pytest.mark.parametrize("kind, fields", BAD_FIELDS, ids=[f"{k}-{next(iter(f))}-{i}" for i, (k, f) in enumerate(BAD_FIELDS)])
def test_a_record_with_a_field_of_the_wrong_name_type_or_size_is_refused(world, kind, fields):
    hub, a, _, out = world
    records.record(a.db, RecordSet(kind, "R1", {"name": "Fine", **fields}), learner_id="R1" if kind == "learner" else None)
    refused(hub, export_bundle(a, out, destination=hub.device_id).path, "field")
    with pytest.raises(ValueError):
        records.set_fields(a.db, kind, "R2", fields)  # and no kit makes one


def test_sane_records_of_every_field_go_in(world):
    hub, a, _, out = world
    records.set_fields(a.db, "class", "C1", {"name": "CP1", "code": "0042", "login": "picture",
                                             "self_register": True, "coaches": ["prof"]})
    records.set_fields(a.db, "learner", "L1", {"name": "Amina", "class_id": "C1", "pin_hash": "$argon2id$x",
                                               "picture_hash": "$argon2id$y"})
    assert import_bundle(hub, export_bundle(a, out, destination=hub.device_id).path).new == 2
    assert truth(hub)["records"] == truth(a)["records"]


def test_a_bad_value_already_in_a_log_is_never_materialized(tmp_path):
    from kit.server import create_app
    inst = server(tmp_path, "School")
    records.set_fields(inst.db, "class", "C1", {"name": "CP1", "code": "1111"})
    # what an old, unvalidated import may have left in the log
    records.record(inst.db, RecordSet("class", "C1", {"name": 5, "login": "x"}))
    records.record(inst.db, RecordSet("class", "f00", {"name": [1], "code": "0001"}))
    assert records.get(inst.db, "class", "C1") == {"id": "C1", "name": "CP1", "code": "1111"}
    assert [k.name for k in roster.list_classes(inst.db)] == ["", "CP1"]
    records.rebuild(inst.db)
    assert records.get(inst.db, "class", "C1") == {"id": "C1", "name": "CP1", "code": "1111"}
    app = create_app({"DATA": inst.data, "TESTING": True})
    assert app.test_client().get("/signin").status_code == 200
    app.extensions["kit"].close()
    inst.close()


def test_a_record_made_before_origins_were_kept_gets_its_origin_from_the_log(world):
    hub, a, b, out = world
    records.set_fields(a.db, "learner", "L1", {"name": "Amina"})
    relay(a, hub, out)
    hub.db.execute("DELETE FROM record_clocks WHERE field = ?", [records.ORIGIN])  # as an older kit left it
    records.record(b.db, RecordSet("learner", "L1", {"name": "Stolen"}), learner_id="L1")
    refused(hub, export_bundle(b, out, destination=hub.device_id).path, "a school may only change its own records")
    assert records.origin(hub.db, "learner", "L1") == a.device_id


# --- uids: only the maker names an event, and a held event never changes ----------------------

def test_an_event_whose_uid_is_not_device_and_seq_is_refused(world, tmp_path):
    hub, a, _, out = world
    activity(a, "L1", 2)
    manifest, chunks = read_manifest(export_bundle(a, out, destination=hub.device_id).path, hub)
    name, data = next(iter(chunks.items()))
    lines = data.splitlines(keepends=True)
    event = json.loads(lines[1])
    for uid in ("a-client-token-1234", f"{hub.device_id}:2", f"{a.device_id}:7"):
        forged = lines[0] + json.dumps({**event, "uid": uid}).encode() + b"\n"
        refused(hub, forge(tmp_path / "uid.kitsync", a.key(), manifest, {name: forged}, to=hub), "uid is not <device>:<seq>")


def test_a_held_event_arriving_with_other_content_is_refused_not_ignored(world, tmp_path):
    hub, a, _, out = world
    activity(a, "L1", 3)
    import_bundle(hub, export_bundle(a, out, destination=hub.device_id).path)
    activity(a, "L1", 1, lesson="m")
    manifest, chunks = read_manifest(export_bundle(a, out, since_vector={}, destination=hub.device_id).path, hub)  # 1..4, overlapping
    name, data = next(iter(chunks.items()))
    lines = data.splitlines(keepends=True)
    rewritten = json.loads(lines[1])
    rewritten["body"]["lesson"] = "another lesson"
    forged = lines[0] + json.dumps(rewritten).encode() + b"\n" + b"".join(lines[2:])
    refused(hub, forge(tmp_path / "rewritten.kitsync", a.key(), manifest, {name: forged}, to=hub),
            f"event {a.device_id}:2 differs from the one this server holds")
    spaced = lines[0] + json.dumps(json.loads(lines[1]), indent=None, separators=(", ", ": ")).encode() + b"\n"
    honest = forge(tmp_path / "honest.kitsync", a.key(), manifest, {name: spaced + b"".join(lines[2:])}, to=hub)
    assert import_bundle(hub, honest).new == 1  # the same events, written differently, go in


# --- M4: a zip bomb on the stick ----------------------------------------------------------------

def test_a_zip_bomb_manifest_on_the_stick_is_refused_without_inflating_it(tmp_path):
    inst = server(tmp_path, "School")
    stick = tmp_path / "stick"
    (stick / "kit").mkdir(parents=True)
    bomb = stick / "kit" / "aaaa-1-2.kitsync"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        with z.open("manifest.json", "w", force_zip64=True) as m:
            for _ in range(160):
                m.write(bytes(1 << 20))  # 160 MiB of zeros, a few hundred KB on the stick
    assert bomb.stat().st_size < 1 << 20
    tracemalloc.start()
    try:
        assert envelope(bomb) is None
        report = visit(inst, stick)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20
    assert [name for name, _ in report.refused] == [bomb.name] and "limit" in report.refused[0][1]
    inst.close()


# --- a key keeps the role it was trusted for ----------------------------------------------------

def test_trusting_a_key_for_a_second_role_is_refused_and_the_first_role_stays(tmp_path):
    inst = server(tmp_path, "School")
    publisher = SigningKey.generate("Ministry").public
    assert trust(inst.db, publisher, "publisher") and not trust(inst.db, publisher, "publisher")
    for role in ("school", "hub"):
        with pytest.raises(TrustError, match="already trusted here as a publisher"):
            trust(inst.db, publisher, role)
    assert trusted_key(inst.db, publisher.key_id, ("publisher",)) is not None
    with pytest.raises(TrustError, match="already trusted here as a publisher"):
        trust(inst.db, inst.key().public, "hub")  # its own key, trusted at init to sign its packs
    inst.close()


def test_enrolling_a_publishers_key_with_a_code_is_refused_and_spends_no_code(tmp_path):
    hub = server(tmp_path, "Hub", role="hub")
    publisher = SigningKey.generate("Ministry").public
    trust(hub.db, publisher, "publisher")
    code = enrolment.new_code(hub.db)
    key = enrolment.code_key(code)
    text = enrolment.Enrolment("school", "Ministry", publisher).text()  # anyone can send any public key
    with pytest.raises(TrustError, match="already trusted here as a publisher"):
        enrolment.redeem(hub.db, text, enrolment.mac(key, text))
    assert trusted_key(hub.db, publisher.key_id, ("publisher",)) is not None
    school = server(tmp_path, "School")
    real = enrolment.own_enrolment(school).text()
    assert enrolment.redeem(hub.db, real, enrolment.mac(key, real))[0].device_id == school.device_id
    hub.close(), school.close()


def test_kit_keys_trust_says_when_a_key_already_has_another_role(tmp_path):
    inst = server(tmp_path, "School")
    inst.close()
    SigningKey.generate("Ministry").save(tmp_path / "ministry.key")
    run = CliRunner().invoke
    pub, data = str(tmp_path / "ministry.key.pub"), str(inst.data.root)
    assert "Trusted publisher" in run(main, ["keys", "trust", pub, "--data", data]).output
    out = run(main, ["keys", "trust", pub, "--role", "hub", "--data", data])
    assert out.exit_code == 1 and "already trusted here as a publisher" in out.output
    assert len(out.output.strip().splitlines()) == 1


def test_a_key_trusted_only_as_a_publisher_cannot_sign_a_bundle(tmp_path):
    hub = server(tmp_path, "Hub", role="hub")
    ministry = server(tmp_path, "Ministry")             # a server whose key signs packs, not bundles
    trust(hub.db, ministry.key().public, "publisher")
    enrolment.accept(ministry.db, enrolment.own_enrolment(hub), "hub")
    activity(ministry, "m-learner", 3)
    made = export_bundle(ministry, tmp_path / "out", version_vector(hub.db), destination=hub.device_id)
    assert made.events == 3
    refused(hub, made.path, "has not enrolled")
    # The same the other way: a school that trusts a key as a publisher takes no bundle from it.
    school = server(tmp_path, "School")
    trust(school.db, ministry.key().public, "publisher")
    enrolment.accept(ministry.db, enrolment.own_enrolment(school), "school")
    made = export_bundle(ministry, tmp_path / "out", version_vector(school.db), destination=school.device_id)
    refused(school, made.path, "has not enrolled")
    hub.close(), ministry.close(), school.close()


def test_a_key_trusted_only_as_a_school_cannot_publish_a_pack(world, tmp_path):
    from kit.content.install import install_pack, verify_pack
    from kit.content.pack import build_pack
    from kit.core.errors import PackError
    from conftest import MINI, snapshot
    hub, a, _, _ = world
    assert trusted_key(hub.db, a.device_id, ("school",)) is not None
    pack = build_pack(MINI, tmp_path / "packs", a.key())  # school A's device key signs a pack
    before = snapshot(hub.data)
    with pytest.raises(PackError, match="not trusted"):
        verify_pack(hub.db, pack)
    with pytest.raises(PackError, match="not trusted"):
        install_pack(hub.data, hub.db, pack)
    assert snapshot(hub.data) == before

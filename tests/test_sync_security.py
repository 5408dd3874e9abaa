"""Sync under attack: what an impostor hub, a dishonest school or a hostile USB stick can do,
each found by a review and proven before it was fixed. Nothing here may ever pass again."""

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

from kit import roster
from kit.cli import main
from kit.errors import BundleError, SyncError, TrustError
from kit.events import append
from kit.keys import SigningKey, trust, trusted_key
from kit.sync import auth, enrol as enrolment
from kit.sync.bundle import import_bundle
from kit.sync.client import pull, push
from kit.sync.usb import addressed_to, visit
from netlink import self_signed, served, tls_front
from syncworld import activity, db_files, dump, enrol, server, truth

FAST = {"backoff": 0.01, "max_backoff": 0.02, "attempts": 2}


@pytest.fixture
def world(tmp_path):
    hub = server(tmp_path, "Hub", role="hub")
    a, b = server(tmp_path, "School A"), server(tmp_path, "School B")
    enrol(hub, a, b)
    out = tmp_path / "out"
    out.mkdir()
    yield hub, a, b, out
    for inst in (hub, a, b):
        inst.close()


def refused(inst, path, reason: str) -> None:
    """The bundle is refused with `reason`, and not one byte of the database changed."""
    before, files = dump(inst), db_files(inst)
    with pytest.raises(BundleError, match=reason):
        import_bundle(inst, path)
    assert dump(inst) == before and db_files(inst) == files


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
    activity(a, "L1", 3)
    cert, key = self_signed(tmp_path)
    with served(hub.data) as url, tls_front(url, cert, key) as https_url:
        with pytest.raises(SyncError, match="did not answer"):
            push(a, https_url, **FAST)  # the certificate is nobody this machine trusts
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))
        assert push(a, https_url, **FAST).pushed_new == 3
        assert pull(b, https_url, **FAST).pulled_new == 3
    assert truth(b)["events"] == truth(hub)["events"]


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
        assert addressed_to(bomb) is False
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

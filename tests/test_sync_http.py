"""Sync over HTTP: a real waitress hub on loopback, reached through a link that drops."""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from kit.core import records
from kit.cli import main
from kit.core.errors import SyncError, TrustError
from kit.core.eventlog import version_vector
from kit.core.keys import SigningKey, trust
from kit.sync import auth, enrol
from kit.sync.client import CHUNK, GROW_AFTER, MIN_CHUNK, Link, enrol_with_code, pull, push
from conftest import MINI, ROOT
from netlink import BadLink, served
from syncworld import activity, bulk_events, enrol as enrol_both, move_school, server, truth

FAST = {"backoff": 0.01, "max_backoff": 0.05, "attempts": 30}
QUICK_BACKOFF = {"backoff": 0.01, "max_backoff": 0.05}   # the real chunk sizes and number of tries


@pytest.fixture
def world(tmp_path):
    hub = server(tmp_path, "Hub", role="hub")
    a, b = server(tmp_path, "School A"), server(tmp_path, "School B")
    enrol_both(hub, a, b)
    records.set_fields(a.db, "learner", "L1", {"name": "Amina"})
    activity(a, "L1", 30)
    records.set_fields(b.db, "learner", "L2", {"name": "Bilal"})
    activity(b, "L1", 20, lesson="m")  # L1 learns at B too: she is moving there (move_school)
    with served(hub.data) as url:
        yield hub, a, b, url
    for inst in (hub, a, b):
        inst.close()


def everyone_agrees(*servers) -> bool:
    first = truth(servers[0])
    return all(truth(s) == first for s in servers[1:])


def a_holds_its_share(hub, a) -> bool:
    """Once A's learners moved to B, A holds its own events and what led to their leaving:
    everything at the hub but what was never A's (B's learner L2) or came after."""
    events = truth(a)["events"]
    return set(events) <= set(truth(hub)["events"]) and not any(e[5] == "L2" for e in events) \
        and all(e in events for e in truth(hub)["events"] if e[1] == a.device_id)


def test_push_and_pull_bring_two_schools_and_the_hub_to_the_same_state(world):
    hub, a, b, url = world
    assert push(a, url).pushed_new == 31
    assert push(b, url).pushed_new == 21
    assert move_school(hub, a, b) == 1  # L1 moves to B
    assert pull(a, url).pulled_new == 21  # what B saw of her before she left A, and her move
    assert pull(b, url).pulled_new == 32  # her whole history from A, and her move
    assert everyone_agrees(hub, b) and a_holds_its_share(hub, a)
    assert not any(e[5] == "L2" for e in truth(a)["events"])  # B's learner never reaches A
    again = push(a, url), pull(a, url)
    assert again[0].pushed_events == 0 and again[1].pulled_events == 0  # nothing lacks: nothing moves


def test_push_and_pull_complete_through_a_link_that_keeps_dropping(world):
    hub, a, b, url = world
    bulk_events(a, 2000)  # a few dozen chunks each way
    link = BadLink(url, cut_chance=0.5, cut_within=3_000, seed=4)
    opts = {**FAST, "chunk": 2048}
    for school in (a, b):
        push(school, link.url, **opts)
    move_school(hub, a, b)  # so that B's pull carries A's 2,000 events
    for school in (a, b):
        pull(school, link.url, **opts)
    link.close()
    assert link.cuts >= 5
    assert everyone_agrees(hub, b) and a_holds_its_share(hub, a)


@pytest.mark.slow
def test_throttled_slow_link_with_cuts_still_syncs(world):
    hub, a, b, url = world
    link = BadLink(url, rate=30_000, latency=0.5, cut_chance=0.3, cut_within=20_000, seed=7)
    opts = {**FAST, "chunk": 8192}
    push(a, link.url, **opts)
    push(b, link.url, **opts)
    move_school(hub, b, a)
    pull(a, link.url, **opts)
    link.close()
    assert everyone_agrees(hub, a) and truth(hub)["events"] != truth(b)["events"]


def test_an_interrupted_push_resumes_from_where_it_stopped(world):
    hub, a, b, url = world
    bulk_events(a, 3000)
    link = BadLink(url)
    link.fail_after = 25_000  # the link dies part way through the upload
    with pytest.raises(SyncError):
        push(a, link.url, chunk=4096, attempts=2, backoff=0.01)
    (part,) = (hub.data.tmp_dir / "sync-in").glob("*.part")
    size = next(iter(a.db.execute("SELECT size FROM sync_transfers WHERE direction = 'push'")))[0]
    had = part.stat().st_size
    assert 0 < had < size
    link.down, link.fail_after = False, None
    report = push(a, link.url, chunk=4096)
    assert report.resumed and report.bytes_sent == size - had  # not one byte sent twice
    assert report.pushed_new == 3031
    assert truth(hub)["events"] == truth(a)["events"]


def test_an_interrupted_pull_resumes_from_where_it_stopped(world):
    hub, a, b, url = world
    bulk_events(a, 3000)
    push(a, url)
    move_school(hub, a, b)  # a class moves: B pulls its history
    link = BadLink(url)
    link.fail_after = 20_000
    with pytest.raises(SyncError):
        pull(b, link.url, chunk=4096, attempts=2, backoff=0.01)
    part = next((b.data.tmp_dir / "sync-pull").glob("*.part"))
    had = part.stat().st_size
    size = next(iter(b.db.execute("SELECT size FROM sync_transfers WHERE direction = 'pull'")))[0]
    assert 0 < had < size
    link.down, link.fail_after = False, None
    report = pull(b, link.url, chunk=4096)
    assert report.resumed and report.bytes_received == size - had
    assert report.pulled_new == 3031 + 51  # A's events, and the 51 moves


def raw_request(url: str, method: str, path: str, headers: dict, body: bytes = b"") -> int:
    host, port = url.rsplit("//", 1)[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request(method, path, body=body, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


def test_requests_must_be_signed_by_an_enrolled_key_fresh_and_once(world, monkeypatch):
    hub, a, b, url = world
    body = b"{}"
    headers = auth.sign(a.key(), "POST", "/sync/hello", body)
    assert raw_request(url, "POST", "/sync/hello", headers, body) == 200
    assert raw_request(url, "POST", "/sync/hello", headers, body) == 401  # the same request again
    stranger = SigningKey.generate("stranger")
    assert raw_request(url, "POST", "/sync/hello", auth.sign(stranger, "POST", "/sync/hello", body), body) == 403
    other_body = auth.sign(a.key(), "POST", "/sync/hello", body)
    assert raw_request(url, "POST", "/sync/hello", other_body, b'{"x": 1}') == 403  # body changed
    monkeypatch.setattr(auth.time, "time", lambda: 1_000_000.0)
    stale = auth.sign(a.key(), "POST", "/sync/hello", body)
    monkeypatch.undo()
    assert raw_request(url, "POST", "/sync/hello", stale, body) == 401


def test_a_school_pushing_to_a_server_that_is_not_its_hub_stops(world, tmp_path):
    hub, a, b, url = world
    other = server(tmp_path, "Other", role="hub")
    trust(other.db, a.key().public, "school")
    with served(other.data) as other_url:
        with pytest.raises(TrustError, match="not a hub enrolled here"):
            push(a, other_url)
    other.close()


def test_enrolment_with_a_one_time_code(tmp_path):
    hub, school = server(tmp_path, "Hub", role="hub"), server(tmp_path, "New School")
    code = enrol.new_code(hub.db)
    with served(hub.data) as url:
        with pytest.raises(TrustError):
            enrol_with_code(school, url, "WRONG-CODE-00")
        got = enrol_with_code(school, url, code.lower())  # read aloud, typed in any case
        assert got.device_id == hub.device_id
        activity(school, "L9", 2)
        assert push(school, url).pushed_new == 2  # both sides trust each other now
        with pytest.raises(TrustError, match="used or expired"):
            enrol_with_code(server(tmp_path, "Late School"), url, code)
    hub.close(), school.close()


def test_pull_installs_a_newer_pack_the_hub_publishes(world, tmp_path):
    from kit.content.install import install_pack
    from kit.content.pack import build_pack
    hub, a, b, url = world
    publisher = SigningKey.generate("Ministry")
    trust(a.db, publisher.public, "publisher")
    install_pack(a.data, a.db, build_pack(MINI, tmp_path / "v1", publisher), update_search=False)
    newer = tmp_path / "src"
    shutil.copytree(MINI, newer)
    (newer / "course.yml").write_text((newer / "course.yml").read_text(encoding="utf-8").replace(
        "1.0.0", "1.1.0"), encoding="utf-8")
    build_pack(newer, hub.data.root / "publish", publisher)
    link = BadLink(url, cut_chance=0.5, cut_within=30_000, seed=3)
    report = pull(a, link.url, **{**FAST, "chunk": 8192})
    link.close()
    assert report.packs == [("mini-1.1.0.kitpack", "upgraded mini 1.1.0")]
    assert a.db.execute("SELECT version FROM packs WHERE id = 'mini'").fetchone()[0] == "1.1.0"
    assert pull(a, url).packs == []


def test_kit_sync_push_pull_and_auto_commands(world):
    hub, a, b, url = world
    run = CliRunner().invoke
    out = run(main, ["sync", "push", "--hub", url, "--data", str(a.data.root)])
    assert out.exit_code == 0 and "31 new to the hub" in out.output, out.output
    move_school(hub, a, b)
    out = run(main, ["sync", "auto", "--hub", url, "--once", "--data", str(b.data.root)])
    assert out.exit_code == 0 and "pushed 21 new events, pulled 32 new events" in out.output, out.output
    assert version_vector(b.db) == version_vector(hub.db)
    out = run(main, ["sync", "auto", "--hub", "http://127.0.0.1:9", "--once", "--data", str(b.data.root)])
    assert out.exit_code == 1 and "not synced" in out.output


def test_the_kit_app_serves_sync_and_skips_its_csrf_check(world):
    from kit.server import create_app
    hub, a, b, url = world
    app = create_app({"DATA": hub.data, "TESTING": True})
    body = b"{}"
    response = app.test_client().post("/sync/hello", data=body, headers=auth.sign(a.key(), "POST", "/sync/hello", body))
    assert response.status_code == 200 and response.get_json()["device_id"] == hub.device_id
    app.extensions["kit"].close()


def test_kit_sync_enrol_new_code_and_role_commands(tmp_path):
    hub = server(tmp_path, "Hub")
    hub.close()
    run = CliRunner().invoke
    assert "syncs as a school" in run(main, ["sync", "role", "--data", str(hub.data.root)]).output
    assert "syncs as a hub" in run(main, ["sync", "role", "hub", "--data", str(hub.data.root)]).output
    out = run(main, ["sync", "enrol", "--new-code", "--data", str(hub.data.root)])
    code = out.output.strip().rsplit(" ", 1)[1]
    school = server(tmp_path, "School")
    school.close()
    with served(hub.data) as url:
        out = run(main, ["sync", "enrol", "--hub", url, "--code", code, "--data", str(school.data.root)])
    assert out.exit_code == 0 and "Enrolled with hub Hub" in out.output, out.output


def a_school_day(inst) -> None:
    """A 1,000-learner school's day of work, as kit.demo makes it (a bundle of about 250 KB)."""
    from kit.demo import bulk_activity
    bulk_activity(inst.db, 1000, 1, seed=1)


def test_a_link_cut_every_30_kb_on_average_still_carries_a_schools_day_both_ways(world):
    hub, a, b, url = world
    a_school_day(a)
    link = BadLink(url, cut_chance=1.0, cut_within=60_000, seed=11)  # each connection dies within 60 KB
    pushed = push(a, link.url, **QUICK_BACKOFF)
    move_school(hub, a, b)  # A's classes move to B: B's pull carries the day back
    pulled = pull(b, link.url, **QUICK_BACKOFF)
    link.close()
    assert pushed.bytes_sent > 200_000 and pulled.bytes_received > 200_000
    assert link.cuts >= 5
    assert [e for e in truth(hub)["events"] if e[1] == a.device_id] == truth(a)["events"]
    count = "SELECT COUNT(*) FROM events WHERE device_id = ? AND learner_id IS NOT NULL"
    assert b.db.execute(count, [a.device_id]).fetchone() == a.db.execute(count, [a.device_id]).fetchone()


def test_the_chunk_halves_after_each_cut_down_to_its_floor_and_doubles_after_good_requests_up_to_its_ceiling(world):
    hub, a, b, url = world
    link = Link(url, a)
    assert link.chunk == CHUNK == 64 << 10
    sizes = []
    for _ in range(6):
        link.cut()
        sizes.append(link.chunk)
    assert sizes == [32 << 10, 16 << 10, 8 << 10, MIN_CHUNK, MIN_CHUNK, MIN_CHUNK] and MIN_CHUNK == 4 << 10
    for _ in range(GROW_AFTER - 1):
        link.went_through()
    assert link.chunk == MIN_CHUNK
    link.went_through()
    assert link.chunk == 2 * MIN_CHUNK
    for _ in range(10 * GROW_AFTER):
        link.went_through()
    assert link.chunk == CHUNK
    link.went_through(), link.cut()
    assert link.chunk == CHUNK // 2  # a cut also starts the count of good requests over
    for _ in range(GROW_AFTER - 1):
        link.went_through()
    assert link.chunk == CHUNK // 2


def test_kit_sync_push_shows_its_progress_in_bytes(world):
    hub, a, b, url = world
    a_school_day(a)
    out = CliRunner().invoke(main, ["sync", "push", "--hub", url, "--data", str(a.data.root)])
    assert out.exit_code == 0 and "Pushing (bytes)" in out.stderr, out.output


@pytest.fixture
def silent_port():
    """A port that accepts connections (the kernel does) and never answers."""
    listener = socket.create_server(("127.0.0.1", 0))
    yield listener.getsockname()[1]
    listener.close()


@pytest.fixture
def closed_port():
    """A port nothing listens on."""
    probe = socket.create_server(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    return port


@pytest.mark.parametrize("command, port, says", [
    ("push", "closed_port", "connection refused"),
    ("push", "silent_port", "did not answer within"),
    ("pull", "silent_port", "did not answer within"),
])
def test_a_hub_that_is_down_is_reported_within_10_s_in_one_line_with_exit_1(tmp_path, request, command, port, says):
    school = server(tmp_path, "School")
    school.close()
    url = f"http://127.0.0.1:{request.getfixturevalue(port)}"
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "kit", "sync", command, "--hub", url, "--data", str(school.data.root)],
                         capture_output=True, text=True, timeout=20, env={**os.environ, "PYTHONPATH": str(ROOT)})
    took = time.monotonic() - start
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 1 and len(lines) == 1 and says in lines[0] and "check" in lines[0], out.stderr
    assert "again" not in lines[0]  # nothing will try again: no message may say so
    assert took < 10

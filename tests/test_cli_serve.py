"""`kit serve`: a real server on loopback, its banner, and the demo class."""

import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from kit.core import roster
from kit.cli.serve import banner, lan_address, student_url


def test_the_address_for_phones_is_the_lan_address_when_bound_everywhere():
    assert student_url("0.0.0.0", 8080) == f"http://{lan_address()}:8080/"
    assert student_url("192.168.4.1", 80) == "http://192.168.4.1/"
    assert re.fullmatch(r"\d+\.\d+\.\d+\.\d+", lan_address())


def test_the_banner_has_the_address_a_qr_code_and_the_demo_class():
    klass = roster.Klass("id", "Demo", "0000", "pin", True)
    text = banner("http://10.0.0.1:8080/", klass)
    assert "Learners open: http://10.0.0.1:8080/" in text and "class code 0000" in text
    assert "█" in text or "▀" in text


@pytest.fixture
def server(data):
    """`kit serve` as a subprocess on a free loopback port; yields its base URL."""
    proc = subprocess.Popen([sys.executable, "-c", "from kit.cli import main; main()", "serve", "--data", str(data.root),
                             "--host", "127.0.0.1", "--port", "0", "--threads", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.search(r"(http://127\.0\.0\.1:\d+/)", line)
        assert m, f"no address in {line!r}: {proc.stderr.read() if proc.poll() is not None else ''}"
        yield m.group(1), proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def get(url: str, tries: int = 50):
    for _ in range(tries):
        try:
            return urllib.request.urlopen(url, timeout=5)
        except ConnectionError:
            time.sleep(0.1)
    return urllib.request.urlopen(url, timeout=5)


def test_kit_serve_serves_pages_and_makes_the_demo_class(server, inst):
    base, proc = server
    assert get(base + "healthz").read() == b"ok\n"
    page = get(base + "signin").read().decode()
    assert "Demo" in page and '<html lang="fr"' in page
    assert [k.code for k in roster.list_classes(inst.db)] == ["0000"]


def test_kit_serve_hub_takes_the_hub_role_and_answers_sync(data, inst):
    from kit.sync import peers
    proc = subprocess.Popen([sys.executable, "-m", "kit", "serve", "--hub", "--data", str(data.root),
                             "--host", "127.0.0.1", "--port", "0", "--threads", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        base = re.search(r"(http://127\.0\.0\.1:\d+/)", proc.stdout.readline()).group(1)
        assert get(base + "healthz").read() == b"ok\n"
        # An unsigned request to the sync endpoints is refused, not served.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(urllib.request.Request(base + "sync/hello", data=b"{}", method="POST"), timeout=5)
        assert refused.value.code in (401, 403)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert peers.own_role(inst.db) == "hub"
    assert roster.list_classes(inst.db) == []   # a hub makes no demo class


def test_a_huge_request_body_is_refused_before_it_is_read(server):
    """waitress buffers a body before Flask can refuse it: the server must say 413 at once,
    not swallow hundreds of megabytes first (the reviewer's 300 MB POST)."""
    base, _ = server
    get(base + "healthz")
    port = int(base.rsplit(":", 1)[1].strip("/"))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(b"POST /signin HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: %d\r\n\r\n" % (300 << 20))
        conn.sendall(b"a" * (64 << 10))      # a little of the body: the answer must not wait for the rest
        status = conn.recv(200).split(b"\r\n")[0]
    assert b" 413 " in status

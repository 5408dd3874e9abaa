"""`kit serve` keeps its memory small under a classroom's load (docs/design.md: ≤ 80 MB).

Each PIN check takes argon2's 4 MiB on one of the server's threads; glibc would keep that
block in the thread's own arena, 4 MiB and more per thread for as long as the server runs
(kit.server.memory). And each thread's SQLite connection keeps its own page cache.
"""

import gc
import http.cookiejar
import re
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from kit.core.config import DataDir
from kit.server import create_app
from kit.server.memory import freeze_startup, tame_malloc
from kit.server.store import PAGE_CACHE_KIB, get_db
from livesite import make_class, served

THREADS = 8
LEARNERS = 16


def rss_anon_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no RssAnon")


def sign_in(url: str, class_id: str, learner_id: str, pin: str, barrier: threading.Barrier) -> int:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    page_url = f"{url}signin/c/{class_id}/{learner_id}"
    page = opener.open(page_url, timeout=30).read().decode()
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    barrier.wait(timeout=30)      # all at once, as a class does when the teacher says "go"
    body = urllib.parse.urlencode({"csrf": csrf, "pin": pin, "key": "ok"}).encode()
    return opener.open(page_url, data=body, timeout=30).status


@pytest.mark.skipif(not tame_malloc(), reason="the C library is not glibc: its malloc needs no taming")
def test_a_class_signing_in_at_once_leaves_no_hash_memory_behind_in_the_threads(data: DataDir, tmp_path):
    roster = make_class(data, "CP1", "1234", {f"Learner {i}": f"{1000 + i}" for i in range(LEARNERS)})
    with served(data, tmp_path / "serve.log", threads=THREADS) as server:
        before = rss_anon_mb(server.pid)
        barrier = threading.Barrier(LEARNERS)
        statuses = []
        threads = [threading.Thread(target=lambda lid=lid, pin=pin: statuses.append(
            sign_in(server.url, roster.class_id, lid, pin, barrier))) for lid, pin in roster.learners.values()]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        grown = rss_anon_mb(server.pid) - before
    assert statuses == [200] * LEARNERS          # each landed on its home page after the redirect
    # Untamed, each of the 8 threads keeps at least its 4 MiB (32 MB and more).
    assert grown < THREADS * 4 / 2, f"the server grew by {grown:.1f} MB"


def test_every_server_thread_keeps_a_small_sqlite_page_cache(data: DataDir):
    app = create_app({"DATA": data, "TESTING": True})
    sizes = []

    def ask() -> None:
        with app.app_context():
            sizes.append(get_db().execute("PRAGMA cache_size").fetchone()[0])

    try:
        threads = [threading.Thread(target=ask) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        app.extensions["kit"].close()
    assert sizes == [-PAGE_CACHE_KIB] * 3 and PAGE_CACHE_KIB <= 1024


def test_what_the_app_made_at_start_is_left_out_of_later_garbage_collections(data: DataDir):
    app = create_app({"DATA": data})
    try:
        freeze_startup()
        frozen = gc.get_freeze_count()
        # The app's templates environment (and everything else made at start) is set aside:
        # a full collection no longer scans it.
        assert frozen > 10_000
        assert not any(o is app.jinja_env for o in gc.get_objects())
    finally:
        gc.unfreeze()
        app.extensions["kit"].close()

#!/usr/bin/env python3
"""Web server figures, as `name: value` lines for scripts/bench (budgets: docs/design.md).

Everything is measured against a real `kit serve` on loopback serving the sample courses to a
class of 40 learners (tests/livesite.py builds it with the `kit` command):
- bytes of a lesson page as sent with gzip (first visit: HTML + CSS; a later page: HTML);
- 40 keep-alive clients, each signed in as its own learner (fr, ar, en), reading lessons for 20 s, then
  answering quiz questions for 20 s (each answer: GET the question for its tokens, then the
  POST, which is what is timed and counted); then reading lessons again as 40 other learners
  who each carry a school year of history (`*_year`). The server is pinned to one core, as
  the budget says, and this load generator (Python threads) runs on the other;
- the server's memory (VmRSS) idle and after the load; launch to the first 200 on /healthz;
- a cheap phone on 3G, in Chromium through Playwright (CDP network and CPU throttling);
- search over an installed 5,000-lesson library (scripts/generate_library.py).
    .venv/bin/python scripts/bench_server.py [--seconds 20] [--clients 40]
"""

from __future__ import annotations

import argparse
import gzip
import http.client
import os
import random
import re
import socket
import statistics
import sys
import tempfile
import threading
import time
import unicodedata
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests"), str(ROOT / "scripts")]

from generate_library import WORDS, write_course  # noqa: E402
from kit.core.config import DataDir  # noqa: E402
from kit.content import library  # noqa: E402
from kit.content.questions.matching import choices as match_choices  # noqa: E402
from kit.content.questions.model import FULL, Question  # noqa: E402
from kit.content.questions.ordering import shown_order  # noqa: E402
from kit.content.quiz import Quiz  # noqa: E402
from kit.content.search import search  # noqa: E402
from kit.core import roster  # noqa: E402
from kit.core.db import open_db  # noqa: E402
from kit.demo import bulk_activity  # noqa: E402
from kit.core.instance import open_instance  # noqa: E402
from livesite import Roster, Server, install_courses, make_class, sample_sources, served  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE_UA = ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36")
# docs/design.md's cheap phone on regular 3G.
THREE_G = {"offline": False, "latency": 300, "downloadThroughput": 750 * 1024 / 8,
           "uploadThroughput": 250 * 1024 / 8}
CPU_SLOWDOWN = 4
PACK, LANG = "digital-literacy", "fr"           # the course read and answered under load
LANGS = ("fr", "ar", "en")                      # the languages of that course, and of the pages
SERVER_CPU, LOADGEN_CPU = 0, 1


def emit(name: str, value: object) -> None:
    print(f"{name}: {value}", flush=True)


def pct(values: "list[float]", p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


# --- a small HTTP client: keep-alive, cookies, gzip ---------------------------------------

class Client:
    """One phone: a keep-alive connection and its cookies."""

    def __init__(self, url: str, lang: str = LANG):
        parts = urllib.parse.urlsplit(url)
        self.lang = lang
        self.host, self.port = parts.hostname, parts.port
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, fields: "list[tuple[str, str]] | None" = None,
                headers: "dict[str, str] | None" = None) -> "tuple[int, str]":
        head = {"Accept-Encoding": "gzip", "Accept-Language": self.lang, **(headers or {})}
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if fields is not None:
            body = urllib.parse.urlencode(fields)
            head["Content-Type"] = "application/x-www-form-urlencoded"
        self.conn.request(method, path, body=body, headers=head)
        resp = self.conn.getresponse()
        data = resp.read()
        for value in resp.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if resp.getheader("Content-Encoding") == "gzip":
            data = gzip.decompress(data)
        return resp.status, data.decode("utf-8", "replace")

    def close(self) -> None:
        self.conn.close()


def field_value(html: str, name: str) -> str:
    m = re.search(rf'name="{re.escape(name)}" value="([^"]*)"', html)
    if not m:
        raise RuntimeError(f"no field {name} on the page")
    return m.group(1)


@dataclass(frozen=True)
class Visitor:
    """A learner who can sign in: their class, id and PIN."""
    class_id: str
    learner_id: str
    pin: str


def visitors(made: Roster) -> "list[Visitor]":
    return [Visitor(made.class_id, lid, pin) for lid, pin in made.learners.values()]


def sign_in(url: str, who: Visitor, lang: str = LANG) -> Client:
    client = Client(url, lang)
    path = f"/signin/c/{who.class_id}/{who.learner_id}"
    _status, page = client.request("GET", path)
    status, _ = client.request("POST", path, [("csrf", field_value(page, "csrf")), ("pin", who.pin), ("key", "ok")])
    if status != 303:
        raise RuntimeError(f"sign-in of {who.learner_id} gave {status}")
    return client


def year_learners(data: DataDir, n: int, days: int = 252) -> "tuple[list[Visitor], int]":
    """`n` learners with a school year of activity each (kit.demo's simulation over the
    installed courses, inserted in bulk), given PINs: (visitors, events per learner)."""
    inst = open_instance(data)
    try:
        made = bulk_activity(inst.db, n, days, seed=3)
        found = [l for k in roster.list_classes(inst.db) if k.name.startswith("Classe")
                 for l in roster.class_learners(inst.db, k.id)]
        out = []
        for i, learner in enumerate(found):
            pin = f"{5000 + i}"
            roster.set_secret(inst.db, learner.id, pin=pin)
            out.append(Visitor(learner.class_id, learner.id, pin))
    finally:
        inst.close()
    return out, made.events // max(1, made.learners)


def wire_bytes(url: str, path: str, cookie: str = "") -> "tuple[int, int]":
    """(status, bytes received) of one GET with gzip accepted: headers and body, as sent."""
    parts = urllib.parse.urlsplit(url)
    request = (f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\nAccept-Encoding: gzip\r\n"
               f"Accept-Language: {LANG}\r\nConnection: close\r\n" + (f"Cookie: {cookie}\r\n" if cookie else "") + "\r\n")
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as s:
        s.sendall(request.encode())
        chunks = []
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            chunks.append(chunk)
    raw = b"".join(chunks)
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    if "content-encoding: gzip" not in head.lower() and len(raw) > 1000:
        raise RuntimeError(f"{path} was not sent gzipped")
    return int(head.split()[1]), len(raw)


# --- load: N clients, a fixed time -------------------------------------------------------

@dataclass
class Load:
    latencies_ms: list = field(default_factory=list)
    errors: int = 0
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return len(self.latencies_ms) / self.seconds if self.seconds else 0.0


def run_load(clients: "list[Client]", step, seconds: float, warmup: float = 1.0) -> Load:
    """Each client runs `step(client, i)` in its own thread, back to back, for `warmup + seconds`;
    `step` returns the milliseconds of the request it counts (or raises on a wrong answer).
    Only what ends after the warm-up is counted. Bounded by time: every thread stops by itself."""
    load, lock = Load(), threading.Lock()
    start = time.perf_counter() + 0.2
    counted_from, end = start + warmup, start + warmup + seconds

    def worker(client: Client) -> None:
        time.sleep(max(0.0, start - time.perf_counter()))
        i = 0
        while time.perf_counter() < end:
            try:
                ms = step(client, i)
            except Exception:
                ms = None
                client.close()           # a fresh connection for the next try
            i += 1
            with lock:
                if time.perf_counter() >= counted_from:
                    if ms is None:
                        load.errors += 1
                    else:
                        load.latencies_ms.append(ms)

    threads = [threading.Thread(target=worker, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + warmup + 60)
    load.seconds = seconds
    return load


def read_lesson(lessons: "list[str]"):
    def step(client: Client, i: int) -> float:
        t0 = time.perf_counter()
        status, page = client.request("GET", f"/c/{PACK}/{lessons[i % len(lessons)]}")
        ms = (time.perf_counter() - t0) * 1000
        if status != 200 or "<article" not in page:
            raise RuntimeError(f"lesson page gave {status}")
        return ms
    return step


def answer_fields(q: Question, token: str) -> "list[tuple[str, str]]":
    """The form fields of a right answer to `q` as its page (drawn with `token`) asks for it."""
    name = f"a-{q.id}"
    if q.type == "single":
        return [(name, str(next(i for i, a in enumerate(q.answers) if a.credit >= FULL)))]
    if q.type == "multiple":
        return [(name, str(i)) for i, a in enumerate(q.answers) if a.credit > 0]
    if q.type == "truefalse":
        return [(name, str(q.answer).lower())]
    if q.type in ("short", "numeric"):
        full = next(a for a in q.answers if a.credit >= FULL)
        return [(name, full.text if q.type == "short" else f"{full.value:g}")]
    if q.type == "matching":
        choices = match_choices(q)
        return [(f"{name}-{i}", str(choices.index(right))) for i, (_left, right) in enumerate(q.pairs)]
    if q.type == "ordering":
        shown = shown_order(q, token)             # the page lists the items in this order
        return [(f"{name}-{slot}", str(shown.index(slot))) for slot in range(len(q.items))]
    return [(name, "Une réponse pour mon enseignant.")]


def answer_question(lesson_id: str, quizzes: "dict[str, Quiz]"):
    """Each client answers in its own language (short answers differ between languages)."""
    path = f"/c/{PACK}/{lesson_id}/quiz"

    def step(client: Client, i: int) -> float:
        _status, page = client.request("GET", path + "?again=1")
        qid = field_value(page, "question")
        token = field_value(page, f"t-{qid}")
        fields = [("csrf", field_value(page, "csrf")), ("question", qid), (f"t-{qid}", token),
                  *answer_fields(quizzes[client.lang].find(qid), token)]
        t0 = time.perf_counter()
        status, feedback = client.request("POST", path, fields)
        ms = (time.perf_counter() - t0) * 1000
        if status != 200 or "fb right" not in feedback:
            raise RuntimeError(f"answer gave {status}")
        return ms
    return step


def pinned(cpu: int):
    """For preexec_fn: run the server on one core only (docs/design.md's budget is per core)."""
    def pin() -> None:
        os.sched_setaffinity(0, {cpu})
    return pin


# --- the parts ---------------------------------------------------------------------------

def page_bytes(server: Server, data: DataDir, client: Client, lessons: "list[str]") -> None:
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    _status, page = client.request("GET", f"/c/{PACK}/{lessons[0]}")
    css = re.search(r'<link rel="stylesheet" href="([^"]+)"', page).group(1)
    status, first_html = wire_bytes(server.url, f"/c/{PACK}/{lessons[0]}", cookie)
    _status, css_bytes = wire_bytes(server.url, css)
    _status, next_html = wire_bytes(server.url, f"/c/{PACK}/{lessons[1]}", cookie)
    if status != 200:
        raise RuntimeError(f"the lesson page gave {status}")
    emit("lesson_first_bytes", first_html + css_bytes)
    emit("lesson_next_bytes", next_html)
    emit("css_bytes", css_bytes)
    # The budget holds for every lesson, not only the first: the largest sample lesson page.
    sizes = {}
    for lang in LANGS:
        with_lang = f"{cookie}; lang={lang}"
        for pack in ("digital-literacy", "numeracy"):
            for lesson in lesson_ids(data, pack, lang):
                sizes[f"{pack}/{lesson}/{lang}"] = wire_bytes(server.url, f"/c/{pack}/{lesson}", with_lang)[1]
    biggest = max(sizes, key=sizes.get)
    emit("lesson_html_bytes_max", sizes[biggest])
    emit("lesson_html_bytes_max_page", biggest)


def lesson_ids(data: DataDir, pack: str, lang: str) -> "list[str]":
    db = open_db(data.db_path, migrate=False)
    try:
        return [l.lesson_id for l in library.lessons(db, pack, lang)]
    finally:
        db.conn.close()


def installed_quiz(data: DataDir, pack: str, lesson_id: str, lang: str) -> Quiz:
    db = open_db(data.db_path, migrate=False)
    try:
        return library.quiz(db, pack, lesson_id, lang)
    finally:
        db.conn.close()


def phone_3g(server: Server, cookies: "dict[str, str]", lesson_path: str, runs: int = 3) -> None:
    """A cold phone on 3G: the sign-in page, and a signed-in lesson page (median of runs)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not Path(CHROMIUM).exists():
        emit("phone_3g", f"skipped: needs playwright and {CHROMIUM}")
        return
    signin, lesson = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for _ in range(runs):
            signin.append(cold_visit(browser, server.url + "signin", {}))
            lesson.append(cold_visit(browser, server.url + lesson_path.lstrip("/"), cookies))
        browser.close()
    for name, visits in (("signin", signin), ("lesson", lesson)):
        emit(f"phone_3g_{name}_ms", round(statistics.median(v["load_ms"] for v in visits)))
        emit(f"phone_3g_{name}_fcp_ms", round(statistics.median(v["fcp_ms"] for v in visits)))
        emit(f"phone_3g_{name}_bytes", int(statistics.median(v["bytes"] for v in visits)))
        emit(f"phone_3g_{name}_requests", visits[0]["requests"])


def cold_visit(browser, url: str, cookies: "dict[str, str]") -> dict:
    """One visit from an empty cache: navigation start to the load event, first contentful
    paint, and the bytes that crossed the (emulated) network, headers included."""
    ctx = browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True,
                              user_agent=PHONE_UA, locale="fr-FR")
    if cookies:
        ctx.add_cookies([{"name": k, "value": v, "url": url} for k, v in cookies.items()])
    page = ctx.new_page()
    cdp = ctx.new_cdp_session(page)
    seen = {"bytes": 0, "requests": 0}
    cdp.on("Network.loadingFinished", lambda e: seen.__setitem__("bytes", seen["bytes"] + e["encodedDataLength"]))
    cdp.on("Network.requestWillBeSent", lambda e: seen.__setitem__("requests", seen["requests"] + 1))
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
    cdp.send("Network.emulateNetworkConditions", THREE_G)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    page.goto(url, wait_until="load", timeout=60_000)
    if page.url != url:
        raise RuntimeError(f"the phone was sent from {url} to {page.url}")
    for _ in range(50):                   # headless Chromium may paint just after the load event
        timing = page.evaluate("""() => {
            const nav = performance.getEntriesByType('navigation')[0];
            const fcp = performance.getEntriesByName('first-contentful-paint')[0];
            return {load: nav.loadEventEnd, fcp: fcp ? fcp.startTime : -1, status: nav.responseStatus || 200};
        }""")
        if timing["fcp"] >= 0:
            break
        page.wait_for_timeout(100)
    ctx.close()
    if timing["status"] != 200:
        raise RuntimeError(f"{url} gave {timing['status']} on the phone")
    return {"load_ms": timing["load"], "fcp_ms": timing["fcp"], **seen}


def search_figures(tmp: Path, queries_n: int = 200) -> None:
    """Search over a generated 5,000-lesson library, built and installed with the kit command.
    `search_p95_ms_5000` times kit.content.search.search directly (the call /search makes), so
    it is the search itself; `search_http_p95_ms_5000` is the same queries as a signed-in
    learner's /search pages from `kit serve` (one client). Each query is distinct, so none is
    answered from the search's query cache."""
    source = write_course(tmp / "library-src", 5000)
    data = DataDir(tmp / "library")
    install_courses(data.root, [source], tmp / "library-packs")
    reader = visitors(make_class(data, "Library", "8888", {"Reader": "1234"}))[0]
    queries = varied_queries(queries_n)
    # kit serve brings the index up to date at start, as a school's server does.
    with served(data, tmp / "library.log", preexec=pinned(SERVER_CPU)) as server:
        search(data.index_dir, "warm", "fr")            # opens the index, as a server's first search does
        times, found = [], 0
        for q in queries:
            t0 = time.perf_counter()
            result = search(data.index_dir, q, "fr")
            times.append((time.perf_counter() - t0) * 1000)
            found += bool(result.hits)
        emit("search_p50_ms_5000", f"{pct(times, 50):.1f}")
        emit("search_p95_ms_5000", f"{pct(times, 95):.1f}")
        emit("search_max_ms_5000", f"{max(times):.1f}")
        emit("search_queries_with_hits", f"{found}/{len(queries)}")

        client = sign_in(server.url, reader)
        client.request("GET", "/search?q=warm")
        pages = []
        for q in queries:
            t0 = time.perf_counter()
            status, _page = client.request("GET", "/search?" + urllib.parse.urlencode({"q": q}))
            pages.append((time.perf_counter() - t0) * 1000)
            if status != 200:
                raise RuntimeError(f"/search gave {status} for {q!r}")
        client.close()
        emit("search_http_p50_ms_5000", f"{pct(pages, 50):.1f}")
        emit("search_http_p95_ms_5000", f"{pct(pages, 95):.1f}")


def varied_queries(n: int) -> "list[str]":
    """Distinct queries a class might type: one to three words, with or without accents,
    capitals, and a few misspelt (which ask for a 'did you mean')."""
    rng = random.Random(7)
    bare = lambda w: unicodedata.normalize("NFKD", w).encode("ascii", "ignore").decode()  # noqa: E731
    out: dict[str, None] = {}
    for w in WORDS:
        out[w] = None
        out[bare(w).upper()] = None
    while len(out) < n:
        kind = rng.random()
        if kind < 0.5:
            q = " ".join(rng.sample(WORDS, 2))
        elif kind < 0.8:
            q = " ".join(bare(w) for w in rng.sample(WORDS, 3))
        else:
            w = rng.choice([w for w in WORDS if len(w) > 5])
            i = rng.randrange(1, len(w) - 1)
            q = w[:i] + w[i + 1:]                       # a letter left out
        out[q] = None
    return list(out)[:n]


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--seconds", type=float, default=20)
    args.add_argument("--clients", type=int, default=40)
    opts = args.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    pin_server = pinned(SERVER_CPU) if len(cpus) >= 2 else None
    emit("machine_load_1m", f"{os.getloadavg()[0]:.1f}")   # other work on the machine skews what follows
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = DataDir(tmp / "data")
        install_courses(data.root, sample_sources(), tmp / "packs")
        people = visitors(make_class(data, "Bench", "9999", {f"Learner {i:02d}": f"{1000 + i}"
                                                             for i in range(opts.clients)}))
        veterans, per_learner = year_learners(data, opts.clients)
        lessons = lesson_ids(data, PACK, LANG)

        with served(data, tmp / "serve.log", preexec=pin_server) as server:
            emit("cold_start_s", f"{server.started_s:.2f}")
            emit("server_cpus", 1 if pin_server else len(cpus))
            first = sign_in(server.url, people[0])
            page_bytes(server, data, first, lessons)
            emit("rss_mb_idle", f"{rss_mb(server.pid):.1f}")
            phone_3g(server, first.cookies, f"/c/{PACK}/{lessons[0]}")

            # A classroom in the course's three languages, so the server holds what each needs.
            clients = [first] + [sign_in(server.url, who, LANGS[i % len(LANGS)])
                                 for i, who in enumerate(people[1:], 1)]
            if pin_server:
                os.sched_setaffinity(0, {LOADGEN_CPU})  # the load generator keeps off the server's core
            reading = run_load(clients, read_lesson(lessons), opts.seconds)
            emit(f"lesson_rps_{opts.clients}", f"{reading.rps:.0f}")
            emit(f"lesson_p50_ms_{opts.clients}", f"{pct(reading.latencies_ms, 50):.0f}")
            emit(f"lesson_p95_ms_{opts.clients}", f"{pct(reading.latencies_ms, 95):.0f}")
            emit(f"lesson_errors_{opts.clients}", reading.errors)

            quizzes = {lang: installed_quiz(data, PACK, lessons[0], lang) for lang in LANGS}
            answering = run_load(clients, answer_question(lessons[0], quizzes), opts.seconds)
            emit(f"submit_rps_{opts.clients}", f"{answering.rps:.0f}")
            emit(f"submit_p50_ms_{opts.clients}", f"{pct(answering.latencies_ms, 50):.0f}")
            emit(f"submit_p95_ms_{opts.clients}", f"{pct(answering.latencies_ms, 95):.0f}")
            emit(f"submit_errors_{opts.clients}", answering.errors)
            for c in clients:
                c.close()

            # The same classroom later in the year: each learner with a year of history.
            clients = [sign_in(server.url, who, LANGS[i % len(LANGS)]) for i, who in enumerate(veterans)]
            emit("year_events_per_learner", per_learner)
            reading = run_load(clients, read_lesson(lessons), opts.seconds)
            emit(f"lesson_rps_{opts.clients}_year", f"{reading.rps:.0f}")
            emit(f"lesson_p50_ms_{opts.clients}_year", f"{pct(reading.latencies_ms, 50):.0f}")
            emit(f"lesson_p95_ms_{opts.clients}_year", f"{pct(reading.latencies_ms, 95):.0f}")
            emit(f"lesson_errors_{opts.clients}_year", reading.errors)
            for c in clients:
                c.close()
            os.sched_setaffinity(0, cpus)
            emit("rss_mb_after_load", f"{rss_mb(server.pid):.1f}")

        search_figures(tmp)


if __name__ == "__main__":
    main()

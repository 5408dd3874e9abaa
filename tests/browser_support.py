"""Fixtures for the browser tests: a real `kit serve` on loopback, holding the sample courses
and a class of learners (tests/livesite.py), and Debian's Chromium dressed as a cheap phone
(Playwright; never a downloaded browser).

Quizzes are answered from the installed quiz itself (kit.content.library), so a test knows
which answer is right without copying the course's keys into the test.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
from markupsafe import Markup

from kit.core.config import DataDir
from kit.content import library
from kit.content.questions.model import FULL, Question
from kit.content.quiz import Quiz
from kit.core.db import open_db
from livesite import Roster, install_courses, make_class, sample_sources, served

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ANDROID_UA = ("Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
              "Chrome/120.0.0.0 Mobile Safari/537.36")
PHONE_WIDTH, PHONE_HEIGHT = 360, 640
# Fail fast: every page of the kit is served from loopback in a few milliseconds.
STEP_TIMEOUT_MS = 10_000

# One learner per test, so that no test sees another's progress.
PINS = {"Amina": "4821", "Karim": "1357", "Yasmine": "2468", "Omar": "9753",
        "Sara": "8642", "Nadia": "3141", "Leila": "2718", "Hamza": "5173", "Salma": "8306", "Anas": "6402",
        "Youssef": "3907", "Zineb": "6284",
        "Imane": "4096", "Rachid": "7315"}


@dataclass
class Site:
    """The running server the browser tests visit, and who may sign in to it."""
    url: str
    data: DataDir
    roster: Roster

    @property
    def class_name(self) -> str:
        return self.roster.class_name

    def pin(self, name: str) -> str:
        return self.roster.learners[name][1]

    def quiz(self, pack_id: str, lesson_id: str, lang: str) -> Quiz:
        db = open_db(self.data.db_path, migrate=False)
        try:
            found = library.quiz(db, pack_id, lesson_id, lang)
        finally:
            db.conn.close()
        assert found is not None, f"no quiz for {pack_id}/{lesson_id} in {lang}"
        return found

    def lessons(self, pack_id: str, lang: str) -> list[library.LessonInfo]:
        db = open_db(self.data.db_path, migrate=False)
        try:
            return library.lessons(db, pack_id, lang)
        finally:
            db.conn.close()


def require_chromium() -> None:
    """Skip when there is no browser to drive; under CI the browser tests must run."""
    missing = None
    if not CHROMIUM.exists():
        missing = f"{CHROMIUM} is missing (apt-get install chromium; scripts/test does it)"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed (pip install -e '.[test]')"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run under CI: {missing}")
        pytest.skip(missing)


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Iterator[Site]:
    """The sample courses and class CP1 A, served by a real `kit serve` on loopback."""
    require_chromium()
    root = tmp_path_factory.mktemp("browser-site")
    data = DataDir(root / "data")
    install_courses(data.root, sample_sources(), root / "packs")
    roster = make_class(data, "CP1 A", "4321", PINS)
    with served(data, root / "serve.log", threads=4) as server:
        yield Site(server.url, data, roster)


@pytest.fixture(scope="session")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def shots(tmp_path_factory) -> Path:
    """Where screenshots go: $KIT_SHOTS when set (to look at them), else a temp dir."""
    wanted = os.environ.get("KIT_SHOTS")
    if wanted:
        Path(wanted).mkdir(parents=True, exist_ok=True)
        return Path(wanted)
    return tmp_path_factory.mktemp("shots")


@pytest.fixture
def phone(browser) -> Iterator[Callable]:
    """A factory of fresh phones (each its own cookies and cache): phone(locale="fr-FR", js=True)
    gives a Page 360×640, touch, mobile, with that Accept-Language."""
    contexts = []

    def open_phone(locale: str = "fr-FR", js: bool = True):
        ctx = browser.new_context(viewport={"width": PHONE_WIDTH, "height": PHONE_HEIGHT},
                                  device_scale_factor=2, is_mobile=True, has_touch=True,
                                  user_agent=ANDROID_UA, locale=locale, java_script_enabled=js)
        ctx.set_default_timeout(STEP_TIMEOUT_MS)
        contexts.append(ctx)
        return ctx.new_page()

    yield open_phone
    for ctx in contexts:
        ctx.close()


# --- what a learner does ----------------------------------------------------------------

def sign_in(page, site: Site, name: str) -> None:
    """Class → name → four taps on the PIN keypad, as a learner does it."""
    page.goto(site.url)
    page.locator("ul.choices a", has_text=site.class_name).click()
    page.locator("ul.choices a", has_text=name).click()
    for digit in site.pin(name):
        page.locator(f'.keys button[value="{digit}"]').click()
    page.wait_for_url(site.url)


def page_width(page) -> int:
    """How wide the page's content is: more than the screen means a horizontal scroll."""
    return page.evaluate("document.documentElement.scrollWidth")


def html_attrs(page) -> tuple[str, str]:
    """(lang, dir) of the page's <html>."""
    html = page.locator("html")
    return html.get_attribute("lang"), html.get_attribute("dir")


def label(html: str) -> str:
    """The text a choice shows for a piece of quiz HTML."""
    return " ".join(Markup(html).striptags().split())


def pick(page, field: str, html: str) -> None:
    """Tick, in the radio list of `field` (a matching or ordering slot), the choice showing `html`."""
    choices = page.locator(f'label.opt:has(input[name="{field}"])')
    choices.filter(has=page.get_by_text(label(html), exact=True)).locator("input").check()


def answer(page, q: Question, right: bool = True) -> None:
    """Fill in question `q` on the page, rightly or wrongly, from the installed quiz."""
    name = f"a-{q.id}"
    if q.type in ("single", "multiple"):
        if right:
            picks = [i for i, a in enumerate(q.answers) if (a.credit >= FULL if q.type == "single" else a.credit > 0)]
        else:
            picks = [next(i for i, a in enumerate(q.answers) if a.credit <= 0)]
        for i in picks:
            page.locator(f'input[name="{name}"][value="{i}"]').check()
    elif q.type == "truefalse":
        page.locator(f'input[name="{name}"][value="{str(q.answer == right).lower()}"]').check()
    elif q.type in ("short", "numeric"):
        full = next(a for a in q.answers if a.credit >= FULL)
        number = full.value if full.value is not None else full.min   # a value, or a range's low end
        text = (full.text if q.type == "short" else f"{number:g}") if right else "999999"
        page.locator(f'input[name="{name}"]').fill(text)
    elif q.type == "matching":
        rights = [r for _, r in q.pairs]
        for i in range(len(q.pairs)):
            pick(page, f"{name}-{i}", rights[i] if right else rights[(i + 1) % len(rights)])
    elif q.type == "ordering":
        order = q.items if right else list(reversed(q.items))
        for slot, item in enumerate(order):
            pick(page, f"{name}-{slot}", item)
    elif q.type == "essay":
        page.locator(f'textarea[name="{name}"]').fill("Une réponse pour mon enseignant.")
    else:
        raise AssertionError(f"no way to answer a {q.type} question")


# Where each left-to-right run of the page's <main> is drawn: every isolate (<bdi>, dir="ltr")
# and every equation a text holds ("400 = 40"), each as [run, x of each of its characters in
# written order]; characters of the run that wrap to another line start a new row of x.
LTR_RUNS_JS = r"""() => {
  const main = document.querySelector("main"), range = document.createRange();
  const equation = /[0-9A-Za-z?(][0-9A-Za-z.,%\/?()]*(?:[ \u00a0]*[=+×÷−*\/-][ \u00a0]*[0-9A-Za-z?(][0-9A-Za-z.,%\/?()]*)+/g;
  document.querySelectorAll("details").forEach(d => d.open = true);
  const glyphs = (node, from, to) => {
    const out = [];
    for (let i = from; i < to; i++) {
      if (/\s/.test(node.data[i])) continue;
      range.setStart(node, i); range.setEnd(node, i + 1);
      const box = range.getClientRects()[0];
      if (box && box.width > 0) out.push([box.left, box.top]);
    }
    return out;
  };
  const rows = boxes => boxes.reduce((lines, [x, y], i) => {
    if (i === 0 || Math.abs(y - boxes[i - 1][1]) > 2) lines.push([]);
    lines[lines.length - 1].push(x);
    return lines;
  }, []);
  const texts = root => {
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT), out = [];
    for (let n = walk.nextNode(); n; n = walk.nextNode()) out.push(n);
    return out;
  };
  const runs = [];
  for (const el of main.querySelectorAll("bdi, [dir=ltr]")) {
    const boxes = texts(el).flatMap(n => glyphs(n, 0, n.data.length));
    if (boxes.length) runs.push([el.textContent, rows(boxes)]);
  }
  for (const n of texts(main)) {
    if (n.parentElement.closest("code, pre, kbd")) continue;
    for (const m of n.data.matchAll(equation)) {
      if (!/[ =+×÷−*]/.test(m[0])) continue;
      const boxes = glyphs(n, m.index, m.index + m[0].length);
      if (boxes.length) runs.push([m[0], rows(boxes)]);
    }
  }
  return runs;
}"""


def ltr_runs(page) -> "list[tuple[str, list[list[float]]]]":
    """The page's left-to-right runs and where their characters are drawn (LTR_RUNS_JS)."""
    return [(text, lines) for text, lines in page.evaluate(LTR_RUNS_JS)]


def numbers(text: str) -> list[int]:
    """The whole numbers in a text, in whatever digits the locale writes them."""
    return [int(n) for n in re.findall(r"\d+", text)]

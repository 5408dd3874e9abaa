"""The details a child stumbles on, looked at in a real browser at 360×640, in French and in
Arabic: picture codes drawn without any emoji font, a finger-sized target for every link and
button, one heading per lesson (the title tapped), a search that finds the lesson and never
gives a quiz's answer away, a PIN keypad that says when to ask the teacher.

Screenshots of each page go to the `shots` folder (set KIT_SHOTS to keep them)."""

from __future__ import annotations

import re

import pytest

from kit.core import roster
from kit.core.instance import open_instance

from browser_support import PHONE_WIDTH, page_width, sign_in

pytestmark = pytest.mark.browser

LOCALES = {"fr": "fr-FR", "ar": "ar-MA"}
EMOJI = re.compile("[\U0001F300-\U0001FAFF\u2600-\u27BF\u2B50]")

# Every element a finger aims at that is smaller than 44×44 px. A link inside a lesson's own
# sentences is text, not a target (WCAG's inline exception), except footnote marks; a label
# that wraps its input is the target, not the input.
SMALL_TARGETS = """() => [...document.querySelectorAll('a, button, input:not([type=hidden]), select, textarea, summary')]
  .filter(e => e.offsetParent !== null)
  .filter(e => !(e.closest('article') && e.tagName === 'A' && !e.closest('sup') && !e.classList.contains('footnote-backref')))
  .map(e => e.closest('label') || e)
  .map(e => { const r = e.getBoundingClientRect(); return [e.tagName, (e.textContent || e.name || '').trim().slice(0, 30), Math.round(r.width), Math.round(r.height)]; })
  .filter(([, , w, h]) => w < 44 || h < 44)"""


@pytest.fixture(scope="module")
def picture_learner(site) -> "tuple[str, str]":
    """A class that signs in with pictures, and its learner: (class id, learner id)."""
    inst = open_instance(site.data)
    try:
        klass = roster.create_class(inst.db, "CE1 images", code="5151", login="picture")
        learner = roster.add_learner(inst.db, klass.id, "Hiba", pictures=["cat", "sun", "tree"])
    finally:
        inst.close()
    return klass.id, learner.id


def small_targets(page) -> list:
    return page.evaluate(SMALL_TARGETS)


@pytest.mark.parametrize("lang", LOCALES)
def test_picture_codes_are_drawn_and_named_without_an_emoji_font(site, phone, shots, picture_learner, lang):
    page = phone(LOCALES[lang])
    class_id, learner_id = picture_learner
    page.goto(f"{site.url}signin/c/{class_id}/{learner_id}")
    buttons = page.locator(".pics button")
    assert buttons.count() == len(roster.PICTURES)
    for i in range(buttons.count()):
        drawn = buttons.nth(i).locator("svg").bounding_box()
        assert drawn and drawn["width"] >= 36 and drawn["height"] >= 36        # a picture, not an empty box
        assert buttons.nth(i).inner_text().strip()                              # and its name in words
    shapes = page.evaluate("[...document.querySelectorAll('.pics use')].map(u => u.getBBox().width)")
    assert all(w > 0 for w in shapes), "a picture's drawing did not render"
    assert not EMOJI.search(page.locator("main").inner_text())
    page.screenshot(path=str(shots / f"signin-pictures-{lang}.png"), full_page=True)
    page.locator('.pics button[value="cat"]').click()
    assert page.locator(".dots").inner_text().count("●") == 1


@pytest.mark.parametrize("lang", LOCALES)
def test_every_target_on_learner_pages_is_at_least_44_px(site, phone, shots, lang):
    page = phone(LOCALES[lang])
    page.goto(site.url)
    pages = {"classes": small_targets(page)}
    page.locator("ul.choices a", has_text=site.class_name).click()
    pages["names"] = small_targets(page)
    page.locator("ul.choices a", has_text="Leila").click()
    pages["pin"] = small_targets(page)
    sign_in(page, site, "Leila")
    for name, path in [("home", ""), ("course", "c/digital-literacy"), ("lesson", "c/digital-literacy/smartphone"),
                       ("quiz", "c/digital-literacy/smartphone/quiz"), ("search", "search?q=code")]:
        page.goto(site.url + path)
        pages[name] = small_targets(page)
        page.screenshot(path=str(shots / f"targets-{name}-{lang}.png"), full_page=True)
    assert {name: found for name, found in pages.items() if found} == {}


@pytest.mark.parametrize("lang", LOCALES)
def test_a_lesson_has_one_heading_the_title_the_learner_tapped(site, phone, shots, lang):
    page = phone(LOCALES[lang])
    sign_in(page, site, "Nadia")
    for lesson in site.lessons("digital-literacy", lang):
        page.goto(f"{site.url}c/digital-literacy/{lesson.lesson_id}")
        headings = page.locator("h1")
        assert headings.count() == 1 and headings.inner_text().strip() == lesson.title
        assert page_width(page) <= PHONE_WIDTH
    page.screenshot(path=str(shots / f"lesson-title-{lang}.png"))


def test_a_search_for_an_answer_finds_the_lesson_and_never_the_answer(site, phone, shots):
    page = phone("fr-FR")
    sign_in(page, site, "Sara")
    page.goto(f"{site.url}search?q=CNDP")
    hits = page.locator("ol.hits li")
    assert hits.count() >= 1
    assert any("personal-data" in (hits.nth(i).locator("a").get_attribute("href") or "") for i in range(hits.count()))
    shown = page.locator("ol.hits").inner_text()
    quiz = site.quiz("digital-literacy", "personal-data", "fr")
    short = next(q for q in quiz.questions if q.type == "short")
    for accepted in short.answers[1:]:                 # the other accepted forms are the quiz's key
        assert accepted.text not in shown
    assert "*" not in shown
    page.screenshot(path=str(shots / "search-answer-fr.png"), full_page=True)


def test_after_too_many_wrong_pins_the_keypad_stops_and_says_ask_the_teacher(site, phone, shots):
    inst = open_instance(site.data)
    try:
        klass = roster.create_class(inst.db, "CE2 B", login="pin")
        learner = roster.add_learner(inst.db, klass.id, "Ilyas", pin="2580")
    finally:
        inst.close()
    url = f"{site.url}signin/c/{klass.id}/{learner.id}"
    page = phone("fr-FR")
    page.goto(url)
    for _ in range(5):                                  # the limit for one phone: 5 wrong PINs
        for digit in "0000":
            page.locator(f'.keys button[value="{digit}"]').click()
    for lang, locale in LOCALES.items():                # any phone here now sees the keypad off
        page = phone(locale)
        page.goto(url)
        assert page.locator(".keys button:disabled").count() == 11
        assert page.locator("p.bad").inner_text().strip() and page.locator("a.btn", has_text="").count() >= 1
        assert page_width(page) <= PHONE_WIDTH
        page.screenshot(path=str(shots / f"signin-locked-{lang}.png"), full_page=True)

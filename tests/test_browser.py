"""A learner's phone in a real browser: Debian's Chromium (through Playwright) at 360×640,
touch, against a real `kit serve` on loopback holding the sample courses.

Sign in by class, name and PIN keypad; open a course; read a lesson; answer its quiz to the
score: in French, in Arabic (right to left, nothing wider than the screen), and with
JavaScript turned off. Also: the language switcher sticks, "Not you?" hands the phone on,
and the search box finds a lesson typed without its accents.
"""

from __future__ import annotations

import unicodedata

import pytest

from browser_support import PHONE_HEIGHT, PHONE_WIDTH, answer, html_attrs, label, ltr_runs, numbers, page_width, sign_in

pytestmark = pytest.mark.browser


def fits_the_screen(page) -> None:
    assert page_width(page) <= PHONE_WIDTH, f"{page.url} scrolls sideways ({page_width(page)} px wide)"


def open_lesson(page, course_title: str, lesson_title: str) -> None:
    """From the learner's home: tap the course, then the lesson."""
    page.locator("ul.cards a", has_text=course_title).click()
    page.locator("ol.lessons a", has_text=lesson_title).click()
    assert page.locator("article h1").inner_text().strip()


def score(page) -> tuple[int, int]:
    """(score, out of) from the score page: its first and second numbers."""
    got, out_of, *_ = numbers(page.locator("p.score").inner_text())
    return got, out_of


def answer_one_per_page(page, quiz, wrong: "set[str]" = frozenset(), check=lambda page: None) -> list[str]:
    """Answer each question on its own page, then open the score; the verdict classes shown."""
    verdicts = []
    for _ in range(len(quiz.questions)):           # bounded: one page per question at most
        qid = page.locator('input[name="question"]').get_attribute("value")
        answer(page, quiz.find(qid), right=qid not in wrong)
        check(page)
        page.locator("form button.next").click()
        verdicts.append(page.locator("section.fb").get_attribute("class"))
        check(page)
        page.locator("a.btn.next").click()
        if page.locator("p.score").count():
            return verdicts
    raise AssertionError("the quiz never reached its score page")


def test_a_french_learner_signs_in_reads_a_lesson_and_gets_full_marks(site, phone, shots):
    page = phone("fr-FR")
    sign_in(page, site, "Amina")
    assert html_attrs(page) == ("fr", "ltr")
    assert "Bonjour Amina" in page.locator("h1").inner_text()
    first = site.lessons("digital-literacy", "fr")[0]
    open_lesson(page, "Culture numérique", first.title)
    assert page.locator("article").get_attribute("lang") == "fr"
    fits_the_screen(page)
    page.screenshot(path=shots / "fr-lesson.png")

    page.locator('button[name="go"][value="quiz"]').click()
    quiz = site.quiz("digital-literacy", first.lesson_id, "fr")
    verdicts = answer_one_per_page(page, quiz, check=fits_the_screen)
    assert all("right" in v.split() for v in verdicts), verdicts
    graded = [q for q in quiz.questions if q.type not in ("description", "essay")]
    assert score(page) == (len(graded), len(graded))
    assert "Réussi" in page.locator("main").inner_text()
    page.screenshot(path=shots / "fr-score.png", full_page=True)


def test_an_arabic_learner_reads_right_to_left_and_the_page_fits_the_screen(site, phone, shots):
    page = phone("ar-MA")
    sign_in(page, site, "Karim")
    assert html_attrs(page) == ("ar", "rtl")
    fits_the_screen(page)
    first = site.lessons("numeracy", "ar")[0]
    open_lesson(page, "الكسور", first.title)
    assert html_attrs(page) == ("ar", "rtl")
    article = page.locator("article")
    assert (article.get_attribute("lang"), article.get_attribute("dir")) == ("ar", "rtl")
    fits_the_screen(page)
    page.screenshot(path=shots / "ar-lesson.png")

    # The numeracy course shows its whole quiz on one page.
    page.locator('button[name="go"][value="quiz"]').click()
    quiz = site.quiz("numeracy", first.lesson_id, "ar")
    for q in quiz.questions:
        if q.type != "description":
            answer(page, q)
    fits_the_screen(page)
    page.screenshot(path=shots / "ar-quiz.png")
    page.locator("form button.next").click()
    assert html_attrs(page) == ("ar", "rtl")
    graded = [q for q in quiz.questions if q.type not in ("description", "essay")]
    assert score(page) == (len(graded), len(graded))
    assert page.locator("section.fb.wrong").count() == 0
    assert page.locator("section.fb.right").count() == len(graded)
    fits_the_screen(page)
    page.screenshot(path=shots / "ar-score.png")


def test_with_javascript_off_a_learner_signs_in_reads_and_is_scored(site, phone, shots):
    page = phone("fr-FR", js=False)
    sign_in(page, site, "Yasmine")
    lessons = site.lessons("digital-literacy", "fr")
    third = lessons[2]
    open_lesson(page, "Culture numérique", third.title)
    assert "<script" not in page.content()
    page.locator('button[name="go"][value="quiz"]').click()

    quiz = site.quiz("digital-literacy", third.lesson_id, "fr")
    first = next(q for q in quiz.questions if q.type != "description")
    assert first.type in ("single", "truefalse"), "a wrong answer here must be worth 0 exactly"
    verdicts = answer_one_per_page(page, quiz, wrong={first.id}, check=fits_the_screen)
    assert "wrong" in verdicts[0].split() and all("right" in v.split() for v in verdicts[1:]), verdicts
    graded = [q for q in quiz.questions if q.type not in ("description", "essay")]
    assert score(page) == (len(graded) - 1, len(graded))
    page.screenshot(path=shots / "nojs-score.png")


def test_the_language_chosen_with_the_switcher_sticks_across_pages(site, phone):
    page = phone("fr-FR")
    sign_in(page, site, "Omar")
    page.locator('nav.langs a[lang="en"]').click()
    assert html_attrs(page) == ("en", "ltr")
    assert page.url == site.url, "the switcher brings the learner back to the same page"

    first = site.lessons("digital-literacy", "en")[0]
    open_lesson(page, "Digital literacy", first.title)
    assert html_attrs(page) == ("en", "ltr")
    assert page.locator("article").get_attribute("lang") == "en"
    assert page.locator('button[name="go"][value="quiz"]').inner_text() == "Take the quiz"

    page.locator('nav.langs a[lang="ar"]').click()
    assert html_attrs(page) == ("ar", "rtl")
    page.goto(site.url)                              # a page opened afresh, days later
    assert html_attrs(page) == ("ar", "rtl")


def test_not_you_hands_the_phone_to_the_next_learner(site, phone):
    page = phone("fr-FR")
    sign_in(page, site, "Sara")
    assert "Sara" in page.locator("form.who").inner_text()
    page.locator("form.who button").click()
    # Straight back to the class's names, not to the list of classes.
    assert page.locator("ul.choices a", has_text="Nadia").count() == 1
    assert page.locator("form.who").count() == 0
    page.locator("ul.choices a", has_text="Nadia").click()
    for digit in site.pin("Nadia"):
        page.locator(f'.keys button[value="{digit}"]').click()
    page.wait_for_url(site.url)
    assert "Nadia" in page.locator("form.who").inner_text()
    assert "Sara" not in page.locator("main").inner_text()


def test_search_from_a_lesson_page_finds_a_lesson_typed_without_accents(site, phone):
    page = phone("fr-FR")
    sign_in(page, site, "Leila")
    lessons = site.lessons("digital-literacy", "fr")
    open_lesson(page, "Culture numérique", lessons[0].title)

    wanted = next(l for l in lessons if "hameçonnage" in l.title)
    bare = unicodedata.normalize("NFKD", "HAMEÇONNAGE").encode("ascii", "ignore").decode()
    assert bare == "HAMECONNAGE"
    page.locator('form.find input[name="q"]').fill(bare)
    page.locator('form.find input[name="q"]').press("Enter")
    hits = page.locator("ol.hits > li > a")
    assert wanted.title in hits.all_inner_texts()
    assert page.locator("ol.hits mark").count() > 0, "the matched words are highlighted"
    hits.filter(has_text=wanted.title).click()
    assert page.url.endswith(f"/c/digital-literacy/{wanted.lesson_id}")


def test_in_arabic_a_web_address_still_reads_left_to_right(site, phone, shots):
    page = phone("ar-MA")
    sign_in(page, site, "Karim")
    lesson = next(l for l in site.lessons("digital-literacy", "ar") if l.lesson_id == "phishing")
    page.goto(f"{site.url}c/digital-literacy/{lesson.lesson_id}/quiz")
    address = page.locator("label.opt code").first
    text = address.inner_text()
    assert text.startswith("http") and text.endswith("/")
    # Where the first and the last character are drawn: "h" on the left, "/" on the right.
    first, last = address.evaluate("""code => {
        const node = code.firstChild, range = document.createRange(), x = i => {
            range.setStart(node, i); range.setEnd(node, i + 1); return range.getBoundingClientRect().left; };
        return [x(0), x(node.length - 1)];
    }""")
    assert first < last, f"{text!r} is drawn right to left"
    fits_the_screen(page)
    page.screenshot(path=shots / "ar-addresses.png")


def read_in_written_order(page, runs_seen: list) -> None:
    """Every left-to-right run of the page is drawn in the order it is written: the x of its
    characters grows from the first to the last, on each line it takes."""
    runs = ltr_runs(page)
    backwards = [text for text, lines in runs if any(line != sorted(line) for line in lines)]
    assert not backwards, f"{page.url}: drawn out of order: {backwards}"
    runs_seen.extend(text for text, _ in runs)


def test_every_arabic_equation_of_the_sample_courses_reads_left_to_right_in_written_order(site, phone, shots):
    page = phone("ar-MA")
    sign_in(page, site, "Hamza")
    seen: list[str] = []
    check = lambda page: read_in_written_order(page, seen)  # noqa: E731
    for pack_id in ("numeracy", "digital-literacy"):
        for lesson in site.lessons(pack_id, "ar"):
            page.goto(f"{site.url}c/{pack_id}/{lesson.lesson_id}")
            assert html_attrs(page) == ("ar", "rtl")
            check(page)
            if lesson.lesson_id == "discounts-and-prices":
                page.screenshot(path=shots / "ar-maths-lesson.png", full_page=True)
            if not lesson.has_quiz:
                continue
            quiz = site.quiz(pack_id, lesson.lesson_id, "ar")
            page.goto(f"{site.url}c/{pack_id}/{lesson.lesson_id}/quiz?again=1")
            if pack_id == "numeracy":                 # the whole quiz on one page, then every feedback
                check(page)
                for q in quiz.questions:
                    if q.type != "description":
                        answer(page, q)
                page.locator("form button.next").click()
                check(page)
                if lesson.lesson_id == "budget":
                    page.screenshot(path=shots / "ar-maths-feedback.png", full_page=True)
            else:
                answer_one_per_page(page, quiz, check=check)
    assert {"40 × 2 = 80", "200 ÷ 10 = 20", "1/2 = 4/8", "site:gov.ma"} <= set(seen), sorted(set(seen))


# --- a 12-year-old on a cracked phone gets through a quiz alone ---------------------------------

REFUSED_LIST = {"fr": "Choisissez une réponse dans chaque liste.", "ar": "اختر إجابة في كل قائمة."}
INK, WEIGHT_NORMAL = "rgb(27, 27, 27)", "400"


def drawn_whole(locator) -> None:
    """Each element is drawn inside the screen's width and shows its text whole (nothing cut)."""
    boxes = locator.evaluate_all("""els => els.map(e => {
        const r = e.getBoundingClientRect(); return [r.left, r.right, e.scrollWidth, e.clientWidth, e.innerText]; })""")
    assert boxes
    for left, right, scroll_width, client_width, shown in boxes:
        assert left >= 0 and right <= PHONE_WIDTH and scroll_width <= client_width, (shown, left, right)


def style(locator, prop: str) -> str:
    return locator.evaluate(f"e => getComputedStyle(e).{prop}")


def on_screen(locator) -> bool:
    box = locator.bounding_box()
    return box is not None and 0 <= box["y"] < PHONE_HEIGHT and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_WIDTH


def only_the_verdict_is_coloured(page) -> None:
    verdict = page.locator("section.fb p.verdict")
    assert verdict.inner_text().strip()[0] in "✓✗" or "part" in verdict.get_attribute("class")
    assert style(verdict, "color") != INK and style(verdict, "fontWeight") == "700"
    for rest in page.locator("section.fb .given li, section.fb > div, section.fb .key li").all():
        assert (style(rest, "color"), style(rest, "fontWeight")) == (INK, WEIGHT_NORMAL), rest.inner_text()


@pytest.mark.parametrize("locale, name", [("fr-FR", "Anas"), ("ar-MA", "Salma")])
def test_ordering_and_matching_read_whole_start_empty_and_a_wrong_answer_gets_the_right_list(
        site, phone, shots, locale, name):
    lang = locale[:2]
    page = phone(locale)
    sign_in(page, site, name)
    lesson = site.lessons("digital-literacy", lang)[0]
    quiz = site.quiz("digital-literacy", lesson.lesson_id, lang)
    assert {"matching", "ordering"} <= {q.type for q in quiz.questions}
    page.goto(f"{site.url}c/digital-literacy/{lesson.lesson_id}/quiz")
    for _ in range(len(quiz.questions)):
        q = quiz.find(page.locator('input[name="question"]').get_attribute("value"))
        if q.type not in ("matching", "ordering"):
            answer(page, q)
            page.locator("form button.next").click()
        else:
            assert page.locator("select").count() == 0
            assert page.locator("fieldset.pick input:checked").count() == 0, "every list starts empty"
            drawn_whole(page.locator("fieldset.pick label.opt"))
            fits_the_screen(page)
            page.screenshot(path=shots / f"{lang}-quiz-{q.type}.png", full_page=True)
            if q.type == "ordering":                 # "Check" on the untouched lists: refused, asked again
                page.locator("form button.next").click()
                assert page.locator("fieldset.q p.bad").inner_text() == REFUSED_LIST[lang]
                assert page.locator('input[name="question"]').get_attribute("value") == q.id
                page.screenshot(path=shots / f"{lang}-quiz-ordering-refused.png")
            answer(page, q, right=False)
            page.locator("form button.next").click()
            right = ([label(item) for item in q.items] if q.type == "ordering"
                     else [f"{label(left)}: {label(r)}" for left, r in q.pairs])
            assert [t.strip() for t in page.locator("section.fb .key li").all_inner_texts()] == right
            only_the_verdict_is_coloured(page)
            fits_the_screen(page)
            page.screenshot(path=shots / f"{lang}-feedback-{q.type}.png", full_page=True)
        page.locator("a.btn.next").click()
        if page.locator("p.score").count():
            break
    got, out_of, *_ = numbers(page.locator("p.score").inner_text())
    assert (got, out_of) == (len(quiz.questions) - 2, len(quiz.questions))
    assert page.locator("p.verdict.bad").is_visible() and page.locator(".verdict .star").count() == 0
    fits_the_screen(page)
    page.screenshot(path=shots / f"{lang}-score-not-passed.png", full_page=True)


@pytest.mark.parametrize("locale, name", [("fr-FR", "Youssef"), ("ar-MA", "Zineb")])
def test_every_pass_shows_a_star_and_mastering_the_quiz_a_medal(site, phone, shots, locale, name):
    lang = locale[:2]
    page = phone(locale)
    sign_in(page, site, name)
    lesson = site.lessons("digital-literacy", lang)[1]
    quiz = site.quiz("digital-literacy", lesson.lesson_id, lang)
    page.goto(f"{site.url}c/digital-literacy/{lesson.lesson_id}/quiz")
    answer_one_per_page(page, quiz)
    star = page.locator("p.verdict.good .star")
    assert star.inner_text() == "★" and on_screen(star), "a 100 % pass shows its star"
    assert page.locator("p.stars").inner_text() == "★☆☆" and page.locator(".medal").count() == 0
    fits_the_screen(page)
    page.screenshot(path=shots / f"{lang}-score-star.png")
    for _ in range(2):                               # the course's rule: 3 passes of the last 5
        page.locator('a.btn[href*="again=1"]').click()
        answer_one_per_page(page, quiz)
    assert on_screen(page.locator("p.verdict.good .star")) and on_screen(page.locator("p.mastered .medal"))
    fits_the_screen(page)
    page.screenshot(path=shots / f"{lang}-score-mastered.png")


@pytest.mark.parametrize("locale, name", [("fr-FR", "Imane"), ("ar-MA", "Rachid")])
def test_a_whole_quiz_sent_half_done_sums_up_at_the_top_what_is_missing(site, phone, shots, locale, name):
    lang = locale[:2]
    page = phone(locale)
    sign_in(page, site, name)
    lesson = site.lessons("numeracy", lang)[0]
    quiz = site.quiz("numeracy", lesson.lesson_id, lang)
    asked = [q for q in quiz.questions if q.type != "description"]
    page.goto(f"{site.url}c/numeracy/{lesson.lesson_id}/quiz")
    assert numbers(" ".join(page.locator("fieldset.q .qn").all_inner_texts())) == list(range(1, len(asked) + 1))
    answer(page, asked[0])
    page.locator("form button.next").click()
    summary = page.locator(".errors")
    assert on_screen(summary), "the summary is on the first screen"
    links = summary.locator("a")
    assert numbers(" ".join(links.all_inner_texts())) == list(range(2, len(asked) + 1))
    assert page.locator(f'input[name="a-{asked[0].id}"]:checked, input[name="a-{asked[0].id}"]:not([type])').count() == 1
    fits_the_screen(page)
    page.screenshot(path=shots / f"{lang}-quiz-all-missing.png")
    links.nth(1).click()
    target = page.locator(f"#q-{asked[2].id}")
    assert page.url.endswith(f"#q-{asked[2].id}") and on_screen(target.locator(".qn"))
    assert numbers(target.locator(".qn").inner_text()) == [3]
    page.screenshot(path=shots / f"{lang}-quiz-all-jump.png")

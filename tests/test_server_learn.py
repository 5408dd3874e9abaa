"""A signed-in learner reads lessons, takes quizzes and searches, through the pages."""

import gzip
import re

import pytest

from kit.core import roster
from kit.core.eventlog import learner_events

from server_support import csrf_of, hidden, make_learner, sign_in, text

QUIZ = "/c/mini/passwords/quiz"


@pytest.fixture
def learner(installed, learner_client):
    """Amina, signed in, on a server with the mini course (fr/ar/en, every question type)."""
    return learner_client


def events(inst, learner, kind):
    return [e for e in learner_events(inst.db, learner.learner.id) if e.kind == kind]


def offered(html: str, field: str) -> dict:
    """{text: value} of the radio list a page shows for one field (a matching or ordering slot)."""
    return {t: v for v, t in re.findall(rf'<input type="radio" name="{field}" value="(\d+)"[^>]*> <span>([^<]+)</span>',
                                        html)}


def right_order(html: str) -> dict:
    """The mini course's ordering answered right: items are shown shuffled, so find where each went."""
    shown = offered(html, "a-order-0")
    return {f"a-order-{i}": shown[item] for i, item in enumerate(["1/4", "1/2", "3/4"])}


def right_answers(html: str) -> dict:
    """The right answer of whichever mini-course question the page asks."""
    q = hidden(html, "question")
    if q == "order":
        return right_order(html)
    return {"single": {"a-single": "1"}, "multi": {"a-multi": ["0", "2"]}, "tf": {"a-tf": "true"},
            "short": {"a-short": " ELEVE "}, "num": {"a-num": "٢٠"},
            "match": {"a-match-0": "1", "a-match-1": "0"},   # choices sorted: 25%, 50%
            "essay": {"a-essay": "Mon texte"}}[q]


def answer(client, html: str, fields: dict, url: str = QUIZ):
    q = hidden(html, "question")
    return client.post(url, data={"csrf": csrf_of(html), "question": q, f"t-{q}": hidden(html, f"t-{q}"), **fields})


def pass_quiz(client, wrong: "set[str]" = frozenset()) -> list:
    """Answer the whole quiz, one question per page; wrong answers for the ids in `wrong`."""
    page, seen = client.get(QUIZ + "?again=1").text, []
    while 'name="question"' in page:
        q = hidden(page, "question")
        seen.append(q)
        fields = {"a-single": "0"} if q in wrong and q == "single" else right_answers(page)
        feedback = answer(client, page, fields)
        assert feedback.status_code == 200
        page = client.get(QUIZ).text
    return seen


def test_home_lists_courses_with_progress(learner):
    page = learner.get("/", headers={"Accept-Language": "en"})
    assert "Mini course" in page.text and '<progress value="0" max="2">' in page.text


def test_progress_follows_new_events_even_ones_synced_from_elsewhere(learner, inst):
    from kit.core.eventlog import append
    from kit.core.events import LessonRead
    assert '<progress value="0" max="2">' in learner.get("/").text
    append(inst.db, LessonRead("mini", "phone", "ar"), learner_id=learner.learner.id)
    assert '<progress value="1" max="2">' in learner.get("/").text
    assert "<progress value=\"1\" max=\"2\">" in learner.get("/c/mini").text


def test_a_lesson_page_shows_the_pre_rendered_lesson_with_its_media(learner):
    page = learner.get("/c/mini/passwords")
    assert page.status_code == 200 and "<strong>mot de passe</strong>" in page.text
    media = re.search(r'src="(/media/mini/[0-9a-f]{64}\.svg)"', page.text).group(1)
    resp = learner.get(media)
    assert resp.status_code == 200 and resp.mimetype == "image/svg+xml"
    assert "immutable" in resp.headers["Cache-Control"]
    assert learner.get("/media/mini/" + "0" * 64 + ".svg").status_code == 404
    assert learner.get("/media/mini/..%2Fkit.db").status_code == 404


def test_the_lesson_title_comes_before_its_minutes_and_goals(learner):
    with_heading = learner.get("/c/mini/passwords").text     # its Markdown starts with "# ..."
    assert with_heading.count("<h1>Les mots de passe</h1>") == 1
    assert with_heading.index("<h1>Les mots de passe</h1>") < with_heading.index("5 minutes") < with_heading.index("one")
    without = learner.get("/c/mini/phone").text               # no heading of its own
    assert without.index("<h1>La sécurité du téléphone</h1>") < without.index("3 minutes")


def test_the_page_heading_is_the_title_the_learner_tapped_and_sections_come_below_it():
    from kit.content.render import render_lesson
    html = render_lesson("# Votre téléphone\n\nTexte.\n\n## 1. Les mises à jour\n\nPlus.", "Protéger son smartphone", "fr")
    assert "<h1" not in html                                  # the page's only <h1> is the title
    assert html.startswith("<h2>Votre téléphone</h2>") and "<h3>1. Les mises à jour</h3>" in html
    repeated = render_lesson("# Protéger  son *smartphone*\n\nTexte.", "Protéger son smartphone", "fr")
    assert repeated == "<p>Texte.</p>"                        # a first heading repeating the title goes


def test_a_lesson_page_has_one_h1_its_title(learner):
    page = learner.get("/c/mini/passwords").text
    assert page.count("<h1") == 1 and "<h1>Les mots de passe</h1>" in page


def test_an_arabic_learner_gets_the_arabic_lesson_right_to_left(learner):
    learner.get("/lang/ar")
    page = learner.get("/c/mini/passwords")
    assert '<html lang="ar" dir="rtl">' in page.text and '<article lang="ar" dir="rtl">' in page.text
    assert "كلمات المرور" in page.text


def test_reading_to_the_end_records_the_read_once_even_if_sent_twice(learner, inst):
    page = learner.get("/c/mini/passwords").text
    form = {"csrf": csrf_of(page), "token": hidden(page, "token"), "go": "next"}
    first = learner.post("/c/mini/passwords/read", data=form)
    again = learner.post("/c/mini/passwords/read", data=form)
    assert first.status_code == again.status_code == 303 and first.location.endswith("/c/mini/phone")
    reads = events(inst, learner, "lesson.read")
    assert [{**e.body, "token": "…"} for e in reads] == [{"pack": "mini", "lesson": "passwords", "lang": "fr", "token": "…"}]
    course = learner.get("/c/mini")
    assert 'class="done"' in course.text and '<progress value="1" max="2">' in course.text


def test_a_read_form_without_a_proper_token_is_refused(learner, inst):
    page = learner.get("/c/mini/passwords").text
    resp = learner.post("/c/mini/passwords/read", data={"csrf": csrf_of(page), "token": "x:1", "go": "next"})
    assert resp.status_code == 400 and events(inst, learner, "lesson.read") == []


def test_an_unchanged_lesson_page_is_a_304(learner):
    first = learner.get("/c/mini/passwords", headers={"Accept-Encoding": "gzip"})
    etag = first.headers["ETag"]
    assert etag.startswith('W/"') and first.headers["Content-Encoding"] == "gzip"
    again = learner.get("/c/mini/passwords", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    page = gzip.decompress(first.data).decode()
    learner.post("/c/mini/passwords/read", data={"csrf": csrf_of(page), "token": hidden(page, "token")})
    after = learner.get("/c/mini/passwords", headers={"If-None-Match": etag})
    assert after.status_code == 200                 # a new read token: the page changed
    learner.get("/lang/en")
    other_lang = learner.get("/c/mini/passwords", headers={"If-None-Match": after.headers["ETag"]})
    assert other_lang.status_code == 200 and "Passwords" in other_lang.text


def test_every_question_type_is_graded_on_the_server(learner, inst):
    seen = pass_quiz(learner)
    assert seen == ["single", "multi", "tf", "short", "num", "match", "order", "essay"]
    answers = {e.body["question"]: e.body for e in events(inst, learner, "quiz.answer")}
    assert all(answers[q]["correct"] for q in seen if q != "essay")
    assert answers["essay"]["credit"] is None and answers["essay"]["response"] == "Mon texte"
    assert answers["order"]["response"] == [0, 1, 2] and answers["match"]["response"] == [1, 0]
    assert answers["tf"]["response"] is True and answers["num"]["lang"] == "fr"
    result = learner.get(QUIZ, headers={"Accept-Language": "en"})
    assert "You got 7 of 7 right" in result.text and "Passed!" in result.text


def test_a_wrong_answer_gets_the_packs_feedback(learner, inst):
    page = learner.get(QUIZ).text
    assert "It is B" in page                        # the hint, folded in a <details>
    feedback = answer(learner, page, {"a-single": "0"})
    assert "✗" in feedback.text and "No" in feedback.text and "Yes" not in feedback.text
    body = events(inst, learner, "quiz.answer")[0].body
    assert body.pop("token") == hidden(page, "t-single")   # the form's idempotency token
    assert body == {"pack": "mini", "lesson": "passwords", "lang": "fr", "question": "single",
                    "credit": 0.0, "correct": False, "response": 0}


def test_a_question_page_never_holds_the_answer_key(learner):
    page = learner.get(QUIZ).text
    assert "Yes" not in page and "credit" not in page and "correct" not in page


def test_a_double_submit_records_the_answer_once(learner, inst):
    page = learner.get(QUIZ).text
    first = answer(learner, page, {"a-single": "1"})
    retry = answer(learner, page, {"a-single": "0"})   # the same form sent again, changed
    assert first.status_code == retry.status_code == 200
    assert len(events(inst, learner, "quiz.answer")) == 1
    assert "✓" in retry.text                        # it shows what was recorded


def test_an_unanswered_question_is_asked_again(learner, inst):
    page = learner.get(QUIZ).text
    resp = answer(learner, page, {})
    assert resp.status_code == 400 and "Répondez à cette question" in text(resp)
    assert events(inst, learner, "quiz.answer") == []


def test_a_bad_ordering_is_refused_not_graded(learner, inst):
    pass_quiz_until = ["single", "multi", "tf", "short", "num", "match"]
    page = learner.get(QUIZ).text
    for _ in pass_quiz_until:
        answer(learner, page, right_answers(page))
        page = learner.get(QUIZ).text
    assert hidden(page, "question") == "order"
    resp = answer(learner, page, {"a-order-0": "0", "a-order-1": "0", "a-order-2": "1"})
    assert resp.status_code == 400 and len(events(inst, learner, "quiz.answer")) == 6


def test_mastery_comes_after_m_passed_attempts(learner):
    pass_quiz(learner)
    first = learner.get(QUIZ, headers={"Accept-Language": "en"})
    assert "You have mastered" not in first.text
    assert "To master this quiz, pass it 2 times. Passed so far: 1." in first.text
    again = learner.get(QUIZ + "?again=1")
    assert hidden(again.text, "question") == "single"
    pass_quiz(learner)
    result = learner.get(QUIZ, headers={"Accept-Language": "en"})
    assert "You have mastered this quiz!" in result.text
    course = learner.get("/c/mini", headers={"Accept-Language": "en"})
    assert "quiz mastered" in course.text


def test_a_failed_pass_does_not_count_towards_mastery(learner):
    pass_quiz(learner, wrong={"single"})            # 6 of 7 = 86 %: still passed
    result = learner.get(QUIZ, headers={"Accept-Language": "en"})
    assert "You got 6 of 7 right" in result.text and "Passed!" in result.text


def test_continue_goes_back_to_a_quiz_left_in_the_middle(learner):
    page = learner.get(QUIZ).text
    answer(learner, page, right_answers(page))
    home = learner.get("/")
    assert f'class="btn next" href="{QUIZ}"' in home.text
    assert hidden(learner.get(QUIZ).text, "question") == "multi"


def test_the_whole_quiz_on_one_page_when_the_course_says_so(learner, inst):
    inst.db.execute("UPDATE packs SET settings = json_set(settings, '$.quiz_display', 'all') WHERE id = 'mini'")
    page = learner.get(QUIZ).text
    tokens = {q: hidden(page, f"t-{q}") for q in ["single", "multi", "tf", "short", "num", "match", "order", "essay"]}
    fields = {"csrf": csrf_of(page), **{f"t-{q}": t for q, t in tokens.items()}}
    for q in tokens:
        if q == "order":
            fields.update(right_order(page))
        else:
            fields.update(right_answers(f'name="question" value="{q}"'))
    partial = learner.post(QUIZ, data={k: v for k, v in fields.items() if k != "a-tf"})
    assert partial.status_code == 400 and events(inst, learner, "quiz.answer") == []
    assert 'value="ELEVE"' in partial.text or "ELEVE" in partial.text   # answers kept
    result = learner.post(QUIZ, data=fields, headers={"Accept-Language": "en"})
    assert result.status_code == 200 and "You got 7 of 7 right" in result.text
    assert len(events(inst, learner, "quiz.answer")) == 8
    learner.post(QUIZ, data=fields)
    assert len(events(inst, learner, "quiz.answer")) == 8


def test_another_learners_progress_is_not_shown(installed, client, inst):
    klass, amina = make_learner(inst.db)
    omar = roster.add_learner(inst.db, klass.id, "Omar", pin="5555")
    sign_in(client, klass, amina)
    page = client.get("/c/mini/passwords").text
    client.post("/c/mini/passwords/read", data={"csrf": csrf_of(page), "token": hidden(page, "token")})
    client.post("/signout", data={"csrf": csrf_of(page)})
    sign_in(client, klass, omar, pin="5555")
    assert '<progress value="0" max="2">' in client.get("/c/mini").text


@pytest.mark.parametrize("lang, query, title", [("fr", "eleve", "Les mots de passe"),
                                                ("ar", "كلمة", "كلمات المرور"),
                                                ("en", "PASSWORD", "Passwords")])
def test_search_finds_lessons_in_the_learners_language(learner, lang, query, title):
    page = learner.get("/search", query_string={"q": query}, headers={"Accept-Language": lang})
    assert page.status_code == 200 and title in page.text and "<mark>" in page.text
    assert 'href="/c/mini/passwords"' in page.text


def test_search_suggests_a_spelling_when_nothing_matches(learner):
    page = learner.get("/search", query_string={"q": "motz"}, headers={"Accept-Language": "fr"})
    assert "Vouliez-vous dire" in page.text and 'href="/search?q=mot' in page.text


def test_search_escapes_the_query(learner):
    page = learner.get("/search", query_string={"q": "<script>x</script>"})
    assert "<script>x" not in page.text and "&lt;script&gt;x" in page.text


def test_course_pages_need_a_signed_in_learner(installed, client):
    for url in ["/", "/c/mini", "/c/mini/passwords", QUIZ, "/search?q=x"]:
        assert client.get(url).status_code == 303


def test_unknown_course_lesson_or_quiz_is_404(learner):
    for url in ["/c/nope", "/c/mini/nope", "/c/mini/nope/quiz", "/c/mini/phone/nope"]:
        assert learner.get(url).status_code == 404


def test_every_post_form_on_the_learners_pages_carries_the_csrf_token(learner):
    pages = ["/", "/c/mini", "/c/mini/passwords", QUIZ, "/search?q=eleve"]
    pass_quiz(learner)
    pages.append(QUIZ)                               # the score page
    for url in pages:
        html = learner.get(url).text
        forms = re.findall(r"<form\b[^>]*>.*?</form>", html, re.S)
        posts = [f for f in forms if 'method="post"' in f.split(">")[0]]
        assert posts, url
        assert all('name="csrf"' in f for f in posts), url
        gets = [f for f in forms if f not in posts]
        assert not any('name="csrf"' in f for f in gets), url     # a token never goes into a URL


def test_a_token_copied_from_a_classmates_form_cannot_block_or_reveal_their_answers(learner, inst, app):
    from kit.core import roster
    from server_support import sign_in as sign_in_as
    bilal = roster.add_learner(inst.db, learner.klass.id, "Bilal", pin="4321")
    other = app.test_client()
    assert sign_in_as(other, learner.klass, bilal, pin="4321").status_code == 303
    # Bilal posts the read and the answer forms with the very tokens Amina's pages carry.
    amina_lesson, amina_quiz = learner.get("/c/mini/passwords").text, learner.get(QUIZ).text
    bilal_lesson = other.get("/c/mini/passwords").text
    other.post("/c/mini/passwords/read", data={"csrf": csrf_of(bilal_lesson), "token": hidden(amina_lesson, "token"),
                                              "go": "next"})
    stolen = answer(other, other.get(QUIZ).text, {"a-single": "0", "t-single": hidden(amina_quiz, "t-single")})
    assert stolen.status_code == 200
    # Amina's own read and answer are still recorded, and Bilal saw only his own answer.
    learner.post("/c/mini/passwords/read", data={"csrf": csrf_of(amina_lesson), "token": hidden(amina_lesson, "token"),
                                                 "go": "next"})
    answer(learner, amina_quiz, {"a-single": "1"})
    assert len(events(inst, learner, "lesson.read")) == 1
    assert [e.body["response"] for e in events(inst, learner, "quiz.answer")] == [1]
    assert [e.body["response"] for e in learner_events(inst.db, bilal.id) if e.kind == "quiz.answer"] == [0]


# --- a 12-year-old on a cracked phone gets through a quiz alone ---------------------------------

def reach(client, qid: str) -> str:
    """The one-per-page quiz's page for question `qid`, the questions before it answered right."""
    page = client.get(QUIZ).text
    while hidden(page, "question") != qid:
        answer(client, page, right_answers(page))
        page = client.get(QUIZ).text
    return page


def feedback_section(html: str) -> str:
    return re.search(r'<section class="fb[^"]*">.*?</section>', html, re.S).group(0)


def coloured(html: str) -> list[str]:
    """The opening tags of an HTML piece that carry a colour class (good, bad, part)."""
    return [tag for tag, classes in re.findall(r'(<\w+[^>]*class="([^"]*)"[^>]*>)', html)
            if {"good", "bad", "part"} & set(classes.split())]


def test_only_the_verdict_line_of_the_feedback_is_coloured_and_it_says_right_or_wrong(learner):
    page = learner.get(QUIZ).text
    wrong = feedback_section(answer(learner, page, {"a-single": "0"}).text)
    assert coloured(wrong) == ['<p class="verdict bad">']
    assert re.search(r'<p class="verdict bad">✗ ', wrong)          # not by colour alone
    right = feedback_section(answer(learner, reach(learner, "multi"), {"a-multi": ["0", "2"]}).text)
    assert coloured(right) == ['<p class="verdict good">'] and '<p class="verdict good">✓ ' in right


def test_the_score_counts_the_answers_fully_right_and_says_the_mastery_rule_in_plain_words(learner):
    page = reach(learner, "num")
    answer(learner, page, {"a-num": "19"})                          # half the credit
    page = learner.get(QUIZ).text
    while 'name="question"' in page:
        answer(learner, page, right_answers(page))
        page = learner.get(QUIZ).text
    en = text(learner.get(QUIZ, headers={"Accept-Language": "en"}))
    assert "You got 6 of 7 right" in en and "6.5" not in en          # part credit stays out of the headline
    assert "Partly right answers count too: your score is 93%." in en
    assert "To master this quiz, pass it 2 times. Passed so far: 1." in en
    fr = text(learner.get(QUIZ, headers={"Accept-Language": "fr"}))
    assert "6 bonnes réponses sur 7" in fr and "6,5" not in fr
    assert "Pour maîtriser ce quiz, réussissez-le 2\u00a0fois. Déjà réussi\u00a0: 1\u00a0fois." in fr
    learner.get("/lang/ar")
    ar = text(learner.get(QUIZ))
    assert "6 إجابات صحيحة من أصل 7" in ar and "انجح فيه مرتين" in ar


def test_the_score_and_mastery_sentences_agree_with_their_numbers_in_french_and_arabic(app):
    from kit.server.i18n import load_catalogs
    got = "You got %(num)d of %(total)s right"
    cat = load_catalogs()
    fr, ar = cat["fr"].ngettext, cat["ar"].ngettext
    assert [fr(got, got, n) % {"num": n, "total": 5} for n in (1, 2)] == \
        ["1 bonne réponse sur 5", "2 bonnes réponses sur 5"]
    assert [ar(got, got, n) % {"num": n, "total": 12} for n in (1, 2, 3, 11)] == \
        ["إجابة صحيحة واحدة من أصل 12", "إجابتان صحيحتان من أصل 12", "3 إجابات صحيحة من أصل 12",
         "11 إجابة صحيحة من أصل 12"]
    missing = ("%(num)d question is not answered yet:", "%(num)d questions are not answered yet:")
    assert [ar(*missing, n) % {"num": n} for n in (1, 2, 6)] == \
        ["سؤال واحد بلا إجابة بعد:", "سؤالان بلا إجابة بعد:", "6 أسئلة بلا إجابة بعد:"]


def test_every_passed_attempt_shows_a_star_and_mastery_its_own_medal(learner):
    pass_quiz(learner)                                              # 100 %: passed, not mastered yet
    first = learner.get(QUIZ, headers={"Accept-Language": "en"}).text
    assert re.search(r'<p class="verdict good"><span class="star">★</span> Passed!', first)
    assert 'class="medal"' not in first and '<p class="stars" aria-hidden="true">★☆</p>' in first
    pass_quiz(learner)
    second = learner.get(QUIZ, headers={"Accept-Language": "en"}).text
    assert '<span class="star">★</span> Passed!' in second
    assert '<span class="medal">★</span> You have mastered this quiz!' in second
    pass_quiz(learner, wrong={"single"})                            # 86 %: still a star
    assert '<span class="star">★</span>' in learner.get(QUIZ).text


def test_a_failed_attempt_shows_no_star_and_what_is_needed(learner):
    page = learner.get(QUIZ + "?again=1").text
    while 'name="question"' in page:
        q = hidden(page, "question")
        answer(learner, page, {"a-single": "0"} if q == "single" else
               {"a-tf": "false"} if q == "tf" else right_answers(page))
        page = learner.get(QUIZ).text
    result = learner.get(QUIZ, headers={"Accept-Language": "en"}).text
    assert "You got 5 of 7 right" in result and "★" not in result.split('class="stars"')[0]
    assert "Not passed yet: you need 80%, you have 71%." in result


def test_after_a_wrong_ordering_or_matching_the_right_order_and_pairs_are_listed(learner):
    page = reach(learner, "match")
    assert 'class="key"' not in page
    matched = answer(learner, page, {"a-match-0": "0", "a-match-1": "1"}).text   # both swapped
    assert '<ul class="key"><li>1/2: 50%</li><li>1/4: 25%</li></ul>' in matched
    page = learner.get(QUIZ).text
    assert 'class="key"' not in page                                # never before answering
    shown = offered(page, "a-order-0")
    ordered = answer(learner, page, {f"a-order-{i}": shown[item] for i, item in enumerate(["3/4", "1/2", "1/4"])})
    assert '<ol class="key"><li>1/4</li><li>1/2</li><li>3/4</li></ol>' in ordered.text
    pass_quiz(learner)                                              # right answers: no list
    assert 'class="key"' not in learner.get(QUIZ).text


def test_ordering_lists_start_empty_and_a_check_that_leaves_one_empty_is_refused(learner, inst):
    page = reach(learner, "order")
    for slot in range(3):
        block = re.findall(rf'<input type="radio" name="a-order-{slot}"[^>]*>', page)
        assert len(block) == 3 and not any("checked" in tag for tag in block)
    shown = offered(page, "a-order-0")
    resp = answer(learner, page, {"a-order-0": shown["1/4"], "a-order-1": shown["1/2"]})
    assert resp.status_code == 400 and "Choisissez une réponse dans chaque liste." in text(resp)
    assert [e.body["question"] for e in events(inst, learner, "quiz.answer")][-1] == "match"
    kept = re.findall(r'<input type="radio" name="a-order-\d" value="\d+" checked>', resp.text)
    assert len(kept) == 2                                           # what was chosen stays chosen


def test_matching_and_ordering_show_every_choice_whole_not_cut_inside_a_select(learner):
    for qid, field, texts in [("match", "a-match-0", ["25%", "50%"]), ("order", "a-order-2", ["1/4", "1/2", "3/4"])]:
        page = reach(learner, qid)
        assert "<select" not in page
        assert sorted(offered(page, field)) == sorted(texts)
        answer(learner, page, right_answers(page))


def test_an_incomplete_whole_quiz_says_at_the_top_what_is_missing_numbered_and_keeps_answers(learner, inst):
    inst.db.execute("UPDATE packs SET settings = json_set(settings, '$.quiz_display', 'all') WHERE id = 'mini'")
    page = learner.get(QUIZ).text
    ids = ["single", "multi", "tf", "short", "num", "match", "order", "essay"]
    for n, q in enumerate(ids, 1):
        assert f'<fieldset class="q" id="q-{q}">\n<legend><span class="qn">Question {n}</span>' in page
    fields = {"csrf": csrf_of(page), **{f"t-{q}": hidden(page, f"t-{q}") for q in ids},
              "a-single": "1", "a-short": "élève", "a-match-0": "1"}
    resp = learner.post(QUIZ, data=fields, headers={"Accept-Language": "en"})
    assert resp.status_code == 400 and events(inst, learner, "quiz.answer") == []
    summary = resp.text.split("<main>")[1].split('<fieldset class="q"')[0]   # above the first question
    assert "6 questions are not answered yet:" in summary
    links = re.findall(r'<a href="#q-(\w+)">(\d+)</a>', summary)
    assert links == [("multi", "2"), ("tf", "3"), ("num", "5"), ("match", "6"), ("order", "7"), ("essay", "8")]
    assert all(f'id="q-{q}"' in resp.text for q, _n in links)
    assert '<input type="radio" name="a-single" value="1" checked>' in resp.text
    assert 'value="élève"' in resp.text
    assert '<input type="radio" name="a-match-0" value="1" checked>' in resp.text

"""Formulas in right-to-left text keep their written order: which runs are isolated at pack
build, what is left alone, and where the build warns (kit.content.bidi through the renderer)."""

from __future__ import annotations

import re

import pytest

from kit.content.bidi import doubts
from kit.content.course import load_course
from kit.content.pack import course_members
from kit.content.quiz import parse_quiz_yaml
from kit.content.quizrender import rendered_quiz
from kit.content.render import render_inline, render_lesson, render_text

from conftest import ROOT


def isolated(html: str) -> list[str]:
    """The text of each run the renderer isolated, in order."""
    return re.findall(r'<bdi dir="ltr">(.*?)</bdi>', html)


def test_a_percentage_and_an_equation_in_an_arabic_sentence_are_isolated_apart_from_its_words():
    html = render_inline("10% من 400 = 40", "ar")
    assert html == '<bdi dir="ltr">10%</bdi> من <bdi dir="ltr">400 = 40</bdi>'


def test_an_equation_with_a_placeholder_is_one_run():
    assert isolated(render_inline("أكمل: 1/2 = ?/8. ما العدد الناقص؟", "ar")) == ["1/2 = ?/8"]


@pytest.mark.parametrize("written, run", [
    ("(3 + 4) × 2", "(3 + 4) × 2"),
    ("-5", "-5"),
    ("150 DH", "150 DH"),
    ("tax-gov.ma", "tax-gov.ma"),
    ("0,25", "0,25"),
])
def test_a_whole_left_to_right_expression_is_one_run(written, run):
    assert isolated(render_inline(f"انظر {written} هنا.", "ar")) == [run]


def test_arabic_words_and_punctuation_and_a_sentence_full_stop_stay_outside():
    html = render_inline("الحساب: 200 ÷ 10 = 20، ثم 20 × 3 = 60. انتهى؟", "ar")
    assert isolated(html) == ["200 ÷ 10 = 20", "20 × 3 = 60"]
    assert "</bdi>، ثم" in html and "</bdi>. انتهى؟" in html


def test_a_bracket_the_run_does_not_close_belongs_to_the_arabic_sentence():
    assert isolated(render_inline("(اضغط على 2 + 3) ثم (CNDP)", "ar")) == ["2 + 3", "(CNDP)"]


def test_a_lone_number_or_word_is_left_bare():
    assert render_inline("في الساعة 60 دقيقة عبر Android", "ar") == "في الساعة 60 دقيقة عبر Android"


def test_code_and_an_authors_own_direction_are_left_alone():
    html = render_inline('اكتب `a = 1 + 2` ثم <span dir="ltr">2 × 4 = 8</span>', "ar")
    assert html == 'اكتب <code>a = 1 + 2</code> ثم <span dir="ltr">2 × 4 = 8</span>'


def test_a_formula_in_bold_is_isolated_whole():
    assert isolated(render_inline("إذن **25% = 1/4** و 80 = **40** × 2 و **40** × 2", "ar")) == [
        "25% = 1/4", "80 = <strong>40</strong> × 2", "<strong>40</strong> × 2"]


def test_isolating_twice_changes_nothing():
    once = render_text("10% من 400 = 40", "markdown", "ar")
    assert render_text(once, "html", "ar") == once


def test_a_lesson_in_arabic_is_isolated_and_its_footnote_number_is_not():
    html = render_lesson("# عنوان\n\nالقانون 09.08[^1] و 2 + 2 = 4.\n\n[^1]: صدر سنة 2009: 1 + 1.\n", "x", "ar")
    assert isolated(html) == ["09.08", "2 + 2 = 4", "1 + 1"]
    assert '09.08</bdi><sup id="fnref:1">' in html


def test_french_and_english_are_never_touched():
    for lang in ("fr", "en"):
        assert render_inline("10% de 400 = 40", lang) == "10% de 400 = 40"


def test_french_and_english_packs_are_the_same_bytes_as_without_isolation(monkeypatch):
    members = {c: course_members(load_course(ROOT / "content" / c)) for c in ("numeracy", "digital-literacy")}
    monkeypatch.setattr("kit.content.render.isolate", lambda html: html)
    for course, built in members.items():
        plain = course_members(load_course(ROOT / "content" / course))
        for path, data in built.items():
            if ".ar." not in path:
                assert data == plain[path], f"{course}/{path} changed"
    assert any(".ar." in p and data != plain[p] for p, data in built.items())


def test_every_text_of_an_arabic_quiz_is_isolated():
    quiz = parse_quiz_yaml("""questions:
  - id: q
    type: single
    text: "كم يساوي 10% من 400؟"
    hint: "10% = 1/10"
    feedback: "400 ÷ 10 = 40"
    answers:
      - {text: "4 × 10", correct: true, feedback: "نعم: 4 × 10 = 40"}
      - {text: "40 + 1"}
""", "01-x.ar.quiz.yml")
    q = rendered_quiz(quiz, "ar").questions[0]
    assert isolated(q.text) == ["10%"] and isolated(q.hint) == ["10% = 1/10"]
    assert isolated(q.general_feedback) == ["400 ÷ 10 = 40"]
    assert [isolated(a.text) for a in q.answers] == [["4 × 10"], ["40 + 1"]]
    assert isolated(q.answers[0].feedback) == ["4 × 10 = 40"]


@pytest.mark.parametrize("text, doubt", [
    ("أرسل الرمز و200 درهم", "'و200' touches an Arabic word"),
    ("= 40 + 2 هو الناتج", "the '=' next to '40 + 2' has neutral characters on both sides"),
    ("احسب 2 + 3 = ؟", "the '=' next to '2 + 3' has neutral characters on both sides"),
    ("الثمن **400** = 40 درهم", None),
    ("**الثمن 400** = 40 درهم", "'400 = 40' crosses formatting"),
])
def test_the_build_doubts_what_the_isolation_cannot_place(text, doubt):
    found = [d.message for d in doubts(render_inline(text, "ar"))]
    if doubt is None:
        assert found == []
    else:
        assert len(found) == 1 and doubt in found[0], found


def test_an_operator_between_an_arabic_word_and_a_formula_is_no_doubt():
    assert doubts(render_inline("ربع الساعة = 60 ÷ 4 = 15 دقيقة", "ar")) == []

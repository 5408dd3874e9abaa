"""A learner's typed answer to every short and numeric question of the numeracy samples earns
full credit however a phone writes it: spaces around "/", a decimal comma or dot, Arabic-Indic
digits; and a wrong number still does not."""

from __future__ import annotations

import re

import pytest

from kit.content.questions import grade
from kit.content.questions.model import FULL, Answer, Question
from kit.content.quiz import load_quiz

from conftest import ROOT

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
TYPED = [(path.name, q) for path in sorted((ROOT / "content" / "numeracy").glob("*.quiz.yml"))
         for q in load_quiz(path).questions if q.type in ("short", "numeric")]


def written(q: Question, a: Answer, off: int = 0) -> str:
    """An accepted answer as its author wrote it: a short answer's text, a numeric answer's
    value (or the middle of its range) with a decimal part, so that its mark can be changed.
    `off` makes it a wrong number: that far from the value, or a short answer's last digit moved."""
    if q.type == "short":
        return re.sub(r"\d(?=\D*$)", lambda d: str((int(d.group()) + off) % 10), a.text)
    number = a.value if a.value is not None else (a.min + a.max) / 2
    return f"{number + off:.1f}"


def typed_forms(text: str) -> dict[str, str]:
    """The ways a learner may type `text`."""
    dot = re.sub(r"(?<=\d),(?=\d)", ".", text)
    return {
        "spaces around /": re.sub(r"\s*/\s*", " / ", text),
        "a space before /": re.sub(r"\s*/\s*", " /", text),
        "a space after /": re.sub(r"\s*/\s*", "/ ", text),
        "a decimal comma": re.sub(r"(?<=\d)\.(?=\d)", ",", text),
        "a decimal dot": dot,
        "Arabic-Indic digits": re.sub(r"(?<=\d)\.(?=\d)", "\u066b", dot).translate(ARABIC_INDIC),
        "Arabic-Indic digits, spaced": re.sub(r"\s*/\s*", " / ", dot).translate(ARABIC_INDIC),
        "Arabic-Indic digits, an Arabic comma": re.sub(r"(?<=\d)\.(?=\d)", "\u060c", dot).translate(ARABIC_INDIC),
    }


def test_the_numeracy_samples_have_typed_questions_with_fractions_and_decimals():
    shown = [written(q, a) for _, q in TYPED for a in q.answers if a.credit >= FULL]
    assert any("/" in text for text in shown) and any("." in text for text in shown)


@pytest.mark.parametrize("name, q", TYPED, ids=[f"{name}:{q.id}" for name, q in TYPED])
def test_every_accepted_answer_earns_full_credit_however_it_is_typed(name, q):
    for a in q.answers:
        if a.credit >= FULL:
            for how, typed in typed_forms(written(q, a)).items():
                assert grade(q, typed).credit >= FULL, f"{typed!r} ({how}) is not accepted"


@pytest.mark.parametrize("name, q", TYPED, ids=[f"{name}:{q.id}" for name, q in TYPED])
def test_a_wrong_number_typed_the_same_ways_still_earns_no_full_credit(name, q):
    for a in q.answers:
        if a.credit >= FULL and re.search(r"\d", written(q, a)):
            for how, typed in typed_forms(written(q, a, off=3)).items():
                assert grade(q, typed).credit < FULL, f"{typed!r} ({how}) is accepted"


def test_a_short_answer_written_with_a_decimal_comma_accepts_a_dot_and_arabic_digits():
    q = Question("q", "short", "?", answers=[Answer("3,5 kg", 1.0)])
    assert [grade(q, typed).credit for typed in ("3.5 kg", "٣٫٥ kg", "٣،٥ kg", "3,5 KG", "35 kg")] == [1, 1, 1, 1, 0]

"""Numeric: a typed number, right when it falls within an accepted value ± tolerance or range.
Numbers are read as people type them: decimal commas, Arabic digits, a unit or % after."""

from __future__ import annotations

import math
import random
import re
from typing import Any

from ...core.textfold import fold
from .answers import best, best_index, check_credits, check_full_credit, read_answers
from .model import CATCH_ALL, Answer, Fields, Question, QuestionType, Say, read_typed

ANSWER_KEYS = {"value", "tolerance", "min", "max", "credit", "feedback"}


def read_yaml(q: Question, fields: Fields, say: Say) -> None:
    read_answers(q, fields, say, ANSWER_KEYS, "{value: 20, credit: 1}", listed_is_right=True)


def check(q: Question, say: Say) -> None:
    if not q.answers:
        say("needs at least one accepted number")
    check_credits(q, say, 0)
    for n, a in enumerate(q.answers, 1):
        _check_answer(a, n, say)
    check_full_credit(q, say)


def _check_answer(a: Answer, n: int, say: Say) -> None:
    has_value = a.value is not None
    has_range = a.min is not None or a.max is not None
    if a.text == CATCH_ALL:
        return
    if has_value == has_range:
        say(f"answer {n} needs either a value (with a tolerance) or a range min..max", a.line)
    elif has_range and (a.min is None or a.max is None or a.min > a.max):
        say(f"answer {n} needs a range with min <= max", a.line)
    if a.tolerance < 0:
        say(f"answer {n} has a negative tolerance", a.line)


def grade(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: the typed text (or a number)."""
    number = parse_number(response)
    if number is None:
        return 0.0, []
    return best([a for a in q.answers if accepts(a, number)])


def accepts(a: Answer, number: float) -> bool:
    """Whether a numeric response falls within this answer."""
    if a.text == CATCH_ALL:
        return True
    if a.value is not None:
        # A hair of slack so that 0.1 + 0.2 still equals 0.3.
        return abs(number - a.value) <= a.tolerance + 1e-9 * max(1.0, abs(a.value))
    return a.min is not None and a.max is not None and a.min <= number <= a.max


# Arabic decimal separator, Arabic comma (typed for a decimal comma) and thousands separator,
# then the spaces people put between thousands.
_NUMBER_MARKS = str.maketrans({"\u066b": ".", "\u060c": ",", "\u066c": None, " ": None, "\u00a0": None,
                               "\u202f": None, "'": None})
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$")
# A unit typed after the number ("150 DH", "150 درهم", "3 kg", "20 €") is not part of the answer.
_UNIT = re.compile(r"(?<=[\d\s.,])\s*(?:[^\W\d_]{1,12}\.?|[€$£])$")


def parse_number(response: Any) -> float | None:
    """Read a typed number: "0,25", " 25 % ", "٣٫٥", "٣،٥", "1 000" and "-2e3" all work; None if not a number.

    A lone comma is a decimal comma, as in French and Arabic: "1,5" is one and a half.
    """
    if isinstance(response, bool) or not isinstance(response, (int, float, str)):
        return None
    if isinstance(response, str):
        response = _number_text(response)
        if response is None:
            return None
    try:
        number = float(response)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


def _number_text(typed: str) -> str | None:
    text = _UNIT.sub("", fold(typed).strip())
    text = text.translate(_NUMBER_MARKS).replace("\u2212", "-").removesuffix("%")
    if "," in text:
        # With a dot as well ("1,000.5"), or several ("1,000,000"), commas group thousands.
        text = text.replace(",", "") if "." in text or text.count(",") > 1 else text.replace(",", ".")
    return text if _NUMBER.match(text) else None


def demo_right(q: Question) -> str:
    a = q.answers[best_index(q)]
    return str(a.value if a.value is not None else a.min)


def demo_wrong(q: Question, rng: random.Random) -> str:
    """A near number."""
    try:
        return str(float(demo_right(q)) + rng.choice((-10, -1, 1, 10)))
    except ValueError:
        return "0"


TYPE = QuestionType("numeric", check, yaml_keys=frozenset({"answers"}), read_yaml=read_yaml,
                    grade=grade, read_form=read_typed, demo_right=demo_right, demo_wrong=demo_wrong)

"""Short answer: a typed word or phrase, compared with the accepted answers once case, accents
and Arabic diacritics are folded away, and numbers read as learners type them ("5 / 7" is
"5/7", "3,5" is "3.5", "٥/٧" is "5/7"); a "*" in an accepted answer stands for any text."""

from __future__ import annotations

import random
import re
from typing import Any

from ...core.textfold import fold
from .answers import CHOICE_EXAMPLE, CHOICE_KEYS, best, best_index, check_credits, check_full_credit, \
    read_answers
from .model import Fields, GiftPart, Question, QuestionType, Say, read_typed


def read_yaml(q: Question, fields: Fields, say: Say) -> None:
    read_answers(q, fields, say, CHOICE_KEYS, CHOICE_EXAMPLE, listed_is_right=True)


def from_gift(q: Question, parts: list[GiftPart]) -> None:
    """`=answer` or `=%50%answer`: every listed answer is accepted, in full unless weighted."""
    for part in parts:
        weight, rest = part.weighted()
        q.answers.append(part.answer(1.0 if weight is None else weight, rest))


def check(q: Question, say: Say) -> None:
    if not q.answers:
        say("needs at least one accepted answer")
    check_credits(q, say, 0)
    for n, a in enumerate(q.answers, 1):
        if not fold(a.text):
            say(f"answer {n} has no text", a.line)
    check_full_credit(q, say)


# A fraction's bar with the spaces a phone keyboard puts around it, and a decimal mark between
# digits: the comma of French and Arabic, the Arabic decimal separator, the Arabic comma.
_FRACTION_BAR = re.compile(r"\s*[/\u2044\u2215]\s*")
_DECIMAL_MARK = re.compile(r"(?<=\d)[,\u066b\u060c](?=\d)")


def answer_form(text: str) -> str:
    """The text as compared: folded (so Arabic-Indic digits are digits), fraction bars without
    spaces, a dot for every decimal mark."""
    return _DECIMAL_MARK.sub(".", _FRACTION_BAR.sub("/", fold(text)))


def grade(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: the typed text."""
    if not isinstance(response, str) or not fold(response):
        return 0.0, []
    typed = answer_form(response)
    return best([a for a in q.answers if matches(a.text, typed)])


def matches(text: str, typed: str) -> bool:
    """Whether `typed`, in its answer form, is the answer `text`, where (as in Moodle) each "*"
    stands for any run of characters. The pieces between stars are found in order, each as
    early as possible: a regex of ".*" would backtrack for minutes on "*a*a*a*b*" against a long text."""
    pieces = answer_form(text).split("*")
    if len(pieces) == 1:
        return typed == pieces[0]
    first, *middle, last = pieces
    if len(typed) < len(first) + len(last) or not typed.startswith(first) or not typed.endswith(last):
        return False
    at, end = len(first), len(typed) - len(last)
    for piece in middle:
        found = typed.find(piece, at, end)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def demo_right(q: Question) -> str:
    return q.answers[best_index(q)].text.replace("*", "")


def demo_wrong(q: Question, rng: random.Random) -> str:
    """A letter missing."""
    right = demo_right(q)
    return right[:-1] if len(right) > 1 else right + "?"


TYPE = QuestionType("short", check, yaml_keys=frozenset({"answers"}), read_yaml=read_yaml,
                    from_gift=from_gift, grade=grade, read_form=read_typed, demo_right=demo_right,
                    demo_wrong=demo_wrong)

"""The `answers:` list that single, multiple, short and numeric questions share: read from
YAML, checked (credits, texts), and the best of the accepted answers picked when grading.
"""

from __future__ import annotations

import math
from typing import Any

from .model import FULL, Answer, Fields, GiftPart, Question, Say

CHOICE_KEYS = {"text", "correct", "credit", "feedback"}
CHOICE_EXAMPLE = "{text: ..., correct: true}"


def read_answers(q: Question, fields: Fields, say: Say, keys: set[str], example: str,
                 listed_is_right: bool = False) -> list[Answer]:
    """Append the YAML `answers:` to `q.answers`; return those marked `correct: true` without
    a credit of their own (a multiple question shares the credit among them).

    A listed answer of a type that lists only what it accepts (`listed_is_right`: short,
    numeric) is accepted in full unless it says otherwise.
    """
    raw = fields.raw.get("answers")
    if raw is None:
        return []
    if not isinstance(raw, list):
        say("answers must be a list")
        return []
    flagged = []
    for n, (item, line) in enumerate(fields.items("answers"), 1):
        answer = _answer(item, n, line, say, keys, example, listed_is_right)
        if answer is not None:
            q.answers.append(answer)
            if isinstance(item, dict) and item.get("correct") is True and "credit" not in item:
                flagged.append(answer)
    return flagged


def _answer(raw: Any, n: int, line: int | None, say: Say, keys: set[str], example: str,
            listed_is_right: bool) -> Answer | None:
    if not isinstance(raw, dict):
        say(f"answer {n} must be a mapping such as {example}", line)
        return None
    for key in sorted(set(raw) - keys, key=str):
        say(f"answer {n} has unknown key {key!r}; use {', '.join(sorted(keys))}{comma_hint(raw[key])}", line)
    if "correct" in raw and not isinstance(raw["correct"], bool):
        say(f"answer {n}: correct must be true or false", line)
    default = 1.0 if listed_is_right or raw.get("correct") is True else 0.0
    numbers = {key: _number(raw, key, n, line, say) for key in ("credit", "value", "tolerance", "min", "max")}
    return Answer(text=_text(raw, n, line, say), feedback=_text(raw, n, line, say, "feedback"),
                  credit=default if numbers["credit"] is None else numbers["credit"],
                  value=numbers["value"], tolerance=numbers["tolerance"] or 0.0,
                  min=numbers["min"], max=numbers["max"], line=line)


def comma_hint(value: Any) -> str:
    """In {text: a, b} the comma ends the text and makes "b" a key with no value: say so."""
    return " (a comma in unquoted text starts a new key: quote the text)" if value is None else ""


def _text(raw: dict, n: int, line: int | None, say: Say, key: str = "text") -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        say(f"answer {n}: {key} must be text", line)
        return ""
    return value.strip()


def _number(raw: dict, key: str, n: int, line: int | None, say: Say) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        say(f"answer {n}: {key} must be a number, not {value!r}", line)
        return None
    return float(value)


def choices_from_gift(q: Question, parts: list[GiftPart]) -> None:
    """The answers of a single or multiple question: `=` right, `~` wrong, unless weighted."""
    for part in parts:
        weight, rest = part.weighted()
        if "->" in rest.partition("#")[0]:
            raise part.error("matching answers (a -> b) mixed with ~ answers; a matching question "
                             "has only =left -> right")
        default = 1.0 if part.marker == "=" else 0.0
        q.answers.append(part.answer(default if weight is None else weight, rest))


# ------------------------------------------------------------------------------------ checks

def check_credits(q: Question, say: Say, low: float) -> None:
    for n, a in enumerate(q.answers, 1):
        if not low <= a.credit <= 1:
            say(f"answer {n} has credit {a.credit:g}; credits go from {low:g} to 1", a.line)


def check_choice_texts(q: Question, say: Say) -> None:
    if len(q.answers) < 2:
        say(f"a {q.type} question needs at least 2 answers, has {len(q.answers)}")
    for n, a in enumerate(q.answers, 1):
        if not a.text.strip():
            say(f"answer {n} has no text", a.line)


def check_full_credit(q: Question, say: Say) -> None:
    if q.answers and not any(a.credit >= FULL for a in q.answers):
        say("no answer gives full credit; give one credit 1")


def check_no_answers(q: Question, say: Say) -> None:
    """For the types that take no answers at all (essay, description)."""
    if q.answers or q.pairs or q.items or q.answer is not None:
        say(f"a {q.type} question takes no answers")


# ----------------------------------------------------------------------------------- grading

def best(matching: list[Answer]) -> tuple[float, list[str]]:
    """The credit and feedback of the best accepted answer (the first of the best, in the
    author's order), or nothing."""
    if not matching:
        return 0.0, []
    top = max(matching, key=lambda a: a.credit)
    return top.credit, [top.feedback]


def best_index(q: Question) -> int:
    """The index of the answer with the most credit (the first of them)."""
    return max(range(len(q.answers)), key=lambda i: q.answers[i].credit)

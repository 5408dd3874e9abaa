"""True or false: one statement, two radio buttons; feedback may differ by the choice made."""

from __future__ import annotations

import random
from typing import Any

from .model import MISSING, N_, Fields, FormData, Question, QuestionType, Say, Translate, field_name


def read_yaml(q: Question, fields: Fields, say: Say) -> None:
    feedback = fields.raw.get("feedback")
    if isinstance(feedback, dict):
        # YAML reads the keys true/false as booleans; "true"/"false" in quotes work too.
        by_choice = {str(k).lower(): v for k, v in feedback.items()}
        if set(by_choice) - {"true", "false"}:
            say("truefalse feedback is written {true: ..., false: ...}")
        q.feedback_true, q.feedback_false = by_choice.get("true", ""), by_choice.get("false", "")
    elif feedback is not None and not isinstance(feedback, str):
        say("feedback must be text or {true: ..., false: ...}")
    if "answer" in fields.raw:
        if not isinstance(fields.raw["answer"], bool):
            say("answer must be true or false", fields.line_of("answer"))
        else:
            q.answer = fields.raw["answer"]


def check(q: Question, say: Say) -> None:
    if not isinstance(q.answer, bool):
        say("needs its answer: true or false")


def grade(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: True or False."""
    if not isinstance(response, bool):
        return 0.0, []
    feedback = q.feedback_true if response else q.feedback_false
    return (1.0 if response == q.answer else 0.0), [feedback]


def read_form(q: Question, form: FormData, seed: str) -> tuple[Any, str]:
    value = {"true": True, "false": False}.get(form.get(field_name(q), ""))
    return (value, "") if value is not None else (None, MISSING)


def describe(q: Question, response: Any, translate: Translate) -> list[str]:
    if not isinstance(response, bool):
        return []
    return [translate(N_("True")) if response else translate(N_("False"))]


def demo_right(q: Question) -> bool:
    return bool(q.answer)


def demo_wrong(q: Question, rng: random.Random) -> bool:
    return not q.answer


TYPE = QuestionType("truefalse", check, describe=describe, yaml_keys=frozenset({"answer", "feedback"}),
                    read_yaml=read_yaml, grade=grade, read_form=read_form, demo_right=demo_right,
                    demo_wrong=demo_wrong)

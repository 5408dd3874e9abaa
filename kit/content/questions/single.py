"""Single choice: one right answer among several (a radio button each); the chosen answer's
credit is the grade, so a "nearly right" answer may earn part of it."""

from __future__ import annotations

import random
from typing import Any

from .answers import CHOICE_EXAMPLE, CHOICE_KEYS, best_index, check_choice_texts, check_credits, choices_from_gift, \
    read_answers
from .model import FULL, MISSING, Fields, FormData, Question, form_position, QuestionType, Say, Translate, field_name, \
    is_index, plain_text


def read_yaml(q: Question, fields: Fields, say: Say) -> None:
    read_answers(q, fields, say, CHOICE_KEYS, CHOICE_EXAMPLE)


def check(q: Question, say: Say) -> None:
    check_choice_texts(q, say)
    check_credits(q, say, -1)
    correct = sum(a.credit >= FULL for a in q.answers)
    if correct != 1:
        say(f"needs exactly one correct answer, has {correct} (YAML: correct: true; GIFT: =answer)")


def grade(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: the index of the chosen answer."""
    if not is_index(response, len(q.answers)):
        return 0.0, []
    chosen = q.answers[response]
    return chosen.credit, [chosen.feedback]


def view(q: Question, seed: str) -> dict:
    return {"choices": [a.text for a in q.answers]}


def read_form(q: Question, form: FormData, seed: str) -> tuple[Any, str]:
    value = form_position(form.get(field_name(q), ""))
    return (value, "") if value is not None else (None, MISSING)


def describe(q: Question, response: Any, translate: Translate) -> list[str]:
    return [plain_text(q.answers[response].text)] if is_index(response, len(q.answers)) else []


def demo_wrong(q: Question, rng: random.Random) -> int:
    """The neighbouring choice."""
    return (best_index(q) + rng.choice((-1, 1))) % max(len(q.answers), 1)


TYPE = QuestionType("single", check, yaml_keys=frozenset({"answers"}), read_yaml=read_yaml,
                    from_gift=choices_from_gift, grade=grade, view=view, read_form=read_form,
                    describe=describe, demo_right=best_index, demo_wrong=demo_wrong,
                    renders_answer_texts=True)

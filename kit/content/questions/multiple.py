"""Multiple choice: several right answers (a checkbox each); the credits of the ticked answers
add up, and a wrong tick may take credit away."""

from __future__ import annotations

import random
from typing import Any

from .answers import CHOICE_EXAMPLE, CHOICE_KEYS, check_choice_texts, check_credits, choices_from_gift, read_answers
from .model import Fields, FormData, N_, Question, form_position, QuestionType, Say, Translate, field_name, is_index, \
    is_index_list, plain_text


def read_yaml(q: Question, fields: Fields, say: Say) -> None:
    flagged = read_answers(q, fields, say, CHOICE_KEYS, CHOICE_EXAMPLE)
    # Correct answers without credits share the credit equally.
    for answer in flagged:
        answer.credit = 1 / len(flagged)


def check(q: Question, say: Say) -> None:
    check_choice_texts(q, say)
    check_credits(q, say, -1)
    total = sum(a.credit for a in q.answers if a.credit > 0)
    if abs(total - 1) > 0.01:
        say(f"the credits of the correct answers sum to {total:g}; they must sum to 1")


def grade(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: the indices of the chosen answers."""
    if not is_index_list(response, len(q.answers)):
        return 0.0, []
    chosen = [q.answers[i] for i in sorted(set(response))]
    return sum(a.credit for a in chosen), [a.feedback for a in chosen]


def view(q: Question, seed: str) -> dict:
    return {"choices": [a.text for a in q.answers]}


def read_form(q: Question, form: FormData, seed: str) -> tuple[Any, str]:
    values = [v for v in map(form_position, form.getlist(field_name(q))) if v is not None]
    return (sorted(set(values)), "") if values else (None, N_("Tick at least one answer."))


def describe(q: Question, response: Any, translate: Translate) -> list[str]:
    if not isinstance(response, list):
        return []
    return [plain_text(q.answers[i].text) for i in response if is_index(i, len(q.answers))]


def demo_right(q: Question) -> list[int]:
    return [i for i, a in enumerate(q.answers) if a.credit > 0]


def demo_wrong(q: Question, rng: random.Random) -> list[int]:
    """One box too many, or one too few."""
    return sorted(set(demo_right(q)) ^ {rng.randrange(len(q.answers))})


TYPE = QuestionType("multiple", check, yaml_keys=frozenset({"answers"}), read_yaml=read_yaml,
                    from_gift=choices_from_gift, grade=grade, view=view, read_form=read_form,
                    describe=describe, demo_right=demo_right, demo_wrong=demo_wrong,
                    renders_answer_texts=True)

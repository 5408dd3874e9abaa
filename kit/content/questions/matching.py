"""Matching: a list of choices (radio buttons) under each left-hand text, offering every right-hand text (and
distractors) in an order that gives nothing away; each pair matched right earns its share."""

from __future__ import annotations

import random
from typing import Any

from ...core.textfold import fold
from .model import LIST_MISSING, RIGHT_PAIRS, Fields, FormData, GiftPart, Question, QuestionType, Say, Solution, \
    Translate, is_index, is_index_list, plain_text, read_lists, swap_neighbours


def choices(q: Question) -> list[str]:
    """The right-hand texts the question offers, sorted, so their order tells nothing."""
    texts = {right for _, right in q.pairs} | set(q.distractors)
    return sorted(texts, key=lambda t: (fold(t), t))


def read_yaml(q: Question, fields: Fields, say: Say) -> None:
    if "pairs" in fields.raw:
        q.pairs = _pairs(fields, say)
    if "distractors" in fields.raw:
        q.distractors = fields.texts("distractors", say) or q.distractors


def _pairs(fields: Fields, say: Say) -> list[tuple[str, str]]:
    if not isinstance(fields.raw["pairs"], list):
        say("pairs must be a list of {left: ..., right: ...}")
        return []
    pairs = []
    for n, (item, line) in enumerate(fields.items("pairs"), 1):
        if not isinstance(item, dict) or set(item) != {"left", "right"} \
                or not all(isinstance(v, str) for v in item.values()):
            say(f"pair {n} must be written {{left: ..., right: ...}}", line)
            continue
        pairs.append((item["left"].strip(), item["right"].strip()))
    return pairs


def from_gift(q: Question, parts: list[GiftPart]) -> None:
    """`=left -> right` pairs; an empty left side (`= -> Chat`) is a distractor, as in Moodle."""
    for part in parts:
        if "->" not in part.text:
            raise part.error(f"{part.shown()!r} has no ->; in a matching question every answer "
                             "is =left -> right")
        left, _, right = part.text.partition("->")
        left, right = part.piece(left), part.piece(right)
        if left:
            q.pairs.append((left, right))
        else:
            q.distractors.append(right)


def check(q: Question, say: Say) -> None:
    if len(q.pairs) < 2:
        say(f"a matching question needs at least 2 pairs, has {len(q.pairs)}")
    lefts = [fold(left) for left, _ in q.pairs]
    if any(not left for left in lefts) or any(not fold(right) for _, right in q.pairs):
        say("every pair needs text on both sides")
    if len(set(lefts)) != len(lefts):
        say("two pairs have the same left-hand text")


def grade(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: for each pair in order, the index of the chosen text in `choices(q)`."""
    offered = choices(q)
    if not q.pairs or not is_index_list(response, len(offered)) or len(response) != len(q.pairs):
        return 0.0, []
    right = sum(offered[i] == r for i, (_, r) in zip(response, q.pairs))
    return right / len(q.pairs), []


def view(q: Question, seed: str) -> dict:
    return {"lefts": [left for left, _ in q.pairs], "choices": choices(q)}


def read_form(q: Question, form: FormData, seed: str) -> tuple[Any, str]:
    picked = read_lists(q, form, len(q.pairs))
    return (picked, "") if picked is not None else (None, LIST_MISSING)


def describe(q: Question, response: Any, translate: Translate) -> list[str]:
    if not isinstance(response, list):
        return []
    offered = choices(q)
    return [f"{plain_text(left)}: {plain_text(offered[i])}" for (left, _right), i in zip(q.pairs, response)
            if is_index(i, len(offered))]


def solution(q: Question) -> Solution:
    return Solution(RIGHT_PAIRS, [f"{plain_text(left)}: {plain_text(right)}" for left, right in q.pairs])


def demo_right(q: Question) -> list[int]:
    offered = choices(q)
    return [offered.index(right) for _, right in q.pairs]


def demo_wrong(q: Question, rng: random.Random) -> list[int]:
    return swap_neighbours(demo_right(q), rng)


TYPE = QuestionType("matching", check, yaml_keys=frozenset({"pairs", "distractors"}),
                    yaml_text_keys=frozenset({"left", "right", "distractors"}), read_yaml=read_yaml,
                    from_gift=from_gift, grade=grade, view=view, read_form=read_form, describe=describe,
                    demo_right=demo_right, demo_wrong=demo_wrong, solution=solution)

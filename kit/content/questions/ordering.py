"""Ordering: items to put in order, shown shuffled (never in the right order); the page posts
positions in the shown list, so its source never reveals the order. Each item in place earns
its share."""

from __future__ import annotations

import hashlib
import random
from typing import Any

from ...core.textfold import fold
from .model import LIST_MISSING, N_, RIGHT_ORDER, Fields, FormData, Question, QuestionType, Say, Solution, Translate, \
    is_index, is_permutation, plain_text, read_lists, swap_neighbours


def shown_order(q: Question, seed: str) -> list[int]:
    """Indices into `items` in the order to show them: stable for a seed, never the right order."""
    def key(i: int) -> str:
        return hashlib.sha256(f"{seed}\0{q.id}\0{i}".encode()).hexdigest()
    order = sorted(range(len(q.items)), key=key)
    if len(order) >= 2 and order == sorted(order):
        order = order[1:] + order[:1]
    return order


def unshuffle(q: Question, seed: str, positions: Any) -> list[int] | None:
    """Turn positions in the shown list into indices into `items` (a response for grading);
    None unless the positions name each shown item once."""
    shown = shown_order(q, seed)
    if not is_permutation(positions, len(shown)):
        return None
    return [shown[p] for p in positions]


def read_yaml(q: Question, fields: Fields, say: Say) -> None:
    if "items" in fields.raw:
        q.items = fields.texts("items", say) or q.items


def check(q: Question, say: Say) -> None:
    if len(q.items) < 2:
        say(f"an ordering question needs at least 2 items, has {len(q.items)}")
    folded = [fold(item) for item in q.items]
    if any(not item for item in folded):
        say("an item has no text")
    if len(set(folded)) != len(folded):
        say("two items have the same text, so their order cannot be graded")


def grade(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: the learner's order, as indices into `items` (see `unshuffle`)."""
    if not q.items or not is_permutation(response, len(q.items)):
        return 0.0, []
    in_place = sum(i == position for position, i in enumerate(response))
    return in_place / len(q.items), []


def view(q: Question, seed: str) -> dict:
    return {"items": [q.items[i] for i in shown_order(q, seed)]}


def read_form(q: Question, form: FormData, seed: str) -> tuple[Any, str]:
    picked = read_lists(q, form, len(q.items))
    if picked is None:
        return None, LIST_MISSING
    order = unshuffle(q, seed, picked)
    return (order, "") if order is not None else (None, N_("Use each item once."))


def describe(q: Question, response: Any, translate: Translate) -> list[str]:
    if not isinstance(response, list):
        return []
    return [plain_text(q.items[i]) for i in response if is_index(i, len(q.items))]


def solution(q: Question) -> Solution:
    return Solution(RIGHT_ORDER, [plain_text(item) for item in q.items], numbered=True)


def demo_right(q: Question) -> list[int]:
    return list(range(len(q.items)))


def demo_wrong(q: Question, rng: random.Random) -> list[int]:
    return swap_neighbours(demo_right(q), rng)


TYPE = QuestionType("ordering", check, describe=describe, yaml_keys=frozenset({"items"}),
                    yaml_text_keys=frozenset({"items"}), read_yaml=read_yaml, grade=grade, view=view,
                    read_form=read_form, demo_right=demo_right, demo_wrong=demo_wrong, solution=solution)

"""Question types: one module each, registered in TYPES, and the calls that go through them.

A type module fills a `QuestionType` (model.py): how YAML gives its fields, its checks, its
grading, what a page may show, how a posted form becomes its response, how that response is
described, and demo answers. Adding a type is a module here, a line in TYPES, a template
(kit/server/templates/learn/questions/<name>.html) and its tests.
"""

from __future__ import annotations

import re
from typing import Any

from . import description, essay, matching, multiple, numeric, ordering, short, single, truefalse
from .model import FORMATS, FULL, Found, FormData, Grade, Question, QuestionType, Solution, Translate

# In the order authors meet them (docs/course-format.md, `kit quiz check`).
TYPES: tuple[QuestionType, ...] = (single.TYPE, multiple.TYPE, truefalse.TYPE, short.TYPE, numeric.TYPE,
                                   matching.TYPE, ordering.TYPE, essay.TYPE, description.TYPE)
NAMES = tuple(t.name for t in TYPES)
_BY_NAME = {t.name: t for t in TYPES}
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def type_named(name: str) -> QuestionType | None:
    return _BY_NAME.get(name)


def type_of(question: Question) -> QuestionType:
    """The type of a checked question (a pack holds only those); KeyError for an unknown one."""
    return _BY_NAME[question.type]


def check_question(q: Question) -> list[Found]:
    """The problems of one question: what it needs to be answerable and gradable."""
    found: list[Found] = []

    def say(message: str, line: int | None = None) -> None:
        found.append((line or q.line, f"question {q.id}: {message}"))

    if not _ID.match(q.id):
        say("id must be letters, digits, '-', '_' or '.' (at most 64)")
    qtype = type_named(q.type)
    if qtype is None:
        say(f"unknown type {q.type!r}; use one of {', '.join(NAMES)}")
        return found
    if q.format not in FORMATS:
        say(f"unknown text format {q.format!r}; use one of {', '.join(FORMATS)}")
    if not q.text.strip():
        say("has no text")
    qtype.check(q, say)
    return found


def grade(question: Question, response: Any) -> Grade:
    """Score a learner's response, shaped as the type's `read_form` gives it (each type's
    `grade` says its shape). A missing or malformed response scores 0; it never raises."""
    general = [question.general_feedback] if question.general_feedback else []
    qtype = type_named(question.type)
    if qtype is None or qtype.grade is None:  # essay, description: kept for the teacher
        return Grade(None, False, general)
    credit, feedback = qtype.grade(question, response)
    credit = min(1.0, max(0.0, credit))
    return Grade(credit, credit >= FULL, [f for f in feedback if f] + general)


def public_view(question: Question, seed: str = "") -> dict:
    """What a page may show before the learner answers: no credits, no correct flags, no feedback.

    `seed` shuffles what is shown shuffled (ordering items); the page posts positions in the
    shown list, and `read_form` with the same seed turns them back into a response.
    """
    view: dict[str, Any] = {"id": question.id, "type": question.type, "text": question.text,
                            "format": question.format}
    if question.hint:
        view["hint"] = question.hint
    qtype = type_named(question.type)
    if qtype is not None:
        view.update(qtype.view(question, seed))
    return view


def read_form(question: Question, form: FormData, seed: str) -> tuple[Any, str]:
    """(the response `grade` takes, "") from the posted fields of one question, or (None, the
    message id of what to fix) when it was left unanswered; the web translates the message.
    Raises ValueError for a type that takes no answer (a description) or an unknown one."""
    qtype = type_named(question.type)
    if qtype is None or qtype.read_form is None:
        raise ValueError(f"a {question.type} question takes no answer")
    return qtype.read_form(question, form, seed)


def describe(question: Question, response: Any, translate: Translate = str) -> list[str]:
    """A recorded response as plain lines of text, to show the learner what they answered;
    `translate` turns the kit's own words ("True") into the page's language."""
    if isinstance(response, str):
        return [response]
    qtype = type_named(question.type)
    return qtype.describe(question, response, translate) if qtype else []


def solution(question: Question) -> "Solution | None":
    """The right answer as a list (the right order, the right pairs), for the feedback after
    a wrong answer; None for the types whose feedback says it in words."""
    qtype = type_named(question.type)
    return qtype.solution(question) if qtype and qtype.solution else None

"""A quiz's texts as a pack stores them: rendered to safe HTML once, at build time, with the
formulas of right-to-left quizzes isolated (kit.content.bidi), and the places where that
isolation is unsure, as warnings. Build-time only: the server reads what this wrote and never
imports a Markdown parser.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..core.errors import Problem
from .bidi import doubts, is_rtl
from .questions import type_of
from .questions.model import Question
from .quiz import Quiz, quiz_language, read_source
from .render import render_text


def rendered_quiz(quiz: Quiz, lang: "str | None") -> Quiz:
    """The quiz with every text a learner reads turned into safe HTML, once, at build time;
    `lang` None leaves formulas as they are (a pack read back, isolated when it was built).

    Accepted short answers stay as written: the grader compares them with what is typed.
    """
    rendered = _each_text(quiz, lambda text, q: render_text(text, q.format, lang))
    for q in rendered.questions:
        q.format = "html"
    return rendered


def quiz_warnings(path: Path, quiz: Quiz) -> list[Problem]:
    """Where the quiz file's formulas cannot be isolated for sure (kit.content.bidi), with
    their lines: warnings, not errors. Only a right-to-left quiz (its name says `.ar.`) has any."""
    path = Path(path)
    lang = quiz_language(path)
    if not is_rtl(lang):
        return []
    source = read_source(path)
    found: list[Problem] = []

    def note(text: str, q: Question) -> str:
        for doubt in doubts(render_text(text, q.format, lang)):
            found.append(Problem(path, doubt.line_in(source, q.line), doubt.message))
        return text

    _each_text(quiz, note)
    return found


def _each_text(quiz: Quiz, show: Callable[[str, Question], str]) -> Quiz:
    """A copy of the quiz with `show` applied to every text a learner reads (question, hint,
    feedback, pairs, items, answers' feedback, and answers' texts where the type shows them)."""
    copy = Quiz.from_dict(quiz.to_dict())
    for q, original in zip(copy.questions, quiz.questions):  # the original knows its source line
        _show_texts(q, lambda text, original=original: show(text, original) if text else "")
    return copy


def _show_texts(q: Question, one: Callable[[str], str]) -> None:
    q.text, q.hint, q.general_feedback = one(q.text), one(q.hint), one(q.general_feedback)
    q.feedback_true, q.feedback_false = one(q.feedback_true), one(q.feedback_false)
    q.pairs = [(one(left), one(right)) for left, right in q.pairs]
    q.distractors = [one(d) for d in q.distractors]
    q.items = [one(i) for i in q.items]
    for a in q.answers:
        a.feedback = one(a.feedback)
        if type_of(q).renders_answer_texts:
            a.text = one(a.text)

"""Quizzes with no JavaScript: forms posted to the server, graded there, feedback shown.

One question per page or the whole quiz on one page, as the course says. Pages show only
`public_view` of a question (no keys, no credits); the server grades with kit.content.quiz.
Each question's form field `t-<id>` is an idempotency token (a UUID made when the page was
drawn), used as the event's uid: a double tap, a reload or a retried request records the
answer once, and the page then shows the answer that was recorded. The token also seeds
the shuffle of an ordering question, so the posted positions can be turned back into items.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import abort, g, render_template, request, url_for
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from ...content import library
from ...content.quiz import Grade, Question, Quiz, grade, public_view
from ...core.db import transaction
from ...core.eventlog import append
from ...core.events import AnswerRecorded
from ...core.progress import PASS_SCORE, Attempt, QuizOutline, QuizProgress, quiz_progress
from ..i18n import gettext as _
from ..reports import quiz_outline
from ..store import get_db
from . import bp, signed_in
from .courses import course_or_404, form_uuid, my_events, neighbours

MAX_TEXT = 2000


@dataclass
class Shown:
    """A question as a page shows it: its public view, form token, and (after answering)
    the recorded response and its grade."""
    question: Question
    view: dict
    token: str
    number: int = 0
    response: object = None
    grade: "Grade | None" = None
    error: str = ""


@dataclass
class QuizPage:
    course: library.Course
    lang: str
    lesson: library.Lesson
    quiz: Quiz
    outline: QuizOutline

    @property
    def answerable(self) -> list[Question]:
        return [q for q in self.quiz.questions if q.type != "description"]

    def progress(self) -> QuizProgress:
        return quiz_progress(my_events(self.course.id, self.lesson.lesson_id, ("quiz.answer",)),
                             self.course.id, self.lesson.lesson_id, self.outline)

    def render(self, template: str, status: int = 200, **context):
        _previous, following = neighbours(self.course, self.lesson.lesson_id, self.lang)
        return render_template(template, page=self, course=self.course, lesson=self.lesson,
                               following=following, total=len(self.answerable), **context), status


def load(pack_id: str, lesson_id: str) -> QuizPage:
    course = course_or_404(pack_id)
    lang = course.lang_for(g.lang)
    db = get_db()
    lesson = library.lesson(db, pack_id, lesson_id, lang)
    quiz = library.quiz(db, pack_id, lesson_id, lang)
    outline = quiz_outline(quiz, course)
    if lesson is None or quiz is None or outline is None:
        abort(404)
    return QuizPage(course, lang, lesson, quiz, outline)


def show(q: Question, token: "str | None" = None, number: int = 0) -> Shown:
    token = token or str(uuid.uuid4())
    return Shown(q, public_view(q, token), token, number)


@bp.route("/c/<pack_id>/<lesson_id>/quiz")
@signed_in
def quiz(pack_id: str, lesson_id: str):
    page = load(pack_id, lesson_id)
    progress = page.progress()
    if progress.current is None and progress.last_complete and not request.args.get("again"):
        return result(page, progress)
    if page.course.quiz_display == "all":
        return page.render("learn/quiz_all.html", shown=[show(q, number=i) for i, q in
                                                          enumerate(page.answerable, 1)],
                           descriptions=descriptions_before(page.quiz))
    answered = progress.current.answers if progress.current else {}
    number, q = next((i, q) for i, q in enumerate(page.answerable, 1) if q.id not in answered)
    return page.render("learn/quiz_one.html", shown=show(q, number=number),
                       intro=descriptions_before(page.quiz).get(q.id, []))


def descriptions_before(quiz: Quiz) -> "dict[str, list[Question]]":
    """Text-only 'questions' (descriptions), shown just above the question that follows them."""
    out: dict[str, list[Question]] = {}
    pending: list[Question] = []
    for q in quiz.questions:
        if q.type == "description":
            pending.append(q)
        else:
            out[q.id], pending = pending, []
    return out


@bp.route("/c/<pack_id>/<lesson_id>/quiz", methods=["POST"])
@signed_in
def answer(pack_id: str, lesson_id: str):
    page = load(pack_id, lesson_id)
    if page.course.quiz_display == "all":
        return answer_all(page)
    q = page.quiz.find(request.form.get("question", ""))
    if q is None or q.type == "description":
        abort(400)
    number = [a.id for a in page.answerable].index(q.id) + 1
    shown = show(q, form_uuid(request.form.get(f"t-{q.id}", "")), number)
    response, shown.error = read_response(q, request.form, shown.token)
    if shown.error:
        return page.render("learn/quiz_one.html", 400, shown=shown, intro=[], form=request.form)
    record(page, shown, response)
    progress = page.progress()
    return page.render("learn/quiz_feedback.html", shown=shown, finished=progress.current is None)


def answer_all(page: QuizPage):
    """The whole quiz posted at once: every question must be answered before any is recorded."""
    shown = [show(q, form_uuid(request.form.get(f"t-{q.id}", "")), i) for i, q in enumerate(page.answerable, 1)]
    responses = []
    for s in shown:
        response, s.error = read_response(s.question, request.form, s.token)
        responses.append(response)
    if any(s.error for s in shown):
        return page.render("learn/quiz_all.html", 400, shown=shown, form=request.form,
                           descriptions=descriptions_before(page.quiz))
    with transaction(get_db()):  # the whole quiz or nothing, even if the server dies midway
        for s, response in zip(shown, responses):
            record(page, s, response)
    return result(page, page.progress(), shown)


def record(page: QuizPage, shown: Shown, response: object) -> None:
    """Append the answer (once per token) and keep, for display, what was recorded."""
    q = shown.question
    marked = grade(q, response)
    event, _created = append(get_db(), AnswerRecorded(
        page.course.id, page.lesson.lesson_id, page.lang, q.id, marked.credit, marked.correct, response,
        token=shown.token), learner_id=g.learner.id)
    shown.response = event.payload().response
    shown.grade = grade(q, shown.response)


def result(page: QuizPage, progress: QuizProgress, shown: "list[Shown] | None" = None):
    attempt: Attempt = progress.last_complete
    marks = [(q, attempt.answers.get(q.id)) for q in page.answerable]
    return page.render("learn/quiz_result.html", progress=progress, attempt=attempt, marks=marks,
                       shown=shown or [], pass_score=PASS_SCORE, again=url_for("learn.quiz", pack_id=page.course.id,
                                                        lesson_id=page.lesson.lesson_id, again=1))


def read_response(q: Question, form: MultiDict, seed: str) -> "tuple[object, str]":
    """The response shape kit.content.quiz.grade expects, from the posted fields of one
    question, or an error to show when it was left unanswered."""
    name = f"a-{q.id}"
    missing = (None, _("Answer this question to go on."))
    if q.type == "single":
        value = form.get(name, "")
        return (int(value), "") if value.isdigit() else missing
    if q.type == "multiple":
        values = [int(v) for v in form.getlist(name) if v.isdigit()]
        return (sorted(set(values)), "") if values else (None, _("Tick at least one answer."))
    if q.type == "truefalse":
        value = {"true": True, "false": False}.get(form.get(name, ""))
        return (value, "") if value is not None else missing
    if q.type in ("short", "numeric", "essay"):
        text = form.get(name, "").strip()[:MAX_TEXT]
        return (text, "") if text else missing
    if q.type in ("matching", "ordering"):
        count = len(q.pairs) if q.type == "matching" else len(q.items)
        values = [form.get(f"{name}-{i}", "") for i in range(count)]
        if not all(v.isdigit() for v in values):
            return (None, _("Choose an answer in every list."))
        picked = [int(v) for v in values]
        if q.type == "matching":
            return picked, ""
        order = q.unshuffle(seed, picked)
        return (order, "") if order is not None else (None, _("Use each item once."))
    abort(400)


@bp.app_template_global("describe")
def describe(q: Question, response: object) -> list[str]:
    """A recorded response as plain lines of text, to show the learner what they answered."""
    def text(html: str) -> str:
        return Markup(html).striptags()

    def valid(i: object, size: int) -> bool:
        return isinstance(i, int) and not isinstance(i, bool) and 0 <= i < size

    if isinstance(response, str):
        return [response]
    if q.type == "truefalse" and isinstance(response, bool):
        return [_("True") if response else _("False")]
    if q.type == "single" and valid(response, len(q.answers)):
        return [text(q.answers[response].text)]
    if not isinstance(response, list):
        return []
    if q.type == "multiple":
        return [text(q.answers[i].text) for i in response if valid(i, len(q.answers))]
    if q.type == "matching":
        choices = q.match_choices()
        return [f"{text(left)}: {text(choices[i])}" for (left, _right), i in zip(q.pairs, response)
                if valid(i, len(choices))]
    if q.type == "ordering":
        return [text(q.items[i]) for i in response if valid(i, len(q.items))]
    return []

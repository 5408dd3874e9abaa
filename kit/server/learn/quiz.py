"""Quizzes with no JavaScript: forms posted to the server, graded there, feedback shown.

One question per page or the whole quiz on one page, as the course says. Pages show only
`public_view` of a question (no keys, no credits); kit.learning grades and records answers.
Each question's form field `t-<id>` is an idempotency token (a UUID made when the page was
drawn), used as the event's uid: a double tap, a reload or a retried request records the
answer once, and the page then shows the answer that was recorded. The token also seeds
the shuffle of an ordering question, so the posted positions can be turned back into items.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from flask import abort, g, render_template, request, url_for
from werkzeug.datastructures import MultiDict

from ... import learning
from ...content import questions
from ...content.questions import Grade, Question, public_view, type_of
from ...content.quiz import Quiz
from ...core.progress import PASS_SCORE, Attempt, QuizProgress
from ..i18n import gettext as _
from ..store import get_db
from .blueprint import bp, signed_in
from .courses import content_cache, course_or_404, form_uuid, progress_cache


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

    def answered(self, answer: learning.Answered) -> None:
        self.response, self.grade = answer.response, answer.grade


def quiz_or_404(pack_id: str, lesson_id: str) -> learning.QuizPlace:
    place = learning.find_quiz(get_db(), course_or_404(pack_id), lesson_id, g.lang, content_cache().get)
    if place is None:
        abort(404)
    return place


def render(place: learning.QuizPlace, template: str, status: int = 200, **context):
    return render_template(template, course=place.course, lesson=place.lesson.lesson,
                           total=len(place.answerable), **context), status


def show(q: Question, token: "str | None" = None, number: int = 0) -> Shown:
    token = token or str(uuid.uuid4())
    return Shown(q, public_view(q, token), token, number)


@bp.route("/c/<pack_id>/<lesson_id>/quiz")
@signed_in
def quiz(pack_id: str, lesson_id: str):
    place = quiz_or_404(pack_id, lesson_id)
    state = learning.quiz_state(get_db(), g.learner.id, place, progress_cache().get)
    if not state.under_way and state.any_complete and not request.args.get("again"):
        return result(place, learning.quiz_progress_of(get_db(), g.learner.id, place))
    if place.course.quiz_display == "all":
        return render(place, "learn/quiz_all.html", shown=[show(q, number=i) for i, q in
                                                          enumerate(place.answerable, 1)],
                      descriptions=descriptions_before(place.quiz))
    number, q = next((i, q) for i, q in enumerate(place.answerable, 1) if q.id not in state.under_way)
    return render(place, "learn/quiz_one.html", shown=show(q, number=number),
                  intro=descriptions_before(place.quiz).get(q.id, []))


def descriptions_before(quiz: Quiz) -> "dict[str, list[Question]]":
    """Text-only 'questions' (descriptions), shown just above the question that follows them."""
    out: dict[str, list[Question]] = {}
    pending: list[Question] = []
    for q in quiz.questions:
        if not type_of(q).answerable:
            pending.append(q)
        else:
            out[q.id], pending = pending, []
    return out


@bp.route("/c/<pack_id>/<lesson_id>/quiz", methods=["POST"])
@signed_in
def answer(pack_id: str, lesson_id: str):
    place = quiz_or_404(pack_id, lesson_id)
    if place.course.quiz_display == "all":
        return answer_all(place)
    q = place.quiz.find(request.form.get("question", ""))
    if q is None or q.id not in place.outline.answerable:
        abort(400)
    shown = show(q, form_uuid(request.form.get(f"t-{q.id}", "")), place.number(q))
    response, shown.error = read_response(q, request.form, shown.token)
    if shown.error:
        return render(place, "learn/quiz_one.html", 400, shown=shown, intro=[], form=request.form)
    answered = learning.answer_question(get_db(), g.learner.id, place, q, response, shown.token,
                                        progress_cache().get)
    shown.answered(answered)
    return render(place, "learn/quiz_feedback.html", shown=shown, finished=not answered.state.under_way)


def answer_all(place: learning.QuizPlace):
    """The whole quiz posted at once: every question must be answered before any is recorded."""
    shown = [show(q, form_uuid(request.form.get(f"t-{q.id}", "")), i) for i, q in enumerate(place.answerable, 1)]
    responses = []
    for s in shown:
        response, s.error = read_response(s.question, request.form, s.token)
        responses.append(response)
    if any(s.error for s in shown):
        return render(place, "learn/quiz_all.html", 400, shown=shown, form=request.form,
                      descriptions=descriptions_before(place.quiz))
    recorded = learning.answer_quiz(get_db(), g.learner.id, place,
                                    [(s.question, r, s.token) for s, r in zip(shown, responses)])
    for s, answered in zip(shown, recorded):
        s.answered(answered)
    return result(place, learning.quiz_progress_of(get_db(), g.learner.id, place), shown)


def result(place: learning.QuizPlace, progress: QuizProgress, shown: "list[Shown] | None" = None):
    attempt: Attempt = progress.last_complete
    marks = [(q, attempt.answers.get(q.id), type_of(q).read_by_teacher) for q in place.answerable]
    _previous, following = learning.neighbours(get_db(), place.lesson, content_cache().get)   # where "next lesson" goes
    return render(place, "learn/quiz_result.html", progress=progress, attempt=attempt, marks=marks,
                  following=following,
                  shown=shown or [], pass_score=PASS_SCORE,
                  again=url_for("learn.quiz", pack_id=place.course.id,
                                lesson_id=place.lesson.lesson.lesson_id, again=1))


def read_response(q: Question, form: MultiDict, seed: str) -> "tuple[object, str]":
    """The response `grade` expects, from the posted fields of one question, or an error
    to show (translated) when it was left unanswered."""
    try:
        response, message = questions.read_form(q, form, seed)
    except ValueError:  # a description takes no answer
        abort(400)
    return response, (_(message) if message else "")


@bp.app_template_global("describe")
def describe(q: Question, response: object) -> list[str]:
    """A recorded response as plain lines of text, to show the learner what they answered."""
    return questions.describe(q, response, _)


@bp.app_template_global("solution")
def solution(q: Question) -> "questions.Solution | None":
    """The right order or pairs, for the feedback after a wrong answer (never a question page)."""
    return questions.solution(q)

"""A learner's courses with progress, a course's lessons, and the lesson page.

The lesson page is the page a class opens most: its validator (a weak ETag made of what the
page shows, computed before rendering) lets a phone that has it get a 304 and nothing else.
"""

from __future__ import annotations

import hashlib
import uuid

from flask import Response, abort, current_app, g, make_response, redirect, render_template, request, url_for

from ...content import library
from ...core.eventlog import append, count_learner_events, learner_events
from ...core.events import AnswerRecorded, LessonRead
from ...core.progress import CourseProgress, course_progress
from ..reports import course_outline
from ..csrf import token as csrf_token
from ..i18n import RTL
from ..progress_cache import ProgressCache
from ..store import get_db
from . import bp, signed_in

PROGRESS_KINDS = (LessonRead.KIND, AnswerRecorded.KIND)
# Names a lesson-read idempotency token: the same learner, lesson and number of earlier
# reads give the same token, so a re-sent form is recorded once and the page stays cacheable.
READ_TOKENS = uuid.UUID("6f1d8d62-1c3e-4a53-9d7e-0c5e1c2a7b10")


def my_events(pack_id: "str | None" = None, lesson_id: "str | None" = None,
              kinds: "tuple[str, ...]" = PROGRESS_KINDS) -> list:
    """The signed-in learner's progress events, about one course or lesson when given (a year
    of history is a thousand events or more: a lesson's page must not decode them all)."""
    about = {name: value for name, value in (("pack", pack_id), ("lesson", lesson_id)) if value}
    return learner_events(get_db(), g.learner.id, kinds, about)


def course_or_404(pack_id: str) -> library.Course:
    course = library.get_course(get_db(), pack_id)
    if course is None:
        abort(404)
    return course


def resume_url(course: library.Course, progress: CourseProgress) -> "str | None":
    target = progress.resume()
    if target is None:
        return None
    lesson_id, where = target
    endpoint = "learn.quiz" if where == "quiz" else "learn.lesson"
    return url_for(endpoint, pack_id=course.id, lesson_id=lesson_id)


def my_progress(course: library.Course) -> CourseProgress:
    """The signed-in learner's progress in a course, from their events (cached until they change)."""
    db, learner_id = get_db(), g.learner.id
    key = (learner_id, course.id, course.version, course.installed_at,
           count_learner_events(db, learner_id, PROGRESS_KINDS))
    return progress_cache().get(key, lambda: course_progress(my_events(course.id), course.id,
                                                             course_outline(db, course)))


def progress_cache() -> ProgressCache:
    return current_app.extensions["progress"]


@bp.route("/")
@signed_in
def home() -> str:
    rows = []
    for course in library.list_courses(get_db()):
        progress = my_progress(course)
        rows.append({"course": course, "progress": progress, "resume": resume_url(course, progress)})
    # "Continue" goes to the course studied last that is not finished yet.
    ongoing = [r for r in rows if r["resume"] and r["progress"].started]
    current = max(ongoing, key=lambda r: r["progress"].last_activity_ms or 0, default=None)
    return render_template("learn/home.html", rows=rows, current=current)


@bp.route("/c/<pack_id>")
@signed_in
def course(pack_id: str) -> str:
    course = course_or_404(pack_id)
    lang = course.lang_for(g.lang)
    progress = my_progress(course)
    return render_template("learn/course.html", course=course, lang=lang, progress=progress,
                           lessons=library.lessons(get_db(), course.id, lang),
                           resume=resume_url(course, progress))


def neighbours(course: library.Course, lesson_id: str, lang: str):
    """(previous, next) lessons around one, or None at either end."""
    ordered = library.lessons(get_db(), course.id, lang)
    ids = [l.lesson_id for l in ordered]
    i = ids.index(lesson_id)
    return (ordered[i - 1] if i > 0 else None), (ordered[i + 1] if i + 1 < len(ordered) else None)


@bp.route("/c/<pack_id>/<lesson_id>")
@signed_in
def lesson(pack_id: str, lesson_id: str) -> Response:
    course = course_or_404(pack_id)
    lang = course.lang_for(g.lang)
    found = library.lesson(get_db(), pack_id, lesson_id, lang)
    if found is None:
        abort(404)
    reads = count_learner_events(get_db(), g.learner.id, (LessonRead.KIND,), {"pack": pack_id, "lesson": lesson_id})
    form_token = csrf_token()
    read_token = str(uuid.uuid5(READ_TOKENS, f"{g.learner.id}|{pack_id}|{lesson_id}|{reads}"))
    etag = hashlib.sha256("|".join(map(str, (
        current_app.config["KIT_BUILD"], course.version, course.installed_at, found.etag, g.lang,
        g.learner.id, g.learner.name, form_token, read_token))).encode()).hexdigest()[:24]
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304)
    else:
        previous, following = neighbours(course, lesson_id, lang)
        resp = make_response(render_template(
            "learn/lesson.html", course=course, lesson=found, previous=previous, following=following,
            read_token=read_token, rtl_content=lang in RTL))
    resp.set_etag(etag, weak=True)
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp


@bp.route("/c/<pack_id>/<lesson_id>/read", methods=["POST"])
@signed_in
def lesson_read(pack_id: str, lesson_id: str) -> Response:
    """The end of a lesson: record that it was read, then go on (to its quiz or the next one)."""
    course = course_or_404(pack_id)
    lang = course.lang_for(g.lang)
    if library.lesson(get_db(), pack_id, lesson_id, lang) is None:
        abort(404)
    append(get_db(), LessonRead(pack_id, lesson_id, lang, token=form_uuid(request.form.get("token", ""))),
           learner_id=g.learner.id)
    go = request.form.get("go")
    if go == "quiz":
        return redirect(url_for("learn.quiz", pack_id=pack_id, lesson_id=lesson_id), 303)
    _previous, following = neighbours(course, lesson_id, lang)
    if go == "next" and following:
        return redirect(url_for("learn.lesson", pack_id=pack_id, lesson_id=following.lesson_id), 303)
    return redirect(url_for("learn.course", pack_id=pack_id), 303)


def form_uuid(value: str) -> str:
    """An idempotency token from a form: a UUID, or the request is refused."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        abort(400)

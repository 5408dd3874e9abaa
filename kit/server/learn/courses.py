"""A learner's courses with progress, a course's lessons, and the lesson page.

The lesson page is the page a class opens most: its validator (a weak ETag made of what the
page shows, computed before rendering) lets a phone that has it get a 304 and nothing else.
"""

from __future__ import annotations

import hashlib
import uuid

from flask import Response, abort, current_app, g, make_response, redirect, render_template, request, url_for

from ... import learning
from ...content import library
from ...core.progress import CourseProgress
from ..csrf import token as csrf_token
from ..i18n import RTL
from ..caches import Cache
from ..store import get_db
from .blueprint import bp, signed_in

# Names a lesson-read idempotency token: the same learner, lesson and number of earlier
# reads give the same token, so a re-sent form is recorded once and the page stays cacheable.
READ_TOKENS = uuid.UUID("6f1d8d62-1c3e-4a53-9d7e-0c5e1c2a7b10")


def course_or_404(pack_id: str) -> library.Course:
    course = library.get_course(get_db(), pack_id)
    if course is None:
        abort(404)
    return course


def lesson_or_404(pack_id: str, lesson_id: str) -> learning.LessonPlace:
    place = learning.find_lesson(get_db(), course_or_404(pack_id), lesson_id, g.lang, content_cache().get)
    if place is None:
        abort(404)
    return place


def resume_url(course: library.Course, progress: CourseProgress) -> "str | None":
    target = progress.resume()
    if target is None:
        return None
    lesson_id, where = target
    endpoint = "learn.quiz" if where == "quiz" else "learn.lesson"
    return url_for(endpoint, pack_id=course.id, lesson_id=lesson_id)


def progress_cache() -> Cache:
    return current_app.extensions["progress"]


def content_cache() -> Cache:
    return current_app.extensions["content"]


@bp.route("/")
@signed_in
def home() -> str:
    lines, current = learning.my_courses(get_db(), g.learner.id, progress_cache().get)
    rows = [{"course": l.course, "progress": l.progress, "resume": resume_url(l.course, l.progress)} for l in lines]
    current = next((r for r, l in zip(rows, lines) if l is current), None)
    return render_template("learn/home.html", rows=rows, current=current)


@bp.route("/c/<pack_id>")
@signed_in
def course(pack_id: str) -> str:
    course = course_or_404(pack_id)
    lang = course.lang_for(g.lang)
    progress = learning.progress_in(get_db(), g.learner.id, course, progress_cache().get)
    return render_template("learn/course.html", course=course, lang=lang, progress=progress,
                           lessons=library.lessons(get_db(), course.id, lang),
                           resume=resume_url(course, progress))


@bp.route("/c/<pack_id>/<lesson_id>")
@signed_in
def lesson(pack_id: str, lesson_id: str) -> Response:
    place = lesson_or_404(pack_id, lesson_id)
    course, found = place.course, place.lesson
    reads = learning.times_read(get_db(), g.learner.id, place)
    form_token = csrf_token()
    read_token = str(uuid.uuid5(READ_TOKENS, f"{g.learner.id}|{pack_id}|{lesson_id}|{reads}"))
    etag = hashlib.sha256("|".join(map(str, (
        current_app.config["KIT_BUILD"], course.version, course.installed_at, found.etag, g.lang,
        g.learner.id, g.learner.name, form_token, read_token))).encode()).hexdigest()[:24]
    if request.if_none_match.contains_weak(etag):
        resp = Response(status=304)
    else:
        previous, following = learning.neighbours(get_db(), place, content_cache().get)
        resp = make_response(render_template(
            "learn/lesson.html", course=course, lesson=found, previous=previous, following=following,
            read_token=read_token, rtl_content=place.lang in RTL))
    resp.set_etag(etag, weak=True)
    resp.headers["Cache-Control"] = "private, no-cache"
    return resp


@bp.route("/c/<pack_id>/<lesson_id>/read", methods=["POST"])
@signed_in
def lesson_read(pack_id: str, lesson_id: str) -> Response:
    """The end of a lesson: record that it was read, then go on (to its quiz or the next one)."""
    place = lesson_or_404(pack_id, lesson_id)
    learning.read_lesson(get_db(), g.learner.id, place, form_uuid(request.form.get("token", "")))
    go = request.form.get("go")
    if go == "quiz":
        return redirect(url_for("learn.quiz", pack_id=pack_id, lesson_id=lesson_id), 303)
    _previous, following = learning.neighbours(get_db(), place, content_cache().get)
    if go == "next" and following:
        return redirect(url_for("learn.lesson", pack_id=pack_id, lesson_id=following.lesson_id), 303)
    return redirect(url_for("learn.course", pack_id=pack_id), 303)


def form_uuid(value: str) -> str:
    """An idempotency token from a form: a UUID, or the request is refused."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        abort(400)

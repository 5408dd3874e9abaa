"""Search box results: lessons in the learner's language, matched words highlighted,
and a 'did you mean' when nothing matched."""

from __future__ import annotations

from flask import g, render_template, request

from ...content import library
from ...content.search import search as search_lessons
from ..store import get_db, get_store
from .blueprint import bp, signed_in

MAX_QUERY = 200


@bp.route("/search")
@signed_in
def search() -> str:
    query = " ".join(request.args.get("q", "").split())[:MAX_QUERY]
    results = search_lessons(get_store().data.index_dir, query, g.lang) if query else None
    titles = {c.id: c.title_in(g.lang) for c in library.list_courses(get_db())}
    return render_template("learn/search.html", q=query, results=results, course_titles=titles)

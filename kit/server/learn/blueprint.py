"""The learners' blueprint and who is signed in: every learner page registers on `bp`.

A learner is known by the session cookie (learner id and class id, for weeks); every page
that shows progress first checks that the learner still exists in that class, so a learner
deleted or moved by a teacher (or by sync) is signed out at their next tap.
"""

from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import Blueprint, g, redirect, session, url_for
from markupsafe import Markup, escape

from ...core import roster
from .. import sessions
from ..store import get_db

bp = Blueprint("learn", __name__)


@bp.before_request
def load_learner() -> None:
    """The signed-in learner, if their session still holds: a learner removed, moved to
    another class, or whose PIN or picture code changed since (a teacher's reset, here or
    synced from elsewhere) is signed out, on every phone holding a copy of the cookie; so is
    a copy of a session its learner signed out of."""
    g.learner = None
    lid = session.get("learner")
    if lid:
        learner = roster.get_learner(get_db(), lid)
        if (learner is None or learner.class_id != session.get("class")
                or session.get("stamp") != learner.stamp or sessions.ended()):
            for key in ("learner", "stamp"):
                session.pop(key, None)
        else:
            g.learner = learner


def signed_in(view: Callable) -> Callable:
    """Send whoever is not signed in to the sign-in pages first."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.learner is None:
            return redirect(url_for("learn.signin_start"), 303)
        return view(*args, **kwargs)
    return wrapper


@bp.app_template_filter("bdi")
def bdi(text: str) -> Markup:
    """A name as typed by a person, isolated: its bidi controls (or markup) cannot spill
    over the page around it."""
    return Markup("<bdi>%s</bdi>") % escape(text)

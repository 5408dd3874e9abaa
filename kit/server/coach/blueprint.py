"""The teachers' blueprint and who may see what: every /staff page registers on `bp`.

Staff sign in with a username and password (kit.core.accounts; tries limited by kit.core.signin).
Their session lives under its own keys (`staff`, `staff_at`) and never beside a learner's:
signing in as staff ends a learner's session on that browser, and a learner signing in ends
the staff one (kit.server.sessions begins each afresh), so a teacher's phone lent to a
learner never carries the teacher's rights. It also ends after STAFF_HOURS, when the
account's password changes, or when its owner signs out (a copied cookie with it). A
learner's session gets a 403 on every page here.

Who sees what (docs/design.md, least privilege): an admin sees and does everything; a coach sees
only the classes this server's admin assigned them (kit.core.accounts), and changes nothing.
"""

from __future__ import annotations

import time
from datetime import datetime
from functools import wraps
from typing import Callable

from babel.dates import format_datetime
from flask import Blueprint, Response, abort, g, redirect, render_template, request, session, url_for

from ...core import accounts, district, roster
from ..i18n import gettext as _
from .. import sessions
from ..store import get_db

bp = Blueprint("coach", __name__, url_prefix="/staff")

STAFF_HOURS = 12


@bp.before_request
def load_staff() -> None:
    g.staff = None
    username = session.get("staff")
    if not username:
        return
    account = accounts.get_account(get_db(), username)
    if (account is None or session.get("staff_stamp") != account.stamp
            or time.time() - float(session.get("staff_at", 0)) > STAFF_HOURS * 3600 or sessions.ended()):
        for key in ("staff", "staff_at", "staff_stamp"):
            session.pop(key, None)
    else:
        g.staff = account


@bp.after_request
def not_kept(resp: Response) -> Response:
    """A teacher's phone is often shared: after signing out, 'back' must not bring a class's
    results out of the browser's cache."""
    resp.headers["Cache-Control"] = "no-store"
    return resp


def is_learner() -> bool:
    """Whether a learner is signed in on this browser (a stale session, of a learner removed
    or given a new code since, does not count: the learner's pages drop it at their next tap)."""
    lid = session.get("learner")
    learner = roster.get_learner(get_db(), lid) if lid else None
    return learner is not None and session.get("stamp") == learner.stamp


def learner_refused() -> "tuple[str, int]":
    """The 403 a learner's session gets here, in the learner's language, with a way back."""
    return render_template("error.html", code=403, title=_("These pages are for teachers"),
                           advice=_("Go back to your lessons.")), 403


def staff_only(view: Callable) -> Callable:
    """Signed-in staff only: a learner gets a 403, anyone else the sign-in page first."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.staff is None:
            if is_learner():
                return learner_refused()
            return redirect(url_for("coach.signin", next=request.full_path.rstrip("?")), 303)
        return view(*args, **kwargs)
    return wrapper


def admin_only(view: Callable) -> Callable:
    @wraps(view)
    @staff_only
    def wrapper(*args, **kwargs):
        if g.staff.role != "admin":
            abort(403)
        return view(*args, **kwargs)
    return wrapper


def is_admin() -> bool:
    staff = g.get("staff")      # unset when a request is refused before load_staff (CSRF)
    return staff is not None and staff.role == "admin"


def visible_classes() -> list[roster.Klass]:
    db = get_db()
    return roster.list_classes(db) if is_admin() else accounts.classes_of_coach(db, g.staff.username)


def class_for_staff(class_id: str) -> roster.Klass:
    """A class the signed-in staff may see: 404 if there is none, 403 if not theirs."""
    klass = roster.get_class(get_db(), class_id)
    if klass is None:
        abort(404)
    if not is_admin() and not accounts.follows(get_db(), g.staff.username, klass.id):
        abort(403)
    return klass


def learner_for_staff(learner_id: str) -> "tuple[roster.Learner, roster.Klass]":
    """A learner the signed-in staff may see, with their class here. A learner the hub moved
    to another school stays readable under the class they left: their teachers keep their
    history (kit.core.district.moved_away)."""
    learner = roster.get_learner(get_db(), learner_id)
    if learner is None:
        abort(404)
    move = district.moved_away(get_db(), learner.id)
    return learner, class_for_staff(move.from_class if move else learner.class_id)


def school_of(klass: roster.Klass) -> "district.School | None":
    """The class's school, to show beside it where more than one school's classes are held."""
    return district.schools_to_show(get_db(), [klass.id]).get(klass.id)


@bp.app_template_filter("datetime_from_ms")
def datetime_from_ms(ms: int) -> str:
    """A moment in the server's time zone (the school's), as the reader's language writes it."""
    return format_datetime(datetime.fromtimestamp(ms / 1000).astimezone(), format="short", locale=g.lang)


@bp.context_processor
def staff_context() -> dict:
    return {"admin": is_admin()}


"""A browser's signed-in session, begun and ended the same way for learners and staff.

The session cookie is signed, not stored: to make signing out mean something on a plain-HTTP
hotspot, each session gets a random id when its owner signs in, and signing out ends that id
on this server (kit.core.signin), so a copy of the cookie taken before is refused after.
"""

from __future__ import annotations

import time

from flask import Flask, current_app, session
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

from ..core import signin
from .store import get_db


def begin(permanent: bool) -> None:
    """A fresh session for someone who just signed in: nothing of the one before, a new id."""
    session.clear()
    session.permanent = permanent
    session["sid"] = signin.new_session_id()


def ended() -> bool:
    """Whether this browser's session was signed out (here, or from a copy of its cookie)."""
    return signin.session_ended(get_db(), session.get("sid"))


def end() -> None:
    """Sign out: this session's id is refused until its cookie would have expired anyway."""
    sid = session.get("sid")
    if sid:
        until = time.time() + current_app.permanent_session_lifetime.total_seconds()
        signin.end_session(get_db(), sid, until)
    session.clear()


class SignedCookies(SecureCookieSessionInterface):
    """Flask's signed session cookie, the same bytes, with its signing serializer made once
    per secret instead of on every request (each phone's every page reads the cookie)."""

    _made: "tuple[tuple, URLSafeTimedSerializer | None]" = ((), None)

    def get_signing_serializer(self, app: Flask) -> "URLSafeTimedSerializer | None":
        secrets = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made_for, serializer = self._made
        if made_for != secrets:
            serializer = super().get_signing_serializer(app)
            self._made = (secrets, serializer)   # one assignment: threads see either pair whole
        return serializer

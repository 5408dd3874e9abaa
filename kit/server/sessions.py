"""A browser's signed-in session, begun and ended the same way for learners and staff.

The session cookie is signed, not stored: to make signing out mean something on a plain-HTTP
hotspot, each session gets a random id when its owner signs in, and signing out ends that id
on this server (kit.core.signin), so a copy of the cookie taken before is refused after.
"""

from __future__ import annotations

import time

from flask import Flask, Request, current_app, session
from flask.sessions import SecureCookieSession, SecureCookieSessionInterface
from itsdangerous import BadSignature, URLSafeTimedSerializer

from ..core import signin
from .caches import Cache
from .store import get_db

CHECKED_COOKIES = 1024   # a few classes' phones; an entry is a few hundred bytes


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
    """Flask's signed session cookie, the same bytes, read for less: its signing serializer is
    made once per secret, and a cookie whose signature was checked once is not checked again.

    Every page of every phone reads the cookie; checking it (base64, zlib, HMAC, JSON) was about
    0.1 ms of each request. The same string under the same secrets always checks the same way,
    so the payload and its signing time are kept by the exact cookie string; the age is checked
    on every request, as itsdangerous does, so a kept cookie still expires on time. Only
    cookies that checked out are kept (a forged one is checked, and refused, every time)."""

    _made: "tuple[tuple, URLSafeTimedSerializer | None]" = ((), None)

    def __init__(self) -> None:
        self._checked = Cache(CHECKED_COOKIES)

    def get_signing_serializer(self, app: Flask) -> "URLSafeTimedSerializer | None":
        return self._serializer(app)[1]

    def _serializer(self, app: Flask) -> "tuple[tuple, URLSafeTimedSerializer | None]":
        """(the secrets, the serializer made with them)."""
        secrets = (app.secret_key, *(app.config["SECRET_KEY_FALLBACKS"] or ()))
        made = self._made
        if made[0] != secrets:
            made = self._made = (secrets, super().get_signing_serializer(app))   # one assignment:
        return made                                                              # threads see a whole pair

    def open_session(self, app: Flask, request: Request) -> "SecureCookieSession | None":
        secrets, serializer = self._serializer(app)
        if serializer is None:
            return None
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return self.session_class()
        max_age = int(app.permanent_session_lifetime.total_seconds())
        try:
            data, signed_at = self._checked.get((secrets, cookie), lambda: _checked(serializer, cookie, max_age))
        except BadSignature:
            return self.session_class()
        if not 0 <= int(time.time()) - signed_at <= max_age:   # itsdangerous' rule, to the second
            return self.session_class()
        return self.session_class(data)   # a copy: the kept payload is never changed


def _checked(serializer: URLSafeTimedSerializer, cookie: str, max_age: int) -> "tuple[dict, int]":
    data, signed_at = serializer.loads(cookie, max_age=max_age, return_timestamp=True)
    return data, int(signed_at.timestamp())

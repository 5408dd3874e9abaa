"""Browsers that have signed someone in before, so the limits on wrong codes (kit.core.signin)
can tell a learner's own phone from a stranger's.

After a right code the browser gets a long-lived cookie: a random id for the browser and the
people who signed in on it, signed with the server's secret (so no one can add a name to it
without that person's code). Only the sign-in pages receive it (the cookie's path), so lesson
pages carry no extra bytes.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import Response, current_app, request
from itsdangerous import BadSignature, URLSafeSerializer

YEAR = 365 * 24 * 3600
# A family's shared phone signs in a few children; the oldest are forgotten first.
MAX_PEOPLE = 12


@dataclass(frozen=True)
class Door:
    """Where a kind of person signs in: the cookie that remembers them there."""
    cookie: str
    path: str


LEARNERS = Door("kit_known", "/signin")
STAFF = Door("kit_known_staff", "/staff/signin")


def _serializer(door: Door) -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=f"known-browser:{door.cookie}")


def _read(door: Door) -> "tuple[str, list[str]] | None":
    raw = request.cookies.get(door.cookie)
    if not raw:
        return None
    try:
        data = _serializer(door).loads(raw)
    except BadSignature:
        return None
    if not (isinstance(data, dict) and isinstance(data.get("b"), str) and isinstance(data.get("who"), list)):
        return None
    return data["b"], [str(who) for who in data["who"]]


def known_browser(door: Door, who: str) -> "str | None":
    """This browser's id if `who` has signed in on it before, else None."""
    found = _read(door)
    return found[0] if found and who in found[1] else None


def remember(resp: Response, door: Door, who: str) -> Response:
    """After a right code: this browser now knows `who`."""
    browser, people = _read(door) or (secrets.token_urlsafe(12), [])
    people = [p for p in people if p != who][-(MAX_PEOPLE - 1):] + [who]
    resp.set_cookie(door.cookie, _serializer(door).dumps({"b": browser, "who": people}), max_age=YEAR,
                    path=door.path, httponly=True, samesite="Lax",
                    secure=current_app.config.get("SESSION_COOKIE_SECURE", False))
    return resp

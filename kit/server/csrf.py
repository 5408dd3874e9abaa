"""Cross-site request forgery guard for every POST, made here (no extension needed).

Each browser session holds a random nonce; forms carry HMAC(server secret, nonce) in a
hidden `csrf` field. A POST without the matching token is refused before any view runs, so
a form cannot forget it. (The session cookie is also SameSite=Lax.) Blueprints meant for other
machines (a JSON API with its own signatures) are named once, at app creation:
`csrf.init_app(app, exempt=[hub.bp])`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from functools import lru_cache
from typing import Iterable

from flask import Blueprint, Flask, abort, current_app, request, session

FIELD = "csrf"


def token() -> str:
    """This session's form token (starting the session if it had none)."""
    nonce = session.get("n")
    if not nonce:
        nonce = session["n"] = secrets.token_urlsafe(16)
    return _sign(nonce)


def _sign(nonce: str) -> str:
    return _signed(current_app.config["SECRET_KEY"], nonce)


@lru_cache(maxsize=4096)
def _signed(secret: bytes, nonce: str) -> str:
    # Kept: a session signs its one nonce on every page it is shown, twice on a quiz page.
    return hmac.new(secret, f"csrf:{nonce}".encode(), hashlib.sha256).hexdigest()[:32]


def init_app(app: Flask, exempt: Iterable[Blueprint] = ()) -> None:
    """Check every POST of `app`, except those to the `exempt` blueprints' views."""
    skip = frozenset(bp.name for bp in exempt)

    @app.before_request
    def check() -> None:
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return
        if skip.intersection(request.blueprints):
            return
        nonce = session.get("n")
        sent = request.form.get(FIELD, "")
        # compared as bytes: compare_digest refuses a str with non-ASCII letters (a TypeError, a 500)
        if not nonce or not hmac.compare_digest(sent.encode(), _sign(nonce).encode()):
            abort(403, description="csrf")

    app.jinja_env.globals["csrf_token"] = token

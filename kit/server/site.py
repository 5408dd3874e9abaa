"""What every page shares, whoever reads it: the stylesheet, pack media, the language
switcher, /healthz, security headers and the error pages."""

from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from flask import Blueprint, Flask, Response, abort, current_app, redirect, render_template, request, send_file
from werkzeug.exceptions import HTTPException

from ..content import library
from ..core.errors import KitError
from .i18n import LANG_COOKIE, LANGS, N_, gettext as _
from .store import get_db, get_store

bp = Blueprint("site", __name__)

STYLESHEET = Path(__file__).parent / "static" / "kit.css"
YEAR = 365 * 24 * 3600
# Pages carry no script and load nothing from elsewhere.
CSP = ("default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
# Characters no redirect target of ours holds: controls, invisible formatting, separators.
UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})

ERROR_TEXT = {
    400: (N_("Something in that request was wrong"), N_("Go back and try again.")),
    403: (N_("This page is not for you"), N_("If you were filling in a form, it may have expired: go back, reload the page and try again.")),
    404: (N_("Page not found"), N_("The page may have moved, or the address has a typo.")),
    405: (N_("Something in that request was wrong"), N_("Go back and try again.")),
    413: (N_("Something in that request was wrong"), N_("Go back and try again.")),
    429: (N_("Too many tries"), N_("Wait a few minutes, then try again.")),
    500: (N_("Something went wrong on the server"), N_("Try again in a moment. If it keeps happening, tell your teacher.")),
}


@dataclass(frozen=True)
class Stylesheet:
    body: bytes
    digest: str

    @classmethod
    def load(cls, path: Path = STYLESHEET) -> "Stylesheet":
        body = path.read_bytes()
        return cls(body, hashlib.sha256(body).hexdigest()[:12])

    @property
    def url(self) -> str:
        return f"/static/kit.{self.digest}.css"


def immutable(resp: Response) -> Response:
    """For content-hashed URLs: the bytes at this address never change."""
    resp.cache_control.public = True
    resp.cache_control.max_age = YEAR
    resp.cache_control.immutable = True
    return resp


@bp.route("/static/kit.<digest>.css")
def stylesheet(digest: str) -> Response:
    css: Stylesheet = current_app.config["KIT_STYLESHEET"]
    if digest != css.digest:
        abort(404)
    return immutable(Response(css.body, mimetype="text/css"))


@bp.route("/media/<pack_id>/<name>")
def media(pack_id: str, name: str) -> Response:
    found = library.media(get_store().data, get_db(), pack_id, name)
    if found is None:
        abort(404)
    resp = send_file(found.path, mimetype=found.mime, conditional=True, etag=False)
    return immutable(resp)


@bp.route("/lang/<code>")
def switch_language(code: str) -> Response:
    """The fr / ar / en switcher: a plain link that remembers the choice for a year."""
    if code not in LANGS:
        abort(404)
    resp = redirect(local_path(request.args.get("next")), 303)
    resp.set_cookie(LANG_COOKIE, code, max_age=YEAR, httponly=True, samesite="Lax")
    return resp


@bp.route("/healthz")
def healthz() -> Response:
    get_db().execute("SELECT 1").fetchone()
    return Response("ok\n", mimetype="text/plain")


def local_path(target: "str | None") -> str:
    """A redirect target on this server only (never //elsewhere or http://...); "/" otherwise.

    Browsers drop tabs and newlines anywhere in a URL and read a backslash as a slash, so
    "/<tab>/evil.example" would leave as "//evil.example": a target holding any control,
    format or space character, or a backslash, is refused whole rather than cleaned."""
    if not target or any(c == "\\" or c.isspace() or unicodedata.category(c) in UNSAFE_CATEGORIES
                         for c in target):
        return "/"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


def security_headers(resp: Response) -> Response:
    resp.headers.setdefault("Content-Security-Policy", CSP)
    resp.headers.setdefault("X-Content-Type-Options", "nosniff")
    resp.headers.setdefault("Referrer-Policy", "same-origin")
    if resp.mimetype == "text/html" and "Cache-Control" not in resp.headers:
        # Pages depend on who is signed in: the phone may keep them, never a shared cache.
        resp.headers["Cache-Control"] = "private, no-cache"
    return resp


def error_page(code: int) -> "tuple[str, int]":
    title, advice = ERROR_TEXT.get(code, ERROR_TEXT[500])
    return render_template("error.html", code=code, title=_(title), advice=_(advice)), code


def handle_http_error(e: HTTPException) -> "tuple[str, int] | HTTPException":
    if e.code is None or e.code < 400:
        return e
    return error_page(e.code)


def handle_kit_error(e: KitError) -> "tuple[str, int]":
    current_app.logger.info("refused: %s", e)
    return error_page(400)


def handle_crash(e: Exception) -> "tuple[str, int]":
    current_app.logger.exception("error on %s", request.path)
    return error_page(500)


def init_app(app: Flask) -> None:
    app.config["KIT_STYLESHEET"] = Stylesheet.load()
    app.jinja_env.globals["css_url"] = app.config["KIT_STYLESHEET"].url
    app.register_blueprint(bp)
    app.after_request(security_headers)
    app.register_error_handler(HTTPException, handle_http_error)
    app.register_error_handler(KitError, handle_kit_error)
    app.register_error_handler(Exception, handle_crash)

"""Signing in without a password: class → name → 4-digit PIN or 3-picture code.

Codes are entered on big buttons that work without JavaScript: each tap posts the form
with the code so far (a PIN can also be typed in the phone's number pad at once). Wrong
codes are limited by kit.core.signin, which treats a browser the learner signed in on before
(kit.server.browsers) apart from strangers'.
"""

from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import Response, abort, make_response, redirect, render_template, request, session, url_for

from ... import learning
from ...core import roster, signin
from ...core.errors import RosterError
from .. import browsers, sessions
from ..i18n import N_, gettext as _, ngettext
from ..store import get_db
from .blueprint import bp

PIN_LENGTH = 4
# The name of each picture of roster.PICTURES (the drawings are in learn/_pictures.html).
PICTURE_NAMES = {"cat": N_("cat"), "dog": N_("dog"), "fish": N_("fish"), "sun": N_("sun"),
                 "moon": N_("moon"), "star": N_("star"), "tree": N_("tree"), "flower": N_("flower"),
                 "apple": N_("apple"), "car": N_("car"), "ball": N_("ball"), "house": N_("house")}


def pictures() -> list[tuple[str, str]]:
    """(id, translated name) of each picture, in a fixed order."""
    return [(p, _(PICTURE_NAMES[p])) for p in roster.PICTURES]


def no_store(view: Callable) -> Callable:
    """For pages where a code is typed (the keypad keeps the digits so far in a hidden field):
    on a shared phone, 'back' or the browser's cache must not bring them out again."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        resp = make_response(view(*args, **kwargs))
        resp.headers["Cache-Control"] = "no-store"
        return resp
    return wrapper


def klass_or_404(class_id: str) -> roster.Klass:
    klass = roster.get_class(get_db(), class_id)
    if klass is None:
        abort(404)
    return klass


@bp.route("/signin")
def signin_start() -> str:
    return render_template("learn/classes.html", classes=roster.classes_here(get_db()), code_error=False)


@bp.route("/signin/code")
def signin_code() -> "Response | tuple[str, int]":
    klass = roster.class_by_code(get_db(), request.args.get("code", ""))
    if klass is None:
        return render_template("learn/classes.html", classes=roster.classes_here(get_db()), code_error=True), 404
    return redirect(url_for("learn.signin_class", class_id=klass.id), 303)


@bp.route("/signin/c/<class_id>")
def signin_class(class_id: str) -> str:
    klass = klass_or_404(class_id)
    return render_template("learn/names.html", klass=klass, learners=roster.signin_learners(get_db(), klass.id))


def code_step(login: str, so_far: str, key: str) -> "tuple[str, bool]":
    """One tap on the keypad or picture grid: (the code so far, whether it is complete)."""
    if login == "picture":
        parts = [p for p in so_far.split(".") if p in roster.PICTURES][:roster.PICTURE_CODE_LENGTH - 1]
        if key == "back":
            parts = parts[:-1]
        elif key in roster.PICTURES:
            parts.append(key)
        return ".".join(parts), len(parts) == roster.PICTURE_CODE_LENGTH
    digits = "".join(c for c in so_far if c.isdigit())[:PIN_LENGTH - 1]
    if key == "back":
        digits = digits[:-1]
    elif len(key) == 1 and key.isdigit():
        digits += key
    return digits, len(digits) == PIN_LENGTH


@bp.route("/signin/c/<class_id>/<learner_id>", methods=["GET", "POST"])
@no_store
def signin_learner(class_id: str, learner_id: str) -> "Response | str | tuple[str, int]":
    db = get_db()
    klass = klass_or_404(class_id)
    learner = roster.get_learner(db, learner_id)
    if learner is None or learner.class_id != klass.id:
        abort(404)
    address, browser = request.remote_addr or "?", browsers.known_browser(browsers.LEARNERS, learner.id)
    so_far, wrong, status = "", False, 200
    wait = signin.wait_before_try(db, signin.LEARNERS, learner.id, address, browser)
    if request.method == "POST" and not wait:
        typed = request.form.get("pin", "").strip()   # the page has a keypad only; a script may type
        if klass.login == "pin" and typed:
            so_far, complete = typed, True
        else:
            so_far, complete = code_step(klass.login, request.form.get("so_far", ""), request.form.get("key", ""))
        if complete:
            result = signin.sign_in(db, signin.LEARNERS, roster.check_code, learner.id, so_far, address, browser)
            if result.who:
                return start_session(klass, result.who)
            so_far, wrong, wait = "", not result.retry_after, result.retry_after
    if wait:
        message, status = locked_message(wait), 429
    elif wrong:
        message = (_("That picture code is not right. Try again.") if klass.login == "picture"
                   else _("That PIN is not right. Try again."))
    else:
        message = ""
    return render_template("learn/secret.html", klass=klass, learner=learner, so_far=so_far,
                           entered=len([p for p in so_far.split(".") if p]) if klass.login == "picture" else len(so_far),
                           length=roster.PICTURE_CODE_LENGTH if klass.login == "picture" else PIN_LENGTH,
                           pictures=pictures(), locked=bool(wait), message=message), status


def whole_minutes(seconds: int) -> int:
    """A wait as people read it: whole minutes, rounded up, at least one."""
    return max(1, (seconds + 59) // 60)


def locked_message(seconds: int) -> str:
    """Past the limit the keypad is off: say how long, and who can help now."""
    minutes = whole_minutes(seconds)
    return ngettext("Too many wrong tries. Wait %(num)d minute, or ask your teacher for help.",
                    "Too many wrong tries. Wait %(num)d minutes, or ask your teacher for help.", minutes)


def wait_message(seconds: int) -> str:
    """Staff past the limit: how long to wait (their sign-in page has no teacher to ask)."""
    minutes = whole_minutes(seconds)
    return ngettext("Too many wrong tries. Wait %(num)d minute, then try again.",
                    "Too many wrong tries. Wait %(num)d minutes, then try again.", minutes)


def start_session(klass: roster.Klass, learner: roster.Learner) -> Response:
    sessions.begin(permanent=True)
    session["learner"], session["class"], session["stamp"] = learner.id, klass.id, learner.stamp
    learning.signed_in(get_db(), learner.id, klass.id)
    return browsers.remember(redirect(url_for("learn.home"), 303), browsers.LEARNERS, learner.id)


@bp.route("/signout", methods=["POST"])
def signout() -> Response:
    """'Not you?': one tap back to the class's list of names (a family's shared phone)."""
    class_id = session.get("class")
    sessions.end()
    if class_id and roster.get_class(get_db(), class_id):
        session["class"] = class_id
        return redirect(url_for("learn.signin_class", class_id=class_id), 303)
    return redirect(url_for("learn.signin_start"), 303)


@bp.route("/signin/c/<class_id>/join", methods=["GET", "POST"])
@no_store
def register(class_id: str) -> "Response | str | tuple[str, int]":
    """Self-registration: a learner adds their own name and code, where the class allows it."""
    db = get_db()
    klass = klass_or_404(class_id)
    if not klass.self_register:
        abort(403)
    form = request.form
    name = form.get("name", "")
    errors: list[str] = []
    status = 400
    if request.method == "POST":
        pin, chosen = form.get("pin", "").strip(), [form.get(f"p{i}", "") for i in range(roster.PICTURE_CODE_LENGTH)]
        errors = registration_errors(klass, name, pin, form.get("pin2", "").strip(), chosen)
        if not errors:
            try:
                learner = roster.self_register(db, klass.id, name, pin=pin, pictures=chosen,
                                               address=request.remote_addr or "?")
            except roster.TooManyRegistrations:
                errors, status = [_("Too many new names for now. Ask your teacher, or try again later.")], 429
            except RosterError:
                errors = [_("That did not work. Check what you typed and try again.")]
            else:
                return start_session(klass, learner)
    return render_template("learn/register.html", klass=klass, name=name, errors=errors,
                           pictures=pictures()), status if errors else 200


def registration_errors(klass: roster.Klass, name: str, pin: str, pin2: str, chosen: list[str]) -> list[str]:
    """What is wrong with a registration form, in the learner's language."""
    errors = []
    try:
        roster.clean_name(name)
    except RosterError:
        errors.append(_("Write your name (at most %(max)d letters).", max=roster.MAX_NAME))
    else:
        if roster.name_taken(get_db(), klass.id, name):
            errors.append(_("This name is already in the class. Add a letter or your family name."))
    if klass.login == "picture":
        if any(p not in roster.PICTURES for p in chosen):
            errors.append(_("Choose one picture in each row."))
    elif not (len(pin) == PIN_LENGTH and pin.isdigit()):
        errors.append(_("Your PIN is 4 digits."))
    elif pin != pin2:
        errors.append(_("The two PINs are not the same."))
    return errors

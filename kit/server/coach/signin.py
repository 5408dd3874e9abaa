"""Staff sign in with a username and password; wrong ones are limited by kit.core.signin, which
treats a browser the account signed in on before (kit.server.browsers) apart from others."""

from __future__ import annotations

import time

from flask import Response, g, redirect, render_template, request, session, url_for

from ...core import accounts
from ...core.signin import STAFF, sign_in
from .. import browsers, sessions
from ..i18n import gettext as _
from ..learn.signin import wait_message
from ..site import local_path
from ..store import get_db
from .blueprint import bp, is_learner, learner_refused


@bp.route("/signin", methods=["GET", "POST"])
def signin() -> "Response | str | tuple[str, int]":
    if is_learner():
        return learner_refused()
    target = local_path(request.values.get("next") or url_for("coach.home"))
    if g.staff is not None:
        return redirect(target, 303)
    username, message, status = "", "", 200
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        result = sign_in(get_db(), STAFF, accounts.check_password, username, request.form.get("password", ""),
                         request.remote_addr or "?", browser=browsers.known_browser(browsers.STAFF, username))
        if result.who:
            start_staff_session(result.who)
            return browsers.remember(redirect(target, 303), browsers.STAFF, result.who.username)
        if result.retry_after:
            message, status = wait_message(result.retry_after), 429
        else:
            message, status = _("That username or password is not right."), 200
    return render_template("coach/signin.html", username=username, next=target, message=message), status


def start_staff_session(account: accounts.Account) -> None:
    """A fresh session (no learner keys, a new form nonce) that ends with the browser, after
    STAFF_HOURS or with a new password, whichever comes first."""
    sessions.begin(permanent=False)
    session["staff"], session["staff_at"], session["staff_stamp"] = account.username, time.time(), account.stamp


@bp.route("/signout", methods=["POST"])
def signout() -> Response:
    sessions.end()
    return redirect(url_for("coach.signin"), 303)

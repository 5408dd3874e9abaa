"""What only an admin does here: classes, learners and their codes, coach accounts, and
which coach follows which class. Each form checks what a person may type wrong (and says so
in their language), then calls kit.core.roster or kit.core.accounts. Roster changes are record.*
events, so they sync like the rest; accounts and who coaches which class stay on this server."""

from __future__ import annotations

import re

from flask import Response, abort, make_response, redirect, render_template, request, url_for

from ...core import accounts, district, roster
from ...core.errors import RosterError
from ..i18n import N_, gettext as _
from ..learn.signin import pictures
from ..store import get_db
from .blueprint import admin_only, bp, class_for_staff, learner_for_staff
from .progress import learner_page

USERNAME = re.compile(r"[A-Za-z0-9._-]{2,40}")
TRY_AGAIN = N_("That did not work. Check what you typed and try again.")


def name_errors(name: str, klass: "roster.Klass | None" = None) -> list[str]:
    try:
        roster.clean_name(name)
    except RosterError:
        return [_("Write a name (at most %(max)d letters).", max=roster.MAX_NAME)]
    if klass and roster.name_taken(get_db(), klass.id, name):
        return [_("This name is already in the class. Add a letter or the family name.")]
    return []


def secret_errors(klass: roster.Klass, pin: str, chosen: "list[str]") -> list[str]:
    if klass.login == "picture":
        return [] if all(p in roster.PICTURES for p in chosen) else [_("Choose one picture in each row.")]
    try:
        roster.check_pin(pin)
    except RosterError:
        return [_("A PIN is exactly 4 digits.")]
    return []


def secret_fields() -> "tuple[str, list[str]]":
    form = request.form
    return form.get("pin", "").strip(), [form.get(f"p{i}", "") for i in range(roster.PICTURE_CODE_LENGTH)]


# --- classes ----------------------------------------------------------------------------------

@bp.route("/classes/new", methods=["GET", "POST"])
@admin_only
def new_class() -> "Response | str | tuple[str, int]":
    form = request.form
    errors: list[str] = []
    if request.method == "POST":
        name, code = form.get("name", ""), form.get("code", "").strip()
        login = form.get("login", "pin")
        errors = name_errors(name)
        if not errors and roster.class_name_taken(get_db(), name):
            errors.append(_("Another class has this name. Add a letter or a number."))
        code = roster.class_code(code)
        if code and not re.fullmatch(r"[0-9]{3,8}", code):
            errors.append(_("A class code is 3 to 8 digits."))
        elif code and roster.class_by_code(get_db(), code):
            errors.append(_("Another class has this code. Choose another one."))
        if login not in roster.LOGIN_MODES:
            errors.append(_(TRY_AGAIN))
        if not errors:
            try:
                klass = roster.create_class(get_db(), name, code=code or None, login=login,
                                            self_register=form.get("self_register") == "on")
            except RosterError:
                errors = [_(TRY_AGAIN)]
            else:
                return redirect(url_for("coach.manage", class_id=klass.id), 303)
    return render_template("coach/new_class.html", form=form, errors=errors), 400 if errors else 200


@bp.route("/class/<class_id>/manage")
@admin_only
def manage(class_id: str) -> str:
    return manage_page(class_for_staff(class_id))


def manage_page(klass: roster.Klass, errors: "list[str] | None" = None, status: int = 200,
                form: "dict | None" = None):
    db = get_db()
    coaches = [a for a in accounts.list_accounts(db) if a.role == "coach"]
    return render_template("coach/manage.html", klass=klass, learners=roster.class_learners(db, klass.id),
                           moved=district.moved_from_class(db, klass.id),
                           coaches=coaches, following=accounts.coaches_of(db, klass.id),
                           pictures=pictures(), errors=errors or [],
                           form=form or {}), status


@bp.route("/class/<class_id>/self-register", methods=["POST"])
@admin_only
def self_registration(class_id: str) -> Response:
    """Open or close the class to learners adding their own name."""
    klass = class_for_staff(class_id)
    roster.set_self_register(get_db(), klass.id, request.form.get("allowed") == "on")
    return redirect(url_for("coach.manage", class_id=klass.id, done="self-register"), 303)


@bp.route("/class/<class_id>/remove", methods=["GET", "POST"])
@admin_only
def remove_class(class_id: str) -> "Response | str":
    """Two steps, as for a learner: a page that asks, then the POST that removes the class
    and its learners (tombstones that sync)."""
    klass = class_for_staff(class_id)
    if request.method == "POST":
        roster.remove_class(get_db(), klass.id)
        return redirect(url_for("coach.home"), 303)
    return render_template("coach/remove_class.html", klass=klass,
                           learners=len(roster.class_learners(get_db(), klass.id)))


# --- learners ---------------------------------------------------------------------------------

@bp.route("/class/<class_id>/learners", methods=["POST"])
@admin_only
def add_learner(class_id: str) -> "Response | tuple[str, int]":
    klass = class_for_staff(class_id)
    name = request.form.get("name", "")
    pin, chosen = secret_fields()
    errors = name_errors(name, klass) + secret_errors(klass, pin, chosen)
    if not errors:
        try:
            if klass.login == "picture":
                roster.add_learner(get_db(), klass.id, name, pictures=chosen)
            else:
                roster.add_learner(get_db(), klass.id, name, pin=pin)
        except RosterError:
            errors = [_(TRY_AGAIN)]
        else:
            return redirect(url_for("coach.manage", class_id=klass.id), 303)
    return manage_page(klass, errors, 400, {"name": name})


def learner_to_change(learner_id: str) -> "tuple[roster.Learner, roster.Klass]":
    """learner_for_staff, for a page that changes the learner: one another school owns (the
    hub moved them there) is refused with a page that says where they are and who may."""
    learner, klass = learner_for_staff(learner_id)
    db = get_db()
    if not district.may_change_learner(db, learner.id):
        move = district.moved_away(db, learner.id)
        where = move.school if move else district.school(db, district.learner_school(db, learner.id) or "")
        title = (_("%(name)s was moved to %(school)s.", name=learner.name, school=where.name) if move
                 else _("%(name)s belongs to %(school)s.", name=learner.name, school=where.name))
        abort(make_response(render_template(
            "error.html", code=403, title=title,
            advice=_("Only that school, or the coordinator on the hub, can change this learner.")), 403))
    return learner, klass


@bp.route("/learner/<learner_id>/code", methods=["GET", "POST"])
@admin_only
def reset_code(learner_id: str) -> "Response | str | tuple[str, int]":
    learner, klass = learner_to_change(learner_id)
    errors: list[str] = []
    if request.method == "POST":
        pin, chosen = secret_fields()
        errors = secret_errors(klass, pin, chosen)
        if not errors:
            if klass.login == "picture":
                roster.set_secret(get_db(), learner.id, pictures=chosen)
            else:
                roster.set_secret(get_db(), learner.id, pin=pin)
            return redirect(url_for("coach.manage", class_id=klass.id, done="code"), 303)
    return render_template("coach/code.html", klass=klass, learner=learner, pictures=pictures(),
                           errors=errors), 400 if errors else 200


@bp.route("/learner/<learner_id>/remove", methods=["GET", "POST"])
@admin_only
def remove_learner(learner_id: str) -> "Response | str":
    """Two steps: a page that asks, then the POST that removes (a tombstone that syncs)."""
    learner, klass = learner_to_change(learner_id)
    if request.method == "POST":
        roster.remove_learner(get_db(), learner.id)
        return redirect(url_for("coach.manage", class_id=klass.id, done="removed"), 303)
    return render_template("coach/remove.html", klass=klass, learner=learner)


@bp.route("/learner/<learner_id>/move", methods=["POST"])
@admin_only
def move_learner(learner_id: str) -> "Response | tuple[str, int]":
    """The coordinator, on the hub, moves a learner to a class of any school
    (kit.core.roster.move_learner); a school has no such page."""
    db = get_db()
    if not district.is_hub(db):
        abort(404)
    learner, klass = learner_for_staff(learner_id)
    target = roster.get_class(db, request.form.get("class_id", ""))
    errors = []
    if target is None:
        errors.append(_("Choose a class."))
    elif target.id == learner.class_id:
        errors.append(_("The learner is in this class already."))
    elif roster.name_taken(db, target.id, learner.name):
        errors.append(_("That class has a learner of the same name. Rename one of them first."))
    if not errors:
        try:
            roster.move_learner(db, learner.id, target.id)
        except RosterError:
            errors = [_(TRY_AGAIN)]
        else:
            return redirect(url_for("coach.learner", learner_id=learner.id, done="moved"), 303)
    return learner_page(learner, klass, errors, 400)


# --- coaches ----------------------------------------------------------------------------------

@bp.route("/class/<class_id>/coaches", methods=["POST"])
@admin_only
def assign_coach(class_id: str) -> "Response | tuple[str, int]":
    klass = class_for_staff(class_id)
    try:
        accounts.assign_coach(get_db(), request.form.get("username", ""), klass.id)
    except RosterError:
        return manage_page(klass, [_(TRY_AGAIN)], 400)
    return redirect(url_for("coach.manage", class_id=klass.id), 303)


@bp.route("/class/<class_id>/coaches/remove", methods=["POST"])
@admin_only
def unassign_coach(class_id: str) -> Response:
    klass = class_for_staff(class_id)
    accounts.unassign_coach(get_db(), request.form.get("username", ""), klass.id)
    return redirect(url_for("coach.manage", class_id=klass.id), 303)


@bp.route("/accounts", methods=["GET", "POST"])
@admin_only
def staff_accounts() -> "Response | str | tuple[str, int]":
    """Staff accounts, and a form for a new coach (admins are made at the command line)."""
    db = get_db()
    form = request.form
    errors: list[str] = []
    if request.method == "POST":
        username, password = form.get("username", "").strip(), form.get("password", "")
        if not USERNAME.fullmatch(username):
            errors.append(_("A username is 2 to 40 letters, digits, dots, dashes or underscores."))
        elif accounts.get_account(db, username):
            errors.append(_("This username is taken. Choose another one."))
        if len(password) < accounts.MIN_PASSWORD:
            errors.append(_("A password has at least %(min)d characters.", min=accounts.MIN_PASSWORD))
        elif password != form.get("password2", ""):
            errors.append(_("The two passwords are not the same."))
        if not errors:
            try:
                accounts.add_account(db, username, "coach", password)
            except RosterError:
                errors = [_(TRY_AGAIN)]
            else:
                return redirect(url_for("coach.staff_accounts", done="created"), 303)
    return render_template("coach/accounts.html", accounts=accounts.list_accounts(db),
                           username=form.get("username", ""), errors=errors,
                           min_password=accounts.MIN_PASSWORD), 400 if errors else 200

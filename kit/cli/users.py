"""`kit users`: classes, learners and staff accounts, from the command line.

Until the admin pages exist, this is how a teacher's roster gets in. Each command is a
shell around kit.core.roster or kit.core.accounts.
"""

from __future__ import annotations

import click

from ..core import accounts, district, roster
from ..core.instance import open_instance
from . import data_dir, data_option, main


def _pictures(text: "str | None") -> "list[str] | None":
    return [p.strip() for p in text.split(",")] if text else None


@main.group()
def users() -> None:
    """Classes, learners, and admin or coach accounts.

    \b
    Example:
      kit users add-class "CP1 A" --code 1234
      kit users add-learner 1234 "Amina B." --pin 4821
      kit users list
    """


@users.command("add-class")
@click.argument("name")
@click.option("--code", help="Digits learners type to find the class (default: a free 4-digit code).")
@click.option("--login", type=click.Choice(roster.LOGIN_MODES), default="pin", show_default=True,
              help="How learners prove who they are: a 4-digit PIN, or 3 pictures for young children.")
@click.option("--self-register", is_flag=True, help="Let learners add their own name (and code) to the class.")
@data_option
def add_class(name: str, code: "str | None", login: str, self_register: bool, data: str) -> None:
    """Create a class called NAME."""
    inst = open_instance(data_dir(data))
    try:
        klass = roster.create_class(inst.db, name, code=code, login=login, self_register=self_register)
    finally:
        inst.close()
    click.echo(f"Created class {klass.name!r} with code {klass.code} (login: {klass.login}"
               f"{', self-registration on' if klass.self_register else ''})")


@users.command("close-class")
@click.argument("klass", metavar="CLASS")
@click.option("--open", "reopen", is_flag=True, help="Open the class to self-registration instead.")
@data_option
def close_class(klass: str, reopen: bool, data: str) -> None:
    """Stop learners adding their own name to CLASS (its code, name or id), e.g. the Demo class."""
    inst = open_instance(data_dir(data))
    try:
        found = roster.set_self_register(inst.db, roster.find_class(inst.db, klass).id, reopen)
    finally:
        inst.close()
    click.echo(f"Class {found.name!r} {'takes' if reopen else 'no longer takes'} self-registered names")


@users.command("remove-class")
@click.argument("klass", metavar="CLASS")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@data_option
def remove_class(klass: str, yes: bool, data: str) -> None:
    """Remove CLASS (its code, name or id) and its learners; what they learned stays in the history."""
    inst = open_instance(data_dir(data))
    try:
        found = roster.find_class(inst.db, klass)
        count = len(roster.class_learners(inst.db, found.id))
        if not yes:
            click.confirm(f"Remove class {found.name!r} and its {count} learner(s), here and on every "
                          "server this one syncs with?", abort=True)
        roster.remove_class(inst.db, found.id)
    finally:
        inst.close()
    click.echo(f"Removed class {found.name!r} and {count} learner(s)")


@users.command("add-learner")
@click.argument("klass", metavar="CLASS")
@click.argument("name")
@click.option("--pin", help="The learner's 4-digit PIN (for classes that log in by PIN).")
@click.option("--pictures", help=f"3 pictures, e.g. cat,sun,tree; from: {', '.join(roster.PICTURES)}.")
@data_option
def add_learner(klass: str, name: str, pin: "str | None", pictures: "str | None", data: str) -> None:
    """Add learner NAME to CLASS (its code, name or id)."""
    inst = open_instance(data_dir(data))
    try:
        found = roster.find_class(inst.db, klass)
        learner = roster.add_learner(inst.db, found.id, name, pin=pin, pictures=_pictures(pictures))
    finally:
        inst.close()
    click.echo(f"Added {learner.name!r} to class {found.name!r}")


@users.command("set-code")
@click.argument("klass", metavar="CLASS")
@click.argument("name")
@click.option("--pin", help="A new 4-digit PIN.")
@click.option("--pictures", help="A new picture code, e.g. cat,sun,tree.")
@data_option
def set_code(klass: str, name: str, pin: "str | None", pictures: "str | None", data: str) -> None:
    """Give learner NAME of CLASS (its code, name or id) a new PIN or picture code (a forgotten one).

    \b
    Example:
      kit users set-code "CP1 A" "Amina B." --pin 7391

    A school changes only its own learners; the coordinator's hub changes any school's (when
    two schools' classes share a code or name, give the class id: `kit users list` shows it).
    """
    if not pin and not pictures:
        raise click.UsageError("give --pin or --pictures")
    inst = open_instance(data_dir(data))
    try:
        learner = roster.find_learner(inst.db, roster.find_class(inst.db, klass), name)
        roster.set_secret(inst.db, learner.id, pin=pin, pictures=_pictures(pictures))
    finally:
        inst.close()
    click.echo(f"New code set for {learner.name!r}")


@users.command("rename")
@click.argument("learner")
@click.argument("new_name")
@data_option
def rename(learner: str, new_name: str, data: str) -> None:
    """Give LEARNER (their id, or CLASS/NAME) the name NEW_NAME.

    \b
    Example:
      kit users rename "CP1 A/Amina" "Amina Benali"

    Two learners of a class may not have names that read alike (a child taps their name).
    """
    inst = open_instance(data_dir(data))
    try:
        found = roster.learner_by_key(inst.db, learner)
        renamed = roster.rename_learner(inst.db, found.id, new_name)
    finally:
        inst.close()
    click.echo(f"Renamed {found.name!r} to {renamed.name!r}")


@users.command("move")
@click.argument("learner")
@click.option("--to-class", "to_class", required=True, metavar="CLASS",
              help="The class to move them to: its id, code or name (any school's).")
@data_option
def move(learner: str, to_class: str, data: str) -> None:
    """Move LEARNER (their id, or CLASS/NAME) to another class, of any school: on the hub only.

    \b
    Example:
      kit users move "CP1 A/Amina" --to-class 4321

    Their history goes with them. Once the hub's next sync reaches the schools, the new school
    owns them (it may give a new PIN) and the old one shows them as moved. When a code or name
    is used by two schools, give the class id (`kit users list` on the hub shows them).
    """
    inst = open_instance(data_dir(data))
    try:
        found = roster.learner_by_key(inst.db, learner)
        target = roster.find_class(inst.db, to_class)
        moved = roster.move_learner(inst.db, found.id, target.id)
        school = district.class_schools(inst.db, [target.id]).get(target.id)
    finally:
        inst.close()
    click.echo(f"Moved {moved.name!r} to class {target.name!r}{f' of {school.name}' if school else ''}")


@users.command("list")
@data_option
def list_users(data: str) -> None:
    """List classes with their learners, then staff accounts. Where classes of more than one
    school are held (a hub), each class says its school and id; a learner the hub moved away
    from a class here is listed under it as moved."""
    inst = open_instance(data_dir(data))
    try:
        classes = roster.list_classes(inst.db)
        schools = district.schools_to_show(inst.db, [k.id for k in classes])
        for klass in classes:
            learners = roster.class_learners(inst.db, klass.id)
            coaches = accounts.coaches_of(inst.db, klass.id)
            where = f" school {schools[klass.id].name!r} id {klass.id}" if klass.id in schools else ""
            click.echo(f"class {klass.name!r} code {klass.code} login {klass.login}"
                       f"{' self-register' if klass.self_register else ''}{where}: {len(learners)} learner(s)"
                       f"{'; coaches: ' + ', '.join(coaches) if coaches else ''}")
            for learner in learners:
                click.echo(f"  {learner.name}")
            for move in district.moved_from_class(inst.db, klass.id):
                click.echo(f"  {move.name} (moved to {move.school.name}; read-only here)")
        for account in accounts.list_accounts(inst.db):
            click.echo(f"{account.role} {account.username}")
        if not classes:
            click.echo("No class yet: make one with `kit users add-class NAME`.")
    finally:
        inst.close()


def _add_account(role: str, username: str, password: str, data: str) -> None:
    inst = open_instance(data_dir(data))
    try:
        accounts.add_account(inst.db, username, role, password)
    finally:
        inst.close()
    click.echo(f"Created {role} account {username!r}")


@users.command("add-admin")
@click.argument("username")
@click.password_option(help="The password (asked twice when not given).")
@data_option
def add_admin(username: str, password: str, data: str) -> None:
    """Create an admin account (runs the server: courses, classes, sync)."""
    _add_account("admin", username, password, data)


@users.command("add-coach")
@click.argument("username")
@click.password_option(help="The password (asked twice when not given).")
@data_option
def add_coach(username: str, password: str, data: str) -> None:
    """Create a coach account (a teacher who follows classes)."""
    _add_account("coach", username, password, data)


@users.command("set-password")
@click.argument("username")
@click.password_option(help="The new password (asked twice when not given).")
@data_option
def set_password(username: str, password: str, data: str) -> None:
    """Give staff account USERNAME a new password; it is signed out everywhere."""
    inst = open_instance(data_dir(data))
    try:
        accounts.set_password(inst.db, username, password)
    finally:
        inst.close()
    click.echo(f"New password set for {username!r}; its sessions have ended")


@users.command("assign-coach")
@click.argument("klass", metavar="CLASS")
@click.argument("username")
@click.option("--remove", is_flag=True, help="Take the coach off the class instead.")
@data_option
def assign_coach(klass: str, username: str, remove: bool, data: str) -> None:
    """Let coach USERNAME follow CLASS (its code, name or id) on the teachers' pages."""
    inst = open_instance(data_dir(data))
    try:
        found = roster.find_class(inst.db, klass)
        if remove:
            accounts.unassign_coach(inst.db, username, found.id)
        else:
            accounts.assign_coach(inst.db, username, found.id)
    finally:
        inst.close()
    click.echo(f"{username!r} {'no longer follows' if remove else 'now follows'} class {found.name!r}")

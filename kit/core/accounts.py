"""Staff accounts of this server (admins, coaches) and which classes each coach follows.

Accounts are local to a server and never synced: a hub has its own. How passwords are hashed
and how many wrong ones anyone gets is kit.core.signin's. Which classes a coach follows is kept
in the local table `coach_classes` too: a username means nothing on another server, so it never
travels in the (synced) class record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sqlite_utils

from . import roster, signin
from .db import transaction
from .errors import RosterError
from .keys import now_iso

ROLES = ("admin", "coach")
MIN_PASSWORD = 8


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    created_at: str
    # Changes with the password: a staff session carries the stamp it was made with, so a
    # new password signs out every browser that used the old one.
    stamp: str = field(default="", compare=False, repr=False)


def add_account(db: sqlite_utils.Database, username: str, role: str, password: str) -> Account:
    """Make a staff account; refuses a taken username or a short password."""
    if not re.fullmatch(r"[A-Za-z0-9._-]{2,40}", username or ""):
        raise RosterError("a username is 2 to 40 letters, digits, '.', '_' or '-'")
    if role not in ROLES:
        raise RosterError(f"role must be one of {', '.join(ROLES)}")
    if len(password or "") < MIN_PASSWORD:
        raise RosterError(f"a password has at least {MIN_PASSWORD} characters")
    if db["users"].count_where("username = ?", [username]):
        raise RosterError(f"user {username!r} exists; choose another name")
    account = Account(username, role, now_iso())
    db["users"].insert({"username": username, "role": role, "created_at": account.created_at,
                        "password_hash": signin.hash_password(password)})
    return account


def get_account(db: sqlite_utils.Database, username: str) -> "Account | None":
    row = db.execute("SELECT username, role, created_at, password_hash FROM users WHERE username = ?",
                     [username]).fetchone()
    return Account(row[0], row[1], row[2], signin.password_stamp(row[3])) if row else None


def set_password(db: sqlite_utils.Database, username: str, password: str) -> None:
    """Give an account a new password; every session signed in with the old one ends."""
    if len(password or "") < MIN_PASSWORD:
        raise RosterError(f"a password has at least {MIN_PASSWORD} characters")
    if get_account(db, username) is None:
        raise RosterError(f"no account {username!r}; see `kit users list`")
    new_hash = signin.hash_password(password)       # slow: not while holding the write lock
    with transaction(db):
        db.execute("UPDATE users SET password_hash = ? WHERE username = ?", [new_hash, username])
        signin.forget(db, signin.STAFF, username)


def list_accounts(db: sqlite_utils.Database) -> list[Account]:
    return [Account(r["username"], r["role"], r["created_at"])
            for r in db.query("SELECT username, role, created_at FROM users ORDER BY username")]


def check_password(db: sqlite_utils.Database, username: str, password: str) -> "Account | None":
    """The account if the password is right, else None. Alone it is no guard: sign in
    through kit.core.signin."""
    row = db.execute("SELECT username, role, created_at, password_hash FROM users WHERE username = ?",
                     [username]).fetchone()
    if not signin.password_matches(row[3] if row else None, password):
        return None
    return Account(row[0], row[1], row[2], signin.password_stamp(row[3]))


def assign_coach(db: sqlite_utils.Database, username: str, class_id: str) -> list[str]:
    """Let a coach account follow a class (see its learners' progress); the class's coaches."""
    account = get_account(db, username)
    if account is None or account.role != "coach":
        raise RosterError(f"no coach account {username!r}; make one with `kit users add-coach`")
    if roster.get_class(db, class_id) is None:
        raise RosterError("that class does not exist (any more)")
    db.execute("INSERT OR IGNORE INTO coach_classes (username, class_id) VALUES (?, ?)", [username, class_id])
    return coaches_of(db, class_id)


def unassign_coach(db: sqlite_utils.Database, username: str, class_id: str) -> list[str]:
    db.execute("DELETE FROM coach_classes WHERE username = ? AND class_id = ?", [username, class_id])
    return coaches_of(db, class_id)


def coaches_of(db: sqlite_utils.Database, class_id: str) -> list[str]:
    """Usernames of the coach accounts here that follow a class."""
    return [u for (u,) in db.execute("SELECT username FROM coach_classes WHERE class_id = ? ORDER BY username",
                                     [class_id])]


def follows(db: sqlite_utils.Database, username: str, class_id: str) -> bool:
    return db.execute("SELECT 1 FROM coach_classes WHERE username = ? AND class_id = ?",
                      [username, class_id]).fetchone() is not None


def classes_of_coach(db: sqlite_utils.Database, username: str) -> list[roster.Klass]:
    """The classes a coach follows, those that still exist, as roster.list_classes sorts them."""
    followed = {c for (c,) in db.execute("SELECT class_id FROM coach_classes WHERE username = ?", [username])}
    return [k for k in roster.list_classes(db) if k.id in followed]

"""Staff accounts of this server (admins, coaches): username and password.

Adults type passwords, so these get a memory-hard hash (argon2id at OWASP's minimum of
19 MiB, so a Pi can still check one while serving a class). Accounts are local to a server
and never synced: a hub has its own. Wrong passwords are limited with kit.core.limits as wrong
PINs are (kit.core.roster explains why the rules depend on where a try comes from): from a browser
that has signed in to the account before, 10 per 15 minutes; from elsewhere, 10 per 15
minutes per (username, address), 20 per address, and per username 20 a day before each try
waits after the latest (15 s doubling up to 30 minutes). A guesser slows an admin's sign-in
on a new device at most; on their own, never. Which classes a coach follows is kept in the
local table `coach_classes` too: a username means nothing on another server, so it never
travels in the (synced) class record.
"""

from __future__ import annotations

import hashlib
import re
import time
from dataclasses import dataclass, field

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from . import limits, roster
from .db import transaction
from .errors import RosterError
from .keys import now_iso

ROLES = ("admin", "coach")
MIN_PASSWORD = 8
# Wrong passwords allowed, as described above. A password is long, so these are about
# slowing a guesser down, not about a 10,000-value PIN.
MAX_FAILURES_PLACE = 10
MAX_FAILURES_ADDRESS = 20
FREE_FAILURES_ACCOUNT = 20

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    created_at: str
    # Changes with the password: a staff session carries the stamp it was made with, so a
    # new password signs out every browser that used the old one.
    stamp: str = field(default="", compare=False, repr=False)


def password_stamp(password_hash: str) -> str:
    """A short digest of the (salted) password hash: it tells nothing about the password."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class StaffSignin:
    """What a password try gave: the account, or how long to wait, or just 'wrong'."""
    account: "Account | None"
    retry_after: int = 0       # seconds; > 0 when too many wrong tries were made


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
                        "password_hash": _hasher.hash(password)})
    return account


def get_account(db: sqlite_utils.Database, username: str) -> "Account | None":
    row = db.execute("SELECT username, role, created_at, password_hash FROM users WHERE username = ?",
                     [username]).fetchone()
    return Account(row[0], row[1], row[2], password_stamp(row[3])) if row else None


def set_password(db: sqlite_utils.Database, username: str, password: str) -> None:
    """Give an account a new password; every session signed in with the old one ends."""
    if len(password or "") < MIN_PASSWORD:
        raise RosterError(f"a password has at least {MIN_PASSWORD} characters")
    if get_account(db, username) is None:
        raise RosterError(f"no account {username!r}; see `kit users list`")
    new_hash = _hasher.hash(password)       # slow: not while holding the write lock
    with transaction(db):
        db.execute("UPDATE users SET password_hash = ? WHERE username = ?", [new_hash, username])
        limits.forget(db, f"staff:{username}")   # guesses at the old password tell nothing now


def list_accounts(db: sqlite_utils.Database) -> list[Account]:
    return [Account(r["username"], r["role"], r["created_at"])
            for r in db.query("SELECT username, role, created_at FROM users ORDER BY username")]


def check_password(db: sqlite_utils.Database, username: str, password: str) -> "Account | None":
    """The account if the password is right, else None."""
    row = db.execute("SELECT username, role, created_at, password_hash FROM users WHERE username = ?",
                     [username]).fetchone()
    if not row:
        # Spend the same time as a real check, so a wrong name is not told apart by speed.
        _hasher.hash(password or "x")
        return None
    try:
        _hasher.verify(row[3], password or "")
    except (VerificationError, InvalidHashError):
        return None
    return Account(row[0], row[1], row[2], password_stamp(row[3]))


def signin_rules(username: str, address: str, browser: "str | None" = None) -> list[limits.Rule]:
    # Scopes are bounded: anyone can type any username.
    user = f"staff:{(username or '')[:64]}"
    if browser:
        return [limits.Rule(f"{user}@browser:{browser}", MAX_FAILURES_PLACE, roster.WINDOW_S)]
    return [limits.Rule(f"{user}@addr:{address}", MAX_FAILURES_PLACE, roster.WINDOW_S),
            limits.Rule(f"staff-addr:{address}", MAX_FAILURES_ADDRESS, roster.WINDOW_S),
            limits.Rule(user, FREE_FAILURES_ACCOUNT, roster.LEARNER_WINDOW_S,
                        roster.LEARNER_DELAY_S, roster.LEARNER_MAX_DELAY_S)]


def sign_in(db: sqlite_utils.Database, username: str, password: str, address: str,
            browser: "str | None" = None, now: "float | None" = None) -> StaffSignin:
    """Check a staff password within the limits on tries (past them every try waits, a right
    one too). `browser`: the id of a browser that has signed in to this account before."""
    now = time.time() if now is None else now
    rules = signin_rules(username, address, browser)
    tried = limits.attempt(db, rules, now)
    if tried.retry_after:
        return StaffSignin(None, tried.retry_after)
    account = check_password(db, username, password)
    if account:
        limits.take_back(db, tried, clear=(rules[0].scope,))
        return StaffSignin(account)
    return StaffSignin(None)


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

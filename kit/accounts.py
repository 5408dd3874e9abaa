"""Staff accounts of this server (admins, coaches): username and password.

Adults type passwords, so these get a memory-hard hash (argon2id at OWASP's minimum of
19 MiB, so a Pi can still check one while serving a class). Accounts are local to a server
and never synced: a hub has its own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import RosterError
from .keys import now_iso

ROLES = ("admin", "coach")
MIN_PASSWORD = 8

_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


@dataclass(frozen=True)
class Account:
    username: str
    role: str
    created_at: str


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
    return Account(row[0], row[1], row[2])

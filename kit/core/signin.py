"""How learners and staff prove who they are: the hashes that keep their secrets, the stamps
their sessions carry, and the limits on wrong tries (counted by kit.core.limits, local to this
server). kit.core.roster and kit.core.accounts keep the people; the web's sign-in pages call here.

A learner's secret is a 4-digit PIN or a 3-picture code. It has only 10,000 (or 1,728) values,
so no hash can protect it offline; what protects it is how few tries anyone gets online. Those
limits must slow a guesser without locking the learner out, so they depend on where a try comes
from: a browser that has signed in as this person before (the web knows it by a signed cookie),
or else a network address. Staff passwords are limited by the same rules with larger numbers
(a password is long: the limits only slow a guesser down). For learners (staff in brackets):

- From a known browser: 5 (10) wrong tries per 15 minutes on it, nothing else. A guesser
  elsewhere can never hold up the person's own phone or laptop.
- From anywhere else, three rules: 5 (10) wrong tries per 15 minutes per (person, address), so
  one phone guesses slowly; 20 (20) per 15 minutes per address across people, so one phone
  cannot walk a class's PINs; and, per person from all such places together, 10 (20) wrong
  tries a day free, then each further try waits after the latest one, 15 s doubling up to 30
  minutes. Someone changing addresses gets about 60 guesses at a PIN the first day and 48 a
  day after: half of a PIN's values take over 100 days. The learner on a new phone meanwhile
  waits at most 30 minutes: a delay, never a lockout. A right secret takes back its own try
  and clears that place's count, not the person's day count (or a guesser would get 10 free
  tries each time the learner signs in); a new secret from the teacher (or admin) clears it.

Each signed-in session carries a random id; signing out ends that id here, so a copy of the
cookie taken before (the hotspot is plain HTTP) is worth nothing after it.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from typing import Callable, Generic, TypeVar

import sqlite_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from . import limits
from .db import transaction

WINDOW_S = 15 * 60              # the window of the per-place and per-address counts
DAY_S = 24 * 3600               # the window of a person's count
DELAY_S = 15                    # past a person's free tries, the wait after the latest, doubling
MAX_DELAY_S = 30 * 60


@dataclass(frozen=True)
class Policy:
    """The numbers of one door's rules (see the module's docstring)."""
    person: str                 # scope prefix of a person: learners' and staff's counts stay apart
    address: str                # scope prefix of an address, likewise
    per_place: int              # wrong tries per WINDOW_S per (person, browser or address)
    per_address: int            # wrong tries per WINDOW_S per address, across people
    free_per_day: int           # wrong tries per DAY_S per person before each one waits


LEARNERS = Policy("learner", "addr", per_place=5, per_address=20, free_per_day=10)
STAFF = Policy("staff", "staff-addr", per_place=10, per_address=20, free_per_day=20)

# A PIN has 10,000 values: a heavy hash buys nothing offline, and 40 learners signing in at
# once on a Pi must not need 40 × 64 MiB. Light argon2id; the limits are the real guard.
_code_hasher = PasswordHasher(time_cost=2, memory_cost=4096, parallelism=1)
# Adults type passwords: memory-hard, at OWASP's minimum of 19 MiB so a Pi can still check
# one while serving a class.
_password_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)

T = TypeVar("T")


@dataclass(frozen=True)
class Signin(Generic[T]):
    """What a try gave: who signed in, or how long to wait, or just 'wrong' (neither)."""
    who: "T | None"
    retry_after: int = 0        # seconds; > 0 when too many wrong tries were made


# --- secrets and stamps --------------------------------------------------------------------

def hash_code(code: str) -> str:
    """The stored form of a learner's PIN or picture code (already in canonical form)."""
    return _code_hasher.hash(code)


def code_matches(stored: "str | None", code: str) -> bool:
    return _matches(_code_hasher, stored, code)


def hash_password(password: str) -> str:
    return _password_hasher.hash(password)


def password_matches(stored: "str | None", password: str) -> bool:
    """Whether `password` is the one `stored` hashes. With nothing stored (no such account),
    spend the time of a real check anyway, so a wrong name is not told apart by speed."""
    if stored is None:
        _password_hasher.hash(password or "x")
        return False
    return _matches(_password_hasher, stored, password or "")


def _matches(hasher: PasswordHasher, stored: "str | None", secret: str) -> bool:
    if not stored:
        return False
    try:
        return hasher.verify(stored, secret)
    except (VerificationError, InvalidHashError):
        return False


def secret_stamp(rec: dict) -> str:
    """A short digest of a learner's secret hashes: it changes with the PIN or picture code, so
    a session made with the old one ends. The hashes are salted, so the stamp (readable in the
    signed cookie) tells nothing about the code itself."""
    material = f"{rec.get('pin_hash') or ''}\0{rec.get('picture_hash') or ''}"
    return hashlib.sha256(material.encode()).hexdigest()[:16]


def password_stamp(password_hash: str) -> str:
    """The same for a staff password's (salted) hash."""
    return hashlib.sha256(password_hash.encode()).hexdigest()[:16]


# --- the limits and the flow ---------------------------------------------------------------

def _person(policy: Policy, identity: str) -> str:
    # Bounded: anyone can type any username.
    return f"{policy.person}:{(identity or '')[:64]}"


def rules(policy: Policy, identity: str, address: str, browser: "str | None" = None) -> list[limits.Rule]:
    """The limits a try for `identity` (a learner id, a username) counts against; the first is
    the place's, which a right secret clears."""
    person = _person(policy, identity)
    if browser:
        return [limits.Rule(f"{person}@browser:{browser}", policy.per_place, WINDOW_S)]
    return [limits.Rule(f"{person}@addr:{address}", policy.per_place, WINDOW_S),
            limits.Rule(f"{policy.address}:{address}", policy.per_address, WINDOW_S),
            limits.Rule(person, policy.free_per_day, DAY_S, DELAY_S, MAX_DELAY_S)]


def wait_before_try(db: sqlite_utils.Database, policy: Policy, identity: str, address: str,
                    browser: "str | None" = None, now: "float | None" = None) -> int:
    """Seconds before a try for `identity` from here would be let through (0: now), counting
    nothing: a page shows a locked keypad rather than take a try it would refuse."""
    now = time.time() if now is None else now
    return limits.longest_wait(db, rules(policy, identity, address, browser), now)


def sign_in(db: sqlite_utils.Database, policy: Policy,
            check: "Callable[[sqlite_utils.Database, str, str], T | None]", identity: str, secret: str,
            address: str, browser: "str | None" = None, now: "float | None" = None) -> Signin[T]:
    """Try `secret` for `identity` with `check` (roster.check_code, accounts.check_password).

    `browser` is the id of a browser that has signed in as this person before (the caller
    vouches for it), else None. The try is counted before the secret is checked, so racing
    tries get no more checks than tries in turn; past a limit every try waits, a right one
    too, and nothing is checked."""
    now = time.time() if now is None else now
    door = rules(policy, identity, address, browser)
    tried = limits.attempt(db, door, now)
    if tried.retry_after:
        return Signin(None, tried.retry_after)
    who = check(db, identity, secret)
    if who is None:
        return Signin(None)
    limits.take_back(db, tried, clear=(door[0].scope,))
    return Signin(who)


def forget(db: sqlite_utils.Database, policy: Policy, identity: str) -> None:
    """A new secret was given: guesses at the old one tell nothing about it, so the person's
    day count starts afresh."""
    limits.forget(db, _person(policy, identity))


# --- sessions ended by signing out ---------------------------------------------------------------

def new_session_id() -> str:
    return secrets.token_urlsafe(16)


def end_session(db: sqlite_utils.Database, sid: str, until: float, now: "float | None" = None) -> None:
    """Refuse this session from now until `until` (when its cookie expires anyway); ids whose
    cookies are dead are forgotten on the way."""
    now = time.time() if now is None else now
    with transaction(db):
        db.execute("DELETE FROM ended_sessions WHERE until < ?", [now])
        db.execute("INSERT OR REPLACE INTO ended_sessions (sid, until) VALUES (?, ?)", [sid, until])


def session_ended(db: sqlite_utils.Database, sid: "str | None") -> bool:
    """Whether a session may no longer act: it has no id (made before ids existed), or its
    owner signed out."""
    if not sid:
        return True
    return db.execute("SELECT 1 FROM ended_sessions WHERE sid = ?", [sid]).fetchone() is not None

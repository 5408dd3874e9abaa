"""Limits on tries at the server's doors: learners' codes and staff passwords (how many wrong
ones, kit.core.signin says) and self-registrations (kit.core.roster).

A try is counted *before* its code is checked, in the same IMMEDIATE transaction that looks
at the counts: 40 posts racing in parallel get exactly the checks that one phone posting them
in turn would. A try that proves right is then taken back. Counts live in the local
`signin_failures` table (not synced: they are about this server's doors); a row is one try
not proven right, and its `scope` names what it counts against ('addr:10.0.0.5', ...).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlite_utils

from .db import transaction

# Rows older than the longest window of any rule are forgotten.
FORGET_AFTER_S = 24 * 3600
# 2^k past this many tries is already longer than any max_delay.
_MAX_DOUBLINGS = 30


@dataclass(frozen=True)
class Rule:
    """At most `limit` counted tries for `scope` within `window` seconds.

    Past the limit, a fixed rule (no `delay`) waits until the oldest counted try leaves the
    window. A growing rule spaces tries out instead: the k-th try past the limit comes at
    least `delay` × 2^k after the latest one (never more than `max_delay`), which slows a
    guesser more and more but never shuts the door."""
    scope: str
    limit: int
    window: float
    delay: float = 0.0
    max_delay: float = 0.0


@dataclass(frozen=True)
class Attempt:
    """A try let through (its rows counted) or refused (`retry_after` seconds to wait)."""
    retry_after: int = 0
    rows: tuple[int, ...] = ()


def attempt(db: sqlite_utils.Database, rules: "list[Rule]", now: float) -> Attempt:
    """Count one try against every rule's scope, unless one of them says to wait first."""
    with transaction(db, immediate=True):   # no other try reads the counts before ours is in
        db.execute("DELETE FROM signin_failures WHERE at < ?", [now - FORGET_AFTER_S])
        wait = longest_wait(db, rules, now)
        if wait:
            return Attempt(wait)
        rows = tuple(db.execute("INSERT INTO signin_failures (scope, at) VALUES (?, ?)",
                                [rule.scope, now]).lastrowid for rule in rules)
    return Attempt(0, rows)


def take_back(db: sqlite_utils.Database, tried: Attempt, clear: "tuple[str, ...]" = ()) -> None:
    """The try no longer counts (it proved right, or never happened); neither does anything
    counted before against the `clear` scopes."""
    with transaction(db):
        if tried.rows:
            db.execute(f"DELETE FROM signin_failures WHERE rowid IN ({', '.join('?' * len(tried.rows))})",
                       list(tried.rows))
        for scope in clear:
            forget(db, scope)


def forget(db: sqlite_utils.Database, scope: str) -> None:
    db.execute("DELETE FROM signin_failures WHERE scope = ?", [scope])


def longest_wait(db: sqlite_utils.Database, rules: "list[Rule]", now: float) -> int:
    """Seconds before every one of `rules` lets a try through (0: now)."""
    return max((wait_for(db, rule, now) for rule in rules), default=0)


def wait_for(db: sqlite_utils.Database, rule: Rule, now: float) -> int:
    """Seconds before `rule` lets another try through (0: now)."""
    since = now - rule.window
    if rule.delay:
        count, latest = db.execute("SELECT COUNT(*), MAX(at) FROM signin_failures WHERE scope = ? AND at >= ?",
                                   [rule.scope, since]).fetchone()
        if count < rule.limit:
            return 0
        until = latest + min(rule.delay * 2 ** min(count - rule.limit, _MAX_DOUBLINGS), rule.max_delay)
    else:
        times = [t for (t,) in db.execute(
            "SELECT at FROM signin_failures WHERE scope = ? AND at >= ? ORDER BY at DESC LIMIT ?",
            [rule.scope, since, rule.limit])]
        if len(times) < rule.limit:
            return 0
        until = times[-1] + rule.window
    return max(1, math.ceil(until - now)) if until > now else 0

"""The hybrid logical clock that stamps every event (`hlc`), ordering edits of mutable records.

Format "<13-digit ms>-<5-digit counter>": it sorts as text, and survives a wall clock set
backwards. The last value given out is kept in `meta`, so the clock only moves forward.
"""

from __future__ import annotations

import time

import sqlite_utils

from .db import get_meta, set_meta

MAX_COUNTER = 99_999
# A received clock more than this ahead of ours is a device with a wrong date: its events are
# kept, but our clock does not jump a year ahead with it.
MAX_DRIFT_MS = 24 * 3600 * 1000


def format_hlc(ms: int, counter: int) -> str:
    return f"{ms:013d}-{counter:05d}"


def parse_hlc(hlc: str) -> "tuple[int, int]":
    ms, counter = hlc.split("-")
    return int(ms), int(counter)


def tick(db: sqlite_utils.Database, now_ms: "int | None" = None) -> str:
    """The next local clock value (call inside the transaction that uses it)."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    last = get_meta(db, "hlc")
    ms, counter = parse_hlc(last) if last else (0, 0)
    if now_ms > ms:
        ms, counter = now_ms, 0
    elif counter >= MAX_COUNTER:  # keep the text form sortable: carry into the milliseconds
        ms, counter = ms + 1, 0
    else:
        counter += 1
    value = format_hlc(ms, counter)
    set_meta(db, "hlc", value)
    return value


def observe(db: sqlite_utils.Database, remote_hlc: str, now_ms: "int | None" = None) -> None:
    """Move the local clock past a received one, so later local edits win over it."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    if parse_hlc(remote_hlc)[0] > now_ms + MAX_DRIFT_MS:
        return
    last = get_meta(db, "hlc")
    if not last or remote_hlc > last:
        set_meta(db, "hlc", remote_hlc)


def latest_plausible(hlcs: "list[str]") -> "str | None":
    """The latest of received clocks that is not too far ahead of ours: one device with a wrong
    date must not hide the others."""
    limit = format_hlc(int(time.time() * 1000) + MAX_DRIFT_MS, 0)
    return max((h for h in hlcs if h <= limit), default=None)

"""Events are the truth: an append-only log of everything learners and staff do.

An event is identified globally by `uid`, always `<device_id>:<seq>`: only the device that
made an event can name it, so no one can claim another school's ids. A form's idempotency
token (a retried submit, an answer queued on a phone) travels in the body as "token".
Within one device, `seq` counts 1, 2, 3... with no gaps, which makes a version vector
({device_id: highest seq held}) enough to say what another server lacks. Every event also
carries a hybrid logical clock (`hlc`), used to order edits of mutable records.

Kinds in use (body fields in brackets):
    record.set     a mutable record's fields changed   [kind, id, fields]
    record.delete  a tombstone                          [kind, id]
    signin         a learner signed in                  [class_id]
    lesson.read    a lesson was read to its end          [pack, lesson, lang, token]
    quiz.answer    one question answered                [pack, lesson, lang, question, correct, credit, response, token]
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import sqlite_utils

from .db import get_meta, set_meta, transaction

_BODY_FIELD = re.compile(r"^[a-z_]+$")   # names learner_events may filter on (they go into SQL)


@dataclass(frozen=True)
class Event:
    uid: str
    device_id: str
    seq: int
    hlc: str
    kind: str
    learner_id: "str | None"
    body: dict = field(default_factory=dict)

    def to_row(self) -> dict:
        return {"uid": self.uid, "device_id": self.device_id, "seq": self.seq, "hlc": self.hlc,
                "kind": self.kind, "learner_id": self.learner_id,
                "body": json.dumps(self.body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))}

    @classmethod
    def from_row(cls, row: "dict | tuple") -> "Event":
        if not isinstance(row, dict):
            row = dict(zip(("uid", "device_id", "seq", "hlc", "kind", "learner_id", "body"), row))
        body = row["body"]
        return cls(row["uid"], row["device_id"], int(row["seq"]), row["hlc"], row["kind"],
                   row["learner_id"], json.loads(body) if isinstance(body, str) else dict(body))


# --- hybrid logical clock -------------------------------------------------------------
# Format "<13-digit ms>-<5-digit counter>": sorts as text, survives a clock set backwards.

def format_hlc(ms: int, counter: int) -> str:
    return f"{ms:013d}-{counter:05d}"


def parse_hlc(hlc: str) -> "tuple[int, int]":
    ms, counter = hlc.split("-")
    return int(ms), int(counter)


MAX_COUNTER = 99_999
# A received clock more than this ahead of ours is a device with a wrong date: its events are
# kept, but our clock does not jump a year ahead with it.
MAX_DRIFT_MS = 24 * 3600 * 1000


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


# --- the log --------------------------------------------------------------------------

def device_id(db: sqlite_utils.Database) -> str:
    value = get_meta(db, "device_id")
    if not value:
        raise RuntimeError("this data dir has no device id; run `kit init`")
    return value


def append(db: sqlite_utils.Database, kind: str, body: dict, learner_id: "str | None" = None,
           token: "str | None" = None) -> "tuple[Event, bool]":
    """Record a new local event. A form's idempotency `token`, seen before for this learner
    and kind (and lesson, when the body names one), records nothing and returns the earlier
    event and False: a double tap, a reload or a retried request. Tokens are scoped to the
    learner, so a token copied from someone else's form can neither block nor reveal theirs."""
    with transaction(db):
        if token is not None:
            body = {**body, "token": token}
            earlier = db.execute(
                "SELECT * FROM events WHERE learner_id IS ? AND kind = ? "
                "AND json_extract(body, '$.lesson') IS ? AND json_extract(body, '$.token') = ?",
                [learner_id, kind, body.get("lesson"), token]).fetchone()
            if earlier:
                return Event.from_row(earlier), False
        dev = device_id(db)
        seq = (db.execute("SELECT MAX(seq) FROM events WHERE device_id = ?", [dev]).fetchone()[0] or 0) + 1
        event = Event(f"{dev}:{seq}", dev, seq, tick(db), kind, learner_id, body)
        db["events"].insert(event.to_row())
        if kind.startswith("record."):
            from .records import apply  # records derive from events; import here avoids a cycle
            apply(db, event)
        return event, True


def insert_foreign(db: sqlite_utils.Database, events: Iterable[Event]) -> int:
    """Add events made elsewhere (sync), ignoring ones already held. Caller holds the
    transaction. Returns how many were new."""
    from .records import apply
    new = 0
    for event in events:
        cur = db.execute(
            "INSERT OR IGNORE INTO events (uid, device_id, seq, hlc, kind, learner_id, body) "
            "VALUES (:uid, :device_id, :seq, :hlc, :kind, :learner_id, :body)", event.to_row())
        if cur.rowcount:
            new += 1
            observe(db, event.hlc)
            if event.kind.startswith("record."):
                apply(db, event)
    return new


ROW_COLUMNS = ("uid", "device_id", "seq", "hlc", "kind", "learner_id", "body")


def insert_foreign_rows(db: sqlite_utils.Database, rows: "list[tuple]") -> int:
    """insert_foreign for many events at once (sync imports): the same result, one
    executemany instead of a statement per event. `rows` are tuples in ROW_COLUMNS order,
    already validated, body as JSON text. Caller holds the transaction. Returns how many
    were new."""
    from .records import apply
    conn = db.conn
    records = [r for r in rows if r[4].startswith("record.")]
    before = conn.total_changes
    conn.executemany("INSERT OR IGNORE INTO events (uid, device_id, seq, hlc, kind, learner_id, body) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?)", [r for r in rows if not r[4].startswith("record.")])
    new = conn.total_changes - before
    for row in records:  # few; each needs to know whether it was new before it is applied
        if conn.execute("INSERT OR IGNORE INTO events (uid, device_id, seq, hlc, kind, learner_id, body) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)", row).rowcount:
            new += 1
            apply(db, Event.from_row(row))
    if new and rows:
        # Any of them may be new (a held one was observed before). One device with a wrong
        # date must not hide the others: follow the latest clock that is plausible.
        limit = format_hlc(int(time.time() * 1000) + MAX_DRIFT_MS, 0)
        plausible = [r[3] for r in rows if r[3] <= limit]
        if plausible:
            observe(db, max(plausible))
    return new


def version_vector(db: sqlite_utils.Database) -> "dict[str, int]":
    """{device_id: highest seq held with no gap below it}, what this server knows of each
    device's log. Sync may bring a later range before an earlier one (bundles in any order);
    counting only the gapless prefix keeps "what do I lack" exact until the gap is filled."""
    vector = {}
    for dev, top, count in db.execute("SELECT device_id, MAX(seq), COUNT(*) FROM events GROUP BY device_id").fetchall():
        if count != top:  # seqs are unique and >= 1, so a gap is the only way these differ
            top = db.execute(
                "SELECT MIN(e.seq) FROM events e WHERE e.device_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM events n WHERE n.device_id = e.device_id AND n.seq = e.seq + 1)",
                [dev]).fetchone()[0] if db.execute(
                "SELECT 1 FROM events WHERE device_id = ? AND seq = 1", [dev]).fetchone() else 0
        if top:
            vector[dev] = top
    return vector


def events_after(db: sqlite_utils.Database, vector: "dict[str, int]") -> Iterator[Event]:
    """Every event the holder of `vector` lacks, in (device, seq) order."""
    for dev, top in db.execute("SELECT device_id, MAX(seq) FROM events GROUP BY device_id ORDER BY device_id").fetchall():
        since = vector.get(dev, 0)
        if top <= since:
            continue
        for row in db.execute("SELECT * FROM events WHERE device_id = ? AND seq > ? ORDER BY seq",
                              [dev, since]):
            yield Event.from_row(row)


def _learner_filter(learner_id: str, kinds: "tuple[str, ...] | None", about: "dict[str, str] | None"):
    sql, params = " FROM events WHERE learner_id = ?", [learner_id]
    if kinds:
        sql += f" AND kind IN ({','.join('?' * len(kinds))})"
        params += list(kinds)
    for name, value in (about or {}).items():
        if not _BODY_FIELD.match(name):
            raise ValueError(f"not a body field name: {name!r}")
        sql += f" AND json_extract(body, '$.{name}') = ?"
        params.append(value)
    return sql, params


def learner_events(db: sqlite_utils.Database, learner_id: str, kinds: "tuple[str, ...] | None" = None,
                   about: "dict[str, str] | None" = None) -> list[Event]:
    """One learner's history in clock order (the same order on every server).

    `about` keeps only events whose body has these values (e.g. {"pack": p, "lesson": l}),
    chosen by SQLite: a page about one lesson then decodes that lesson's events, not the
    thousand or more of a learner's school year."""
    where, params = _learner_filter(learner_id, kinds, about)
    return [Event.from_row(r) for r in db.execute("SELECT *" + where + " ORDER BY hlc, device_id, seq", params)]


def count_learner_events(db: sqlite_utils.Database, learner_id: str, kinds: "tuple[str, ...] | None" = None,
                         about: "dict[str, str] | None" = None) -> int:
    """How many events learner_events would return, counted by SQLite without decoding them."""
    where, params = _learner_filter(learner_id, kinds, about)
    return db.execute("SELECT COUNT(*)" + where, params).fetchone()[0]

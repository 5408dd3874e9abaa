"""The event log: the one module with SQL on the `events` table; everyone else asks it.

It appends local events (once per idempotency token), inserts events made elsewhere in bulk,
and answers what sync, records and progress need to know of the log. Events are never
changed; the one deletion is a school letting go of another school's learners once its hub
holds them (forget_about, for kit.sync.scope). It folds nothing: what
derives from events (kit.core.records) builds on it. The table itself was made by
kit.core.db's migrations, which stay as shipped (a shipped migration is never edited).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Iterator

import sqlite_utils

from .clock import latest_plausible, observe, tick
from .db import get_meta, transaction
from .events import RECORD_KINDS, ROW_COLUMNS, Event, Payload, RecordSet

_COLUMNS = ", ".join(ROW_COLUMNS)
_INSERT = f"INSERT INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_INSERT_IF_NEW = f"INSERT OR IGNORE INTO events ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
_BODY_FIELD = re.compile(r"^[a-z_]+$")   # names learner_events may filter on (they go into SQL)


def device_id(db: sqlite_utils.Database) -> str:
    """This server's device id: the maker named in the uid of every event made here."""
    value = get_meta(db, "device_id")
    if not value:
        raise RuntimeError("this data dir has no device id; run `kit init`")
    return value


def max_seq(db: sqlite_utils.Database, device: str) -> int:
    """The highest seq held of a device's events (0 for none)."""
    return db.execute("SELECT MAX(seq) FROM events WHERE device_id = ?", [device]).fetchone()[0] or 0


def append(db: sqlite_utils.Database, payload: Payload, learner_id: "str | None" = None) -> "tuple[Event, bool]":
    """Record a new local event. A form's idempotency token (the payload's `token`), seen
    before for this learner and kind (and lesson, when the body names one), records nothing
    and returns the earlier event and False: a double tap, a reload or a retried request.
    Tokens are scoped to the learner, so a token copied from someone else's form can neither
    block nor reveal theirs. A record event is the caller's to fold (kit.core.records)."""
    body = payload.to_body()
    token = body.get("token")
    with transaction(db):
        if token is not None:
            earlier = db.execute(
                f"SELECT {_COLUMNS} FROM events WHERE learner_id IS ? AND kind = ? "
                "AND json_extract(body, '$.lesson') IS ? AND json_extract(body, '$.token') = ?",
                [learner_id, payload.KIND, body.get("lesson"), token]).fetchone()
            if earlier:
                return Event.from_row(earlier), False
        dev = device_id(db)
        seq = max_seq(db, dev) + 1
        event = Event(f"{dev}:{seq}", dev, seq, tick(db), payload.KIND, learner_id, body)
        db.execute(_INSERT, event.to_row())
        return event, True


@dataclass(frozen=True)
class Inserted:
    new: int                          # rows that were not held before
    records: "list[Event]"            # the record events among them, for records to fold


def insert_rows(db: sqlite_utils.Database, rows: "list[tuple]") -> Inserted:
    """Add events made elsewhere (sync), ignoring the ones held already, and move our clock
    past theirs. `rows` are tuples in ROW_COLUMNS order, already validated, body as canonical
    JSON. Caller holds the transaction. One executemany for all but the record events: an
    import runs at tens of thousands of events a second."""
    conn = db.conn
    before = conn.total_changes
    conn.executemany(_INSERT_IF_NEW, [r for r in rows if r[4] not in RECORD_KINDS])
    new = conn.total_changes - before
    records = []
    for row in rows:
        # Few; each must be known new or not, so that a held one is not folded twice.
        if row[4] in RECORD_KINDS and conn.execute(_INSERT_IF_NEW, row).rowcount:
            new += 1
            records.append(Event.from_row(row))
    if new:
        # Any of them may be new (a held one was observed before). One device with a wrong
        # date must not hide the others: follow the latest clock that is plausible.
        latest = latest_plausible([r[3] for r in rows])
        if latest:
            observe(db, latest)
    return Inserted(new, records)


def holds(db: sqlite_utils.Database, device: str, seq: int) -> bool:
    return db.execute("SELECT 1 FROM events WHERE device_id = ? AND seq = ?", [device, seq]).fetchone() is not None


def version_vector(db: sqlite_utils.Database) -> "dict[str, int]":
    """{device_id: highest seq held with no gap below it}, what this server knows of each
    device's log. Sync may bring a later range before an earlier one (bundles in any order);
    counting only the gapless prefix keeps "what do I lack" exact until the gap is filled."""
    vector = {}
    for dev, top, count in db.execute("SELECT device_id, MAX(seq), COUNT(*) FROM events GROUP BY device_id").fetchall():
        top = top if count == top else _gap_below(db, dev)
        if top:
            vector[dev] = top
    return vector


def gapless_top(db: sqlite_utils.Database, device: str) -> int:
    """version_vector's entry for one device (0 for none), read from that device's rows only."""
    top, count = db.execute("SELECT MAX(seq), COUNT(*) FROM events WHERE device_id = ?", [device]).fetchone()
    return (top if count == top else _gap_below(db, device)) if top else 0


def _gap_below(db: sqlite_utils.Database, device: str) -> int:
    # seqs are unique and >= 1, so when MAX(seq) and COUNT(*) differ there is a gap
    if not holds(db, device, 1):
        return 0
    return db.execute("SELECT MIN(e.seq) FROM events e WHERE e.device_id = ? AND NOT EXISTS "
                      "(SELECT 1 FROM events n WHERE n.device_id = e.device_id AND n.seq = e.seq + 1)",
                      [device]).fetchone()[0]


def log_mark(db: sqlite_utils.Database) -> int:
    """A number that grows whenever an event enters the log (read at once, whatever its size)."""
    return db.execute("SELECT MAX(rowid) FROM events").fetchone()[0] or 0


def counts_by_device(db: sqlite_utils.Database) -> "dict[str, int]":
    """How many events are held of each device."""
    return dict(db.execute("SELECT device_id, COUNT(*) FROM events GROUP BY device_id").fetchall())


def rows_between(db: sqlite_utils.Database, device: str, after: int, upto: int) -> Iterator[tuple]:
    """A device's events with `after` < seq <= `upto`, in seq order, as stored rows
    (ROW_COLUMNS order, body as canonical JSON text): export splices them without decoding."""
    return db.execute(f"SELECT {_COLUMNS} FROM events WHERE device_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
                      [device, after, upto])


def events_after(db: sqlite_utils.Database, vector: "dict[str, int]") -> Iterator[Event]:
    """Every event the holder of `vector` lacks, in (device, seq) order."""
    for dev, top in db.execute("SELECT device_id, MAX(seq) FROM events GROUP BY device_id ORDER BY device_id").fetchall():
        since = vector.get(dev, 0)
        if top > since:
            yield from (Event.from_row(row) for row in rows_between(db, dev, since, top))


# --- a school's share of the log (kit.sync.scope chooses it; these read and forget it) --------

def share_rows(db: sqlite_utils.Database, learners: "list[str]", classes: "set[str]", but_device: str) -> list[tuple]:
    """Every event about these learners, and every record event of these classes, not made by
    `but_device`, in (device, seq) order. Found through the learner index, so the cost follows
    the share, not the size of the log (a hub holds a whole district)."""
    rows = []
    for lid in learners:
        rows += db.execute(f"SELECT {_COLUMNS} FROM events WHERE learner_id = ? AND device_id != ?",
                           [lid, but_device]).fetchall()
    if classes:
        rows += [r for r in db.execute(
            f"SELECT {_COLUMNS} FROM events WHERE learner_id IS NULL AND device_id != ? "
            "AND kind IN ('record.set', 'record.delete') AND json_extract(body, '$.kind') = 'class'", [but_device])
            if json.loads(r[6])["id"] in classes]
    return sorted(rows, key=lambda r: (r[1], r[2]))


def tops_about(db: sqlite_utils.Database, learner_id: "str | None", record: "tuple[str, str] | None" = None
               ) -> "dict[str, int]":
    """{device: highest seq} of the events about a learner, or of a record's events."""
    if record is None:
        sql, params = "WHERE learner_id = ?", [learner_id]
    else:
        sql, params = _RECORD_EVENTS, list(record)
    return dict(db.execute(f"SELECT device_id, MAX(seq) FROM events {sql} GROUP BY device_id", params))


def forget_about(db: sqlite_utils.Database, learner_id: "str | None", record: "tuple[str, str] | None" = None) -> int:
    """Delete the events about a learner (or a record's events) from this server: a school lets
    go of what is not its own once its hub holds it (kit.sync.scope). The only deletion from
    the log; the caller holds the transaction."""
    if record is None:
        sql, params = "WHERE learner_id = ?", [learner_id]
    else:
        sql, params = _RECORD_EVENTS, list(record)
    return db.execute(f"DELETE FROM events {sql}", params).rowcount


_RECORD_EVENTS = ("WHERE kind IN ('record.set', 'record.delete') AND json_extract(body, '$.kind') = ? "
                  "AND json_extract(body, '$.id') = ?")


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
    return [Event.from_row(r) for r in db.execute(f"SELECT {_COLUMNS}{where} ORDER BY hlc, device_id, seq", params)]


def learner_body_field(db: sqlite_utils.Database, learner_id: str, kind: str, field: str,
                       about: "dict[str, str] | None" = None) -> "tuple[list, tuple | None]":
    """One field of the bodies learner_events would return, in the same order, read by SQLite
    without decoding a body in Python (the quiz page needs only which questions were answered);
    and the place in that order of the last one, (hlc, device_id, seq), None for none: an event
    placed after it extends the list at its end."""
    if not _BODY_FIELD.match(field):
        raise ValueError(f"not a body field name: {field!r}")
    where, params = _learner_filter(learner_id, (kind,), about)
    rows = db.execute(f"SELECT json_extract(body, '$.{field}'), hlc, device_id, seq{where} "
                      "ORDER BY hlc, device_id, seq", params).fetchall()
    return [r[0] for r in rows], (tuple(rows[-1][1:]) if rows else None)


def count_learner_events(db: sqlite_utils.Database, learner_id: str, kinds: "tuple[str, ...] | None" = None,
                         about: "dict[str, str] | None" = None) -> int:
    """How many events learner_events would return, counted by SQLite without decoding them
    (from the index alone when `about` is not given). Events are append-only, so this count
    is a version of the learner's progress (kit.server.caches)."""
    where, params = _learner_filter(learner_id, kinds, about)
    return db.execute("SELECT COUNT(*)" + where, params).fetchone()[0]


def first_record_set(db: sqlite_utils.Database, kind: str, rid: str) -> "tuple[str, str] | None":
    """(hlc, device_id) of a record's earliest record.set by (hlc, device_id), or None."""
    return db.execute(
        "SELECT hlc, device_id FROM events WHERE kind = ? AND json_extract(body, '$.kind') = ? "
        "AND json_extract(body, '$.id') = ? ORDER BY hlc, device_id LIMIT 1", [RecordSet.KIND, kind, rid]).fetchone()


def record_events(db: sqlite_utils.Database) -> list[Event]:
    """Every record event, in the order records are rebuilt from them."""
    marks = ",".join("?" * len(RECORD_KINDS))
    return [Event.from_row(r) for r in db.execute(
        f"SELECT {_COLUMNS} FROM events WHERE kind IN ({marks}) ORDER BY hlc, device_id, seq", RECORD_KINDS)]

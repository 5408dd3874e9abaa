"""Mutable records (classes, learners) derived from `record.*` events, folded as they enter
the log: made here (`record`), or made elsewhere and merged by sync (`merge_rows`).

Two servers may edit the same learner while apart. Each field keeps the clock of the event
that last set it; an incoming value wins only with a later (hlc, device_id), so every server
reaches the same state whatever order events arrive in. A delete is a tombstone that wins
over every edit, before or after it: a deleted learner never comes back.

Records travel between schools, so what they may hold is fixed here (FIELDS): a value of the
wrong type or size would crash every page that reads it. Sync refuses an event carrying one
(kit.sync.bundle); materializing skips one (defence in depth), never storing it.

Each record remembers which device created it: its origin, the device of its earliest
record.set by (hlc, device_id), kept in `record_clocks` under the field name ORIGIN. A record's
owner is the school it belongs to (`owner`): a class's is its origin; a learner's is the school
a hub moved it to (its `school` field), else its class's owner. Only the owner, or a hub, may
change a record: a school editing another school's learner would write an event its hub
refuses (kit.sync.bundle), so set_fields and delete refuse it here first.
"""

from __future__ import annotations

import json
import re
from typing import Any, Callable, Iterable

import sqlite_utils

from . import eventlog
from .clock import observe, parse_hlc
from .db import get_meta, transaction
from .errors import RosterError
from .events import Event, RecordDelete, RecordSet

KINDS = ("class", "learner")
ORIGIN = "_origin"  # a record_clocks row, never a field: field names are FIELDS' only

MAX_NAME = 80                              # as kit.core.roster.MAX_NAME
CLASS_CODE = re.compile(r"[0-9]{3,8}")     # what kit.core.roster.create_class accepts
LOGIN_MODES = ("pin", "picture")           # as kit.core.roster.LOGIN_MODES
RECORD_ID = re.compile(r"[^\x00-\x1f\x7f]{1,64}")
DEVICE_ID = re.compile(r"[0-9a-f]{16}")    # a server's device id (kit.core.keys: its key id)
PLAIN_TEXT = re.compile(r"[^\x00-\x1f\x7f]*")
MAX_SECRET_HASH = 200
MAX_COACHES = 200


def _text(limit: int) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and 0 < len(v) <= limit and bool(PLAIN_TEXT.fullmatch(v))


def _coaches(v: Any) -> bool:
    return isinstance(v, list) and len(v) <= MAX_COACHES and all(_text(64)(c) for c in v)


# What each kind of record may hold: field name -> is this value acceptable?
FIELDS: "dict[str, dict[str, Callable[[Any], bool]]]" = {
    "class": {
        "name": _text(MAX_NAME),
        "code": lambda v: isinstance(v, str) and bool(CLASS_CODE.fullmatch(v)),
        "login": lambda v: isinstance(v, str) and v in LOGIN_MODES,
        "self_register": lambda v: type(v) is bool,
        "coaches": _coaches,  # moving out of synced records; tolerated while old events exist
    },
    "learner": {
        "name": _text(MAX_NAME),
        "class_id": lambda v: isinstance(v, str) and bool(RECORD_ID.fullmatch(v)),
        "pin_hash": _text(MAX_SECRET_HASH),
        "picture_hash": _text(MAX_SECRET_HASH),
        # The school a hub moved the learner to (its device id); absent: its class's school.
        "school": lambda v: isinstance(v, str) and bool(DEVICE_ID.fullmatch(v)),
    },
}


def field_problem(kind: str, name: str, value: Any) -> "str | None":
    """Why a record of `kind` may not hold `value` in field `name`, or None."""
    check = FIELDS.get(kind, {}).get(name)
    if check is None:
        return f"a {kind} record has no field {name!r}"
    if not check(value):
        return f"the {kind} field {name!r} has a value of the wrong type or size"
    return None


def fields_problem(kind: str, fields: Any) -> "str | None":
    """The first reason a record.set's fields may not be stored, or None."""
    if not isinstance(fields, dict):
        return "record.set without fields"
    for name, value in fields.items():
        problem = field_problem(kind, name, value)
        if problem:
            return problem
    return None


def apply(db: sqlite_utils.Database, event: Event) -> None:
    """Fold one record event into the `records` table (caller holds the transaction)."""
    change = event.payload()
    if not isinstance(change, (RecordSet, RecordDelete)):
        return
    kind, rid = change.kind, change.id
    stamp = (event.hlc, event.device_id)
    row = db.execute("SELECT data, deleted FROM records WHERE kind = ? AND id = ?", [kind, rid]).fetchone()
    data, deleted = (json.loads(row[0]), row[1]) if row else ({}, 0)
    clocks = {f: (h, d) for f, h, d in db.execute(
        "SELECT field, hlc, device_id FROM record_clocks WHERE kind = ? AND id = ?", [kind, rid])}

    if isinstance(change, RecordDelete):
        deleted = 1
        if stamp > clocks.get("", ("", "")):
            clocks[""] = stamp
    else:
        if ORIGIN not in clocks or stamp < clocks[ORIGIN]:
            clocks[ORIGIN] = stamp
        for name, value in change.fields.items():
            # A bad value is ignored whole, clock included: skipping it must not depend on order.
            if field_problem(kind, name, value) is None and stamp > clocks.get(name, ("", "")):
                data[name] = value
                clocks[name] = stamp
    db.execute("INSERT INTO records (kind, id, data, deleted) VALUES (?, ?, ?, ?) "
               "ON CONFLICT(kind, id) DO UPDATE SET data = excluded.data, deleted = excluded.deleted",
               [kind, rid, json.dumps(data, ensure_ascii=False, sort_keys=True), deleted])
    for name, (hlc, dev) in clocks.items():
        db.execute("INSERT INTO record_clocks (kind, id, field, hlc, device_id) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT(kind, id, field) DO UPDATE SET hlc = excluded.hlc, device_id = excluded.device_id",
                   [kind, rid, name, hlc, dev])


def origin(db: sqlite_utils.Database, kind: str, rid: str) -> "str | None":
    """The device that created a record (its earliest record.set), or None for a record never
    set here. Records made before origins were kept get theirs from the log, once."""
    row = db.execute("SELECT device_id FROM record_clocks WHERE kind = ? AND id = ? AND field = ?",
                     [kind, rid, ORIGIN]).fetchone()
    if row:
        return row[0]
    if not db.execute("SELECT 1 FROM record_clocks WHERE kind = ? AND id = ? AND field NOT IN ('', ?)",
                      [kind, rid, ORIGIN]).fetchone():
        return None  # never set here (unknown, or only a tombstone): nobody owns it yet
    first = eventlog.first_record_set(db, kind, rid)
    if first is None:
        return None
    db.execute("INSERT INTO record_clocks (kind, id, field, hlc, device_id) VALUES (?, ?, ?, ?, ?)",
               [kind, rid, ORIGIN, first[0], first[1]])
    return first[1]


def owner(db: sqlite_utils.Database, kind: str, rid: str) -> "str | None":
    """The school (device id) a record belongs to, or None for a record never set here. A
    class belongs to the server that created it; a learner to the school a hub moved it to,
    else to its class's school (its own origin while its class is unknown here)."""
    if kind == "learner":
        data = get(db, "learner", rid)
        if data and data.get("school"):
            return data["school"]
        if data and data.get("class_id") and get(db, "class", data["class_id"]):
            return owner(db, "class", data["class_id"])
    return origin(db, kind, rid)


def owners(db: sqlite_utils.Database) -> "dict[tuple[str, str], str | None]":
    """owner() of every record held, deleted ones included, in two reads (a hub holds a
    district's tens of thousands of learners: asked one by one, this would be slow)."""
    origins = origins_of(db)
    found: "dict[tuple[str, str], str | None]" = {}
    rows = db.execute("SELECT kind, id, deleted, json_extract(data, '$.school'), json_extract(data, '$.class_id') "
                      "FROM records ORDER BY kind").fetchall()
    live_classes = {rid for kind, rid, deleted, _, _ in rows if kind == "class" and not deleted}
    for kind, rid, _, school, class_id in rows:
        if kind == "learner" and school:
            found[kind, rid] = school
        elif kind == "learner" and class_id in live_classes:
            found[kind, rid] = origins.get(("class", class_id))
        else:
            found[kind, rid] = origins.get((kind, rid))
    return found


def origins_of(db: sqlite_utils.Database) -> "dict[tuple[str, str], str]":
    """origin() of every record set here, in one read."""
    return {(k, i): d for k, i, d in db.execute("SELECT kind, id, device_id FROM record_clocks WHERE field = ?",
                                                [ORIGIN])}


def forget(db: sqlite_utils.Database, kind: str, rid: str) -> None:
    """Drop a record held here for another school (its events go too: kit.core.eventlog.forget_about)."""
    db.execute("DELETE FROM records WHERE kind = ? AND id = ?", [kind, rid])
    db.execute("DELETE FROM record_clocks WHERE kind = ? AND id = ?", [kind, rid])


def check_may_change(db: sqlite_utils.Database, kind: str, rid: str) -> None:
    """Refuse a local change to a record another school owns, unless this server is a hub
    (the coordinator moves learners between schools). Its hub would refuse the event, and
    every later bundle of this school with it."""
    who = owner(db, kind, rid)
    if who is None or who == eventlog.device_id(db) or get_meta(db, "sync_role") == "hub":
        return
    raise RosterError(f"this {kind} belongs to another server ({who}); only its school or the "
                      "hub can change it: ask the coordinator")


def set_fields(db: sqlite_utils.Database, kind: str, rid: str, fields: dict,
               learner_id: "str | None" = None) -> Event:
    """Change fields of a record (creating it if new), as an event."""
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r}")
    problem = fields_problem(kind, fields)
    if problem:
        raise ValueError(problem)  # callers (kit.core.roster) validate what users type; this is a bug
    check_may_change(db, kind, rid)
    if kind == "learner":
        learner_id = rid
    with transaction(db):
        _outrun(db, kind, rid, list(fields))
        return record(db, RecordSet(kind, rid, fields), learner_id)


def _outrun(db: sqlite_utils.Database, kind: str, rid: str, names: list[str]) -> None:
    """A change made here, now, must win over what it replaces, even when that was stamped by
    a device whose date is wrong (far ahead): move our clock past those fields' clocks."""
    marks = ",".join("?" * len(names))
    row = db.execute(f"SELECT MAX(hlc) FROM record_clocks WHERE kind = ? AND id = ? AND field IN ({marks})",
                     [kind, rid, *names]).fetchone()
    if row and row[0]:
        observe(db, row[0], now_ms=parse_hlc(row[0])[0])


def delete(db: sqlite_utils.Database, kind: str, rid: str) -> Event:
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r}")
    check_may_change(db, kind, rid)
    return record(db, RecordDelete(kind, rid), rid if kind == "learner" else None)  # wins whatever its clock


def record(db: sqlite_utils.Database, change: "RecordSet | RecordDelete", learner_id: "str | None" = None) -> Event:
    """Append a record event made here and fold it, in one transaction. Unchecked: set_fields
    and delete are the ways in that check what may change."""
    with transaction(db):
        event, _ = eventlog.append(db, change, learner_id)
        apply(db, event)
    return event


def merge_rows(db: sqlite_utils.Database, rows: "list[tuple]") -> int:
    """Events made elsewhere (sync) enter the log (kit.core.eventlog.insert_rows: rows in
    ROW_COLUMNS order, validated), and the new record events among them are folded here.
    Caller holds the transaction. Returns how many events were new."""
    inserted = eventlog.insert_rows(db, rows)
    for event in inserted.records:
        apply(db, event)
    return inserted.new


def merge(db: sqlite_utils.Database, events: "Iterable[Event]") -> int:
    """merge_rows for events as objects (a few, or a copy of another server's log)."""
    return merge_rows(db, [e.to_row() for e in events])


def get(db: sqlite_utils.Database, kind: str, rid: str) -> "dict | None":
    """A live record's fields plus its id, or None if unknown or deleted."""
    data = stored(db, kind, rid)
    return {**json.loads(data), "id": rid} if data else None


def stored(db: sqlite_utils.Database, kind: str, rid: str) -> "str | None":
    """A live record's fields as stored (JSON text), or None: for a caller that keeps what it
    decodes, by this text."""
    row = db.execute("SELECT data FROM records WHERE kind = ? AND id = ? AND deleted = 0", [kind, rid]).fetchone()
    return row[0] if row else None


def all_of(db: sqlite_utils.Database, kind: str) -> list[dict]:
    rows = db.execute("SELECT id, data FROM records WHERE kind = ? AND deleted = 0 ORDER BY id", [kind])
    return [{**json.loads(data), "id": rid} for rid, data in rows]


def rebuild(db: sqlite_utils.Database) -> None:
    """Recompute every record from the events (a check, and a repair)."""
    db.execute("DELETE FROM records")
    db.execute("DELETE FROM record_clocks")
    for event in eventlog.record_events(db):
        apply(db, event)

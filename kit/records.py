"""Mutable records (classes, learners) derived from `record.*` events.

Two servers may edit the same learner while apart. Each field keeps the clock of the event
that last set it; an incoming value wins only with a later (hlc, device_id), so every server
reaches the same state whatever order events arrive in. A delete is a tombstone that wins
over every edit, before or after it: a deleted learner never comes back.
"""

from __future__ import annotations

import json

import sqlite_utils

from .events import Event, append

KINDS = ("class", "learner")


def apply(db: sqlite_utils.Database, event: Event) -> None:
    """Fold one record event into the `records` table (caller holds the transaction)."""
    kind, rid = event.body["kind"], event.body["id"]
    stamp = (event.hlc, event.device_id)
    row = db.execute("SELECT data, deleted FROM records WHERE kind = ? AND id = ?", [kind, rid]).fetchone()
    data, deleted = (json.loads(row[0]), row[1]) if row else ({}, 0)
    clocks = {f: (h, d) for f, h, d in db.execute(
        "SELECT field, hlc, device_id FROM record_clocks WHERE kind = ? AND id = ?", [kind, rid])}

    if event.kind == "record.delete":
        deleted = 1
        if stamp > clocks.get("", ("", "")):
            clocks[""] = stamp
    elif event.kind == "record.set":
        for name, value in event.body.get("fields", {}).items():
            if stamp > clocks.get(name, ("", "")):
                data[name] = value
                clocks[name] = stamp
    else:
        return
    db.execute("INSERT INTO records (kind, id, data, deleted) VALUES (?, ?, ?, ?) "
               "ON CONFLICT(kind, id) DO UPDATE SET data = excluded.data, deleted = excluded.deleted",
               [kind, rid, json.dumps(data, ensure_ascii=False, sort_keys=True), deleted])
    for name, (hlc, dev) in clocks.items():
        db.execute("INSERT INTO record_clocks (kind, id, field, hlc, device_id) VALUES (?, ?, ?, ?, ?) "
                   "ON CONFLICT(kind, id, field) DO UPDATE SET hlc = excluded.hlc, device_id = excluded.device_id",
                   [kind, rid, name, hlc, dev])


def set_fields(db: sqlite_utils.Database, kind: str, rid: str, fields: dict,
               learner_id: "str | None" = None) -> Event:
    """Change fields of a record (creating it if new), as an event."""
    if kind not in KINDS:
        raise ValueError(f"unknown record kind {kind!r}")
    if kind == "learner":
        learner_id = rid
    event, _ = append(db, "record.set", {"kind": kind, "id": rid, "fields": fields}, learner_id=learner_id)
    return event


def delete(db: sqlite_utils.Database, kind: str, rid: str) -> Event:
    event, _ = append(db, "record.delete", {"kind": kind, "id": rid},
                      learner_id=rid if kind == "learner" else None)
    return event


def get(db: sqlite_utils.Database, kind: str, rid: str) -> "dict | None":
    """A live record's fields plus its id, or None if unknown or deleted."""
    row = db.execute("SELECT data FROM records WHERE kind = ? AND id = ? AND deleted = 0", [kind, rid]).fetchone()
    return {**json.loads(row[0]), "id": rid} if row else None


def all_of(db: sqlite_utils.Database, kind: str) -> list[dict]:
    rows = db.execute("SELECT id, data FROM records WHERE kind = ? AND deleted = 0 ORDER BY id", [kind])
    return [{**json.loads(data), "id": rid} for rid, data in rows]


def rebuild(db: sqlite_utils.Database) -> None:
    """Recompute every record from the events (a check, and a repair)."""
    db.execute("DELETE FROM records")
    db.execute("DELETE FROM record_clocks")
    for row in db.execute("SELECT * FROM events WHERE kind LIKE 'record.%' ORDER BY hlc, device_id, seq").fetchall():
        apply(db, Event.from_row(row))

"""The schools of a district as this server sees them: what each is called, which school each
class and learner belongs to (kit.core.records.owner), and where a learner moved by the hub went.

A coordinator moves a learner on the hub (kit.core.roster.move_learner). When the move reaches
the learner's old school, the record there names the new school and a class the old school
may not hold: the learner is gone from its classes and sign-in, but their history stays and
the staff should read "moved to <school>", not lose a child without a word. `moved_away` tells
which learner that is and where they went, from the record and its events alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from . import eventlog, records
from .clock import parse_hlc
from .db import get_meta
from .errors import RosterError
from .events import RecordSet
from .keys import trusted_keys


@dataclass(frozen=True)
class School:
    device_id: str
    name: str          # the name it gave itself (its key's), else its device id


@dataclass(frozen=True)
class Move:
    """A learner the hub moved from a class of this server to another school."""
    learner_id: str
    name: str
    from_class: str    # the class here they were in before the move
    school: School     # where they belong now
    at_ms: int         # when the hub moved them (by its clock)


def is_hub(db: sqlite_utils.Database) -> bool:
    """The coordinator's server: it holds every school's records and may change any of them."""
    return get_meta(db, "sync_role") == "hub"


def school_names(db: sqlite_utils.Database) -> "dict[str, str]":
    """{device id: name} of every server known here: this one (its key's name), the peers it
    syncs with or heard of through the hub, and the keys it trusts. (The sync_peers table is
    kit.sync.peers'; the core may not import it, so its two columns are read here.)"""
    names = {k["key_id"]: k["name"] for k in trusted_keys(db) if k["name"]}
    for dev, name in db.execute("SELECT device_id, name FROM sync_peers WHERE name != ''"):
        names[dev] = name
    here = get_meta(db, "device_id")
    if here:
        names[here] = get_meta(db, "device_name") or here
    return names


def school(db: sqlite_utils.Database, device_id: str, names: "dict[str, str] | None" = None) -> School:
    known = school_names(db) if names is None else names
    return School(device_id, known.get(device_id) or device_id)


def class_school(db: sqlite_utils.Database, class_id: str) -> "str | None":
    """The device id of the school a class belongs to (the server that made it)."""
    return records.owner(db, "class", class_id)


def learner_school(db: sqlite_utils.Database, learner_id: str) -> "str | None":
    """The device id of the school a learner belongs to (records.owner)."""
    return records.owner(db, "learner", learner_id)


def class_schools(db: sqlite_utils.Database, class_ids: "list[str]") -> "dict[str, School]":
    """{class id: its School}, naming each school once."""
    names = school_names(db)
    return {cid: school(db, owner, names) for cid in class_ids
            if (owner := class_school(db, cid)) is not None}


def schools_to_show(db: sqlite_utils.Database, class_ids: "list[str]") -> "dict[str, School]":
    """{class id: School} for lists that should name each class's school: on a hub, or wherever
    classes of more than one school are held. A school holding only its own gets {}: its pages
    and listings stay as they were."""
    held = {r["id"] for r in records.all_of(db, "class")}
    if not is_hub(db) and len({class_school(db, cid) for cid in held}) < 2:
        return {}
    return class_schools(db, class_ids)


# --- learners moved away ---------------------------------------------------------------------

@dataclass(frozen=True)
class Stay:
    """A learner's last time at one school, read from their record events."""
    class_id: "str | None"   # the school's class they were last in (None: the record named none)
    left_hlc: "str | None"   # the clock of the change that took them to another school; None: still there


def last_stay(db: sqlite_utils.Database, learner_id: str, school: str) -> "Stay | None":
    """When the learner was last `school`'s, and the change that then took them away (the first
    after it: a later move on to a third school is none of the first school's news). None if
    they never were. Whose a learner is at each step is records.owner's rule: the school a move
    named, else their class's school, else (no class known here) the server that made them."""
    fields: dict = {}
    stay = made_by = None
    for event in eventlog.learner_events(db, learner_id, (RecordSet.KIND,)):
        fields.update(event.payload().fields)
        made_by = made_by or event.device_id
        klass = fields.get("class_id")
        owner = fields.get("school") or (class_school(db, klass) if klass else None) or made_by
        if owner == school:
            stay = Stay(klass, None)
        elif stay is not None and stay.left_hlc is None:
            stay = Stay(stay.class_id, event.hlc)
    return stay


def moved_away(db: sqlite_utils.Database, learner_id: str) -> "Move | None":
    """The move, if the hub took this learner from a class of this server to another school.
    None on a hub (it holds and may change every learner), for a learner of this server, and
    for another school's learner who was never in a class here."""
    rec = records.get(db, "learner", learner_id)
    if rec is None or is_hub(db):
        return None
    here = eventlog.device_id(db)
    now = records.owner(db, "learner", learner_id)
    if now is None or now == here:
        return None
    stay = last_stay(db, learner_id, here)
    if stay is None or stay.class_id is None:
        return None
    at_ms = parse_hlc(stay.left_hlc)[0] if stay.left_hlc else 0
    return Move(learner_id, rec.get("name", ""), stay.class_id, school(db, now), at_ms)


def moved_from_class(db: sqlite_utils.Database, class_id: str) -> "list[Move]":
    """The learners the hub moved from this class to other schools, by name. Only learners
    whose record names a school are looked at (the hub's moves set it), so a school that still
    holds the whole district's learners reads the histories of the few that moved, not all."""
    if is_hub(db):
        return []
    here = eventlog.device_id(db)
    rows = db.execute("SELECT id FROM records WHERE kind = 'learner' AND deleted = 0 "
                      "AND json_extract(data, '$.school') IS NOT NULL AND json_extract(data, '$.school') != ?",
                      [here]).fetchall()
    moves = [m for (lid,) in rows if (m := moved_away(db, lid)) is not None and m.from_class == class_id]
    return sorted(moves, key=lambda m: (m.name.casefold(), m.learner_id))


def may_change_learner(db: sqlite_utils.Database, learner_id: str) -> bool:
    """Whether this server may change the learner (records.check_may_change: their school, or a hub)."""
    try:
        records.check_may_change(db, "learner", learner_id)
    except RosterError:
        return False
    return True


def check_may_change_learner(db: sqlite_utils.Database, learner_id: str) -> None:
    """records.check_may_change for a learner, said in words a teacher understands: which
    school the learner belongs to now, and that the hub moved them there."""
    try:
        records.check_may_change(db, "learner", learner_id)
    except RosterError:
        move = moved_away(db, learner_id)
        if move:
            raise RosterError(f"{move.name} was moved to {move.school.name} by the coordinator and "
                              f"belongs to another server now; only {move.school.name} or the hub can "
                              "change them") from None
        rec = records.get(db, "learner", learner_id) or {}
        owner = school(db, records.owner(db, "learner", learner_id) or "")
        raise RosterError(f"{rec.get('name', 'this learner')} belongs to another server ({owner.name}); "
                          "only that school or the hub can change them: ask the coordinator") from None


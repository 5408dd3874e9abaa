"""A district: a hub holds everything, a school only what is its own.

What is a school's own (kit.core.records.owner): the classes it created, the learners in them
or moved to it by the hub, every event about those learners whoever made it, and the record
events of its classes. A learner who moves away stays at the old school as it was up to the
move (the move itself included, so the old school knows where it went), and nothing later
reaches it. Content travels as packs, not here.

The hub's side. Exporting to a school, the hub sends, of every device's new range, only the
events in the school's share (`Share`); and when a learner has just become the school's (a move,
or the first exchange with a school), its whole history from other devices, once: the hub
remembers, per school, which learners it has sent (`sync_scope`), and a learner's history counts
as arrived when the school says it holds the bundle that carried it (`confirm`), else it goes
again. Such a bundle is "scoped" (format 2, kit.sync.bundle): its ranges say "every event of
yours in (from, to]", not "every event".

The school's side. What a school holds of another device is no longer a gapless prefix of that
device's log, so each scoped range it imports raises `sync_covered`, and `holds` (what it tells
its hub it holds) is the larger of the two. A school that held other schools' learners before
districts were scoped lets them go (`forget_others`) as soon as its hub says it holds their
events: nothing is dropped that the district would lose.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from ..core import district, eventlog, records
from ..core.db import get_meta
from . import peers


def holds(db: sqlite_utils.Database) -> "dict[str, int]":
    """What this server tells others it holds: per device, the gapless prefix of its log, or
    further where scoped ranges from a hub say that every event of its share is here."""
    vector = eventlog.version_vector(db)
    for dev, seq in db.execute("SELECT device_id, seq FROM sync_covered"):
        if seq > vector.get(dev, 0):
            vector[dev] = seq
    return vector


def told(db: sqlite_utils.Database, share: "Share | None", covers: "dict[str, list[int]]") -> "dict[str, int]":
    """What a bundle says its maker holds. To a school, only what concerns it: its own device,
    the hub's, the ranges sent, and the devices it says it holds events of (to let go of
    them, kit.sync.scope.forget_others), not the vector of a whole district."""
    if share is None:
        return holds(db)
    wanted = {share.school, eventlog.device_id(db), *covers, *peers.peer_holds(db, share.school)}
    covered = dict(db.execute("SELECT device_id, seq FROM sync_covered"))
    vector = {dev: max(eventlog.gapless_top(db, dev), covered.get(dev, 0)) for dev in wanted}
    return {dev: seq for dev, seq in vector.items() if seq}  # (read device by device: a hub holds millions)


def note_covered(db: sqlite_utils.Database, covers: "dict[str, list[int]]", held: "dict[str, int]") -> None:
    """After a scoped bundle's events are in: a range starting at or below what was held
    before (`held`, from `holds`) extends what is held; a later range waits for the one before."""
    for dev, (frm, to) in covers.items():
        if frm <= held.get(dev, 0) and to > held.get(dev, 0):
            db.execute("INSERT INTO sync_covered (device_id, seq) VALUES (?, ?) "
                       "ON CONFLICT(device_id) DO UPDATE SET seq = MAX(seq, excluded.seq)", [dev, to])


# --- the hub's side ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Share:
    """What of the log a school receives."""
    school: str
    learners: "dict[str, str | None]"   # learner id -> None (the school's) or the clock it left at
    classes: "set[str]"                 # the school's classes
    joined: "list[str]"                 # learners whose whole history goes (again) this time
    went_to: "set[str]" = frozenset()   # the schools its learners left for (their names travel)


def share_of(db: sqlite_utils.Database, school: str) -> Share:
    """The school's share now, from the records and what was sent to it before."""
    owned = records.owners(db)
    mine = {rid for (kind, rid), who in owned.items() if kind == "learner" and who == school}
    classes = {rid for (kind, rid), who in owned.items() if kind == "class" and who == school}
    sent = {lid: (until, bool(lost)) for lid, until, lost in db.execute(
        "SELECT learner_id, until_hlc, lost FROM sync_scope WHERE peer = ?", [school])}
    made = {rid for (kind, rid), dev in records.origins_of(db).items() if kind == "learner" and dev == school}
    learners: "dict[str, str | None]" = {lid: None for lid in mine}
    for lid in (set(sent) | made) - mine:  # were the school's: what led up to their leaving
        learners[lid] = (sent[lid][0] if lid in sent else None) or left_at(db, lid, school)
    joined = sorted(lid for lid in mine if lid not in sent or sent[lid][0] is not None or sent[lid][1])
    went_to = {owned.get(("learner", lid)) for lid, until in learners.items() if until is not None} - {None}
    return Share(school, learners, classes, joined, went_to)


def plan(db: sqlite_utils.Database, share: Share, since: "dict[str, int]") -> "tuple[dict[str, list[int]], list[tuple]]":
    """What a holder of `since` lacks of the share, as (covers, rows): a range (since, top] for
    each device with something in it (top: what the hub holds of it with no gap), and the rows
    in (device, seq) order, joined histories included whatever `since` says. Only devices with
    something for the school appear: a district's hundred other schools cost a school nothing."""
    joined = set(share.joined)
    tops: "dict[str, int]" = {}
    rows = []
    for row in eventlog.share_rows(db, list(share.learners), share.classes, share.school):
        dev, seq, hlc, learner = row[1], row[2], row[3], row[5]
        if dev not in tops:
            tops[dev] = eventlog.gapless_top(db, dev)
        until = share.learners.get(learner) if learner is not None else None
        if seq > tops[dev] or (until is not None and hlc > until):
            continue  # beyond a gap in what the hub holds, or after the learner left
        if seq > since.get(dev, 0) or learner in joined:
            rows.append(row)
    covers = {dev: [since.get(dev, 0), tops[dev]] for dev in sorted({r[1] for r in rows})
              if tops[dev] > since.get(dev, 0)}
    return covers, rows


def left_at(db: sqlite_utils.Database, learner_id: str, school: str) -> str:
    """The clock after which nothing about the learner is `school`'s ("" if never its)."""
    stay = district.last_stay(db, learner_id, school)
    return (stay.left_hlc or "") if stay else ""


def remember(db: sqlite_utils.Database, share: Share, covers: "dict[str, list[int]]") -> None:
    """After a scoped bundle for `share.school` was written: whose histories it carried, who
    left when. Written is sent, as for ranges (kit.sync.peers): a history goes again only if
    the school's newest word lacks the bundle's last event (`peers.rewind_exports`)."""
    mark = max(((dev, to) for dev, (_, to) in covers.items()), key=lambda m: m[1], default=(None, None))
    for lid in share.joined:
        db.execute("INSERT INTO sync_scope (peer, learner_id, until_hlc, mark_device, mark_seq, lost) "
                   "VALUES (?, ?, NULL, ?, ?, 0) ON CONFLICT(peer, learner_id) DO UPDATE SET until_hlc = NULL, "
                   "mark_device = excluded.mark_device, mark_seq = excluded.mark_seq, lost = 0",
                   [share.school, lid, *mark])
    for lid, until in share.learners.items():
        if until is not None:  # the first clock found stays: a later move is none of this school's
            db.execute("INSERT INTO sync_scope (peer, learner_id, until_hlc) VALUES (?, ?, ?) "
                       "ON CONFLICT(peer, learner_id) DO UPDATE SET until_hlc = excluded.until_hlc "
                       "WHERE until_hlc IS NULL", [share.school, lid, until])


# --- the school's side --------------------------------------------------------------------------

def forget_others(db: sqlite_utils.Database, hub_holds: "dict[str, int]") -> int:
    """At a school, drop other schools' learners and classes (records, events, PIN hashes) that
    this school never had, once the hub holds every event about them. Learners who were ours
    and moved away stay. Caller holds the transaction. Returns how many records went."""
    if get_meta(db, "sync_role") == "hub":
        return 0
    me = eventlog.device_id(db)
    foreign = [key for key, who in records.owners(db).items() if who not in (me, None) and not _was_ours(db, me, key)]
    if not foreign:
        return 0
    before = holds(db)  # what is held stays held: a dropped event is not one to fetch again
    dropped = 0
    for kind, rid in foreign:
        about = (None, (kind, rid)) if kind == "class" else (rid, None)
        tops = eventlog.tops_about(db, *about)
        if all(seq <= hub_holds.get(dev, 0) for dev, seq in tops.items()):
            eventlog.forget_about(db, *about)
            records.forget(db, kind, rid)
            dropped += 1
    if dropped:
        for dev, seq in before.items():
            if dev != me:
                db.execute("INSERT INTO sync_covered (device_id, seq) VALUES (?, ?) "
                           "ON CONFLICT(device_id) DO UPDATE SET seq = MAX(seq, excluded.seq)", [dev, seq])
    return dropped


def _was_ours(db: sqlite_utils.Database, me: str, key: "tuple[str, str]") -> bool:
    """A record this school made, or a learner who was here (moved in, then away): its history
    up to the move stays."""
    kind, rid = key
    if records.origin(db, kind, rid) == me:
        return True
    if kind != "learner":
        return False
    return me in eventlog.tops_about(db, rid) or district.last_stay(db, rid, me) is not None

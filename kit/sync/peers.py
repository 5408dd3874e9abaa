"""What this server remembers about the servers it syncs with.

For each peer (named by its device id, which is its key id): its name and role, what it told
us it holds (the `holds` vector of the signed bundles it sent, the vector of its signed pull
requests) and when it last said so on its own clock, what we have already sent it (bundles
written for it, on a stick or prepared for its pull), and when data last moved. There is one
such checkpoint per peer whatever the transport: the next export, by USB or over HTTP, starts
after the union of what it holds and what it was sent, so each event travels once. None of
this is the truth: losing it only makes the next exchange send more, never less.
"""

from __future__ import annotations

import re
import time
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timezone

import sqlite_utils

from ..core import eventlog
from ..core.db import get_meta, set_meta
from ..core.errors import SyncError
from ..core.keys import now_iso, trusted_keys

ROLES = ("school", "hub")
ANYONE = ""  # the checkpoint of bundles written with no destination


@dataclass(frozen=True)
class Peer:
    device_id: str
    name: str
    role: str
    last_import_at: "str | None" = None
    last_export_at: "str | None" = None
    last_contact_at: "str | None" = None


def own_role(db: sqlite_utils.Database) -> str:
    """school (sends only its own events) or hub (relays the events of enrolled schools)."""
    return get_meta(db, "sync_role") or "school"


def set_role(db: sqlite_utils.Database, role: str) -> None:
    if role not in ROLES:
        raise SyncError(f"unknown sync role {role!r}; choose school or hub")
    set_meta(db, "sync_role", role)


def merge_vector(db: sqlite_utils.Database, table: str, peer: str, vector: "dict[str, int]") -> bool:
    """Raise a stored vector to at least `vector`, device by device. Returns whether it moved."""
    moved = False
    for dev, seq in vector.items():
        row = db.execute(f"SELECT seq FROM {table} WHERE peer = ? AND device_id = ?", [peer, dev]).fetchone()
        if row is None or row[0] < seq:
            db.execute(f"INSERT INTO {table} (peer, device_id, seq) VALUES (?, ?, ?) "
                       "ON CONFLICT(peer, device_id) DO UPDATE SET seq = excluded.seq", [peer, dev, seq])
            moved = True
    return moved


def stored_vector(db: sqlite_utils.Database, table: str, peer: str) -> "dict[str, int]":
    return {d: s for d, s in db.execute(f"SELECT device_id, seq FROM {table} WHERE peer = ?", [peer])}


def peer_holds(db: sqlite_utils.Database, peer: str) -> "dict[str, int]":
    return stored_vector(db, "sync_peer_vectors", peer)


def export_since(db: sqlite_utils.Database, peer: str) -> "dict[str, int]":
    """What `peer` has or has been given: the default starting point of the next export."""
    since = peer_holds(db, peer) if peer != ANYONE else {}
    for dev, seq in stored_vector(db, "sync_exported", peer).items():
        since[dev] = max(since.get(dev, 0), seq)
    return since


def remember_peer(db: sqlite_utils.Database, device_id: str, name: str, role: str) -> None:
    """Add a peer, or update its name and role (a relayed device never downgrades a known peer)."""
    row = db.execute("SELECT name, role FROM sync_peers WHERE device_id = ?", [device_id]).fetchone()
    if row is None:
        db.execute("INSERT INTO sync_peers (device_id, name, role) VALUES (?, ?, ?)", [device_id, name, role])
    elif role != "relayed" and (row[0], row[1]) != (name, role):
        db.execute("UPDATE sync_peers SET name = ?, role = ? WHERE device_id = ?", [name, role, device_id])


def note_import(db: sqlite_utils.Database, signer: str, name: str, role: str, holds: "dict[str, int]",
                devices: "dict[str, str]", brought_events: bool, said_at: object = None) -> None:
    """After a bundle's events are in (same transaction): what its signer holds, said at
    `said_at` (the manifest's created_at), and who is who. Touches nothing when the bundle
    brought nothing new and says nothing newer, so a replay changes no byte."""
    moved = note_holds(db, signer, holds, said_at)
    for dev, dev_name in devices.items():
        if dev != signer:
            remember_peer(db, dev, dev_name, "relayed")
    if moved or brought_events:
        remember_peer(db, signer, name, role)
        db.execute("UPDATE sync_peers SET last_import_at = ? WHERE device_id = ?", [now_iso(), signer])


def note_holds(db: sqlite_utils.Database, peer: str, holds: "dict[str, int]", said_at: object) -> bool:
    """A peer's signed word on what it holds, said at `said_at` on its own clock (an ISO time
    or unix seconds). What it holds only grows, so any word raises it. What we sent it and it
    says it lacks was lost on the way (a stick that never arrived): only its NEWEST word may
    say so and send that range again. An older word (a bundle left on a stick, imported after
    a newer one or again) was said before our later exports arrived, and rewinds nothing; its
    times are compared with the same peer's earlier ones only, never with this server's clock.
    A word with no readable time rewinds nothing. Returns whether anything changed."""
    moved = merge_vector(db, "sync_peer_vectors", peer, holds)
    at = unix_time(said_at)
    last = db.execute("SELECT said_at FROM sync_peer_said WHERE peer = ?", [peer]).fetchone()
    if at is None or (last is not None and at <= last[0]):
        return moved
    db.execute("INSERT INTO sync_peer_said (peer, said_at) VALUES (?, ?) "
               "ON CONFLICT(peer) DO UPDATE SET said_at = excluded.said_at", [peer, at])
    rewind_exports(db, peer, holds)
    return True


def unix_time(stamp: object) -> "float | None":
    """Seconds since 1970 from a manifest's ISO time (UTC if it names no zone) or a request's
    unix time; None if it is neither."""
    if type(stamp) in (int, float):
        return float(stamp) if stamp == stamp and abs(stamp) < 1e11 else None  # finite, before year 5000
    if not isinstance(stamp, str) or len(stamp) > 40:
        return None
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).timestamp()


def rewind_exports(db: sqlite_utils.Database, peer: str, holds: "dict[str, int]") -> None:
    """What we exported to `peer` but its newest word says it does not hold was lost on the
    way: the next export starts again from what it holds (importing ignores what arrives twice),
    and the learners' histories those bundles carried go again (kit.sync.scope)."""
    lost = False
    for dev, seq in stored_vector(db, "sync_exported", peer).items():
        if holds.get(dev, 0) < seq:
            db.execute("UPDATE sync_exported SET seq = ? WHERE peer = ? AND device_id = ?",
                       [holds.get(dev, 0), peer, dev])
            lost = True
    for lid, dev, seq in db.execute("SELECT learner_id, mark_device, mark_seq FROM sync_scope "
                                    "WHERE peer = ? AND lost = 0 AND until_hlc IS NULL", [peer]).fetchall():
        if (dev is None and lost) or (dev is not None and holds.get(dev, 0) < seq):
            db.execute("UPDATE sync_scope SET lost = 1 WHERE peer = ? AND learner_id = ?", [peer, lid])


def note_export(db: sqlite_utils.Database, peer: str, covered: "dict[str, int]") -> None:
    """A bundle for `peer` (or ANYONE) was written covering up to `covered`."""
    merge_vector(db, "sync_exported", peer, covered)
    if peer != ANYONE:
        db.execute("UPDATE sync_peers SET last_export_at = ? WHERE device_id = ?", [now_iso(), peer])


def note_contact(db: sqlite_utils.Database, peer: str) -> None:
    db.execute("UPDATE sync_peers SET last_contact_at = ? WHERE device_id = ?", [now_iso(), peer])


def peers(db: sqlite_utils.Database) -> list[Peer]:
    return [Peer(*row) for row in db.execute(
        "SELECT device_id, name, role, last_import_at, last_export_at, last_contact_at "
        "FROM sync_peers ORDER BY role, name, device_id")]


def resolve_peer(db: sqlite_utils.Database, text: str) -> str:
    """A peer's device id from its id, id prefix or name (as `--to` takes it)."""
    known = {p.device_id: p.name for p in peers(db)}
    known.update({k["key_id"]: k["name"] for k in trusted_keys(db) if k["role"] in ROLES})
    exact = [d for d, n in known.items() if text in (d, n)]
    found = exact or [d for d in known if d.startswith(text.lower())]
    if len(found) == 1:
        return found[0]
    if not found:
        raise SyncError(f"no known peer {text!r}; enrol it first (`kit sync enrol FILE --as school|hub`)")
    raise SyncError(f"{text!r} names several peers ({', '.join(sorted(found))}); give the device id")


LABEL_CHARS = 24


def file_label(db: sqlite_utils.Database, device_id: str) -> str:
    """A server's name as a file name may carry it, for a coordinator to read on a stick:
    lower case ASCII letters, digits and dashes, accents dropped, at most LABEL_CHARS
    ('École Tamda' -> 'ecole-tamda'). A name with no Latin letter (an Arabic one) gives
    the device id instead."""
    own = get_meta(db, "device_id")
    name = get_meta(db, "device_name") if device_id == own else None
    for table, column in (("sync_peers", "device_id"), ("trusted_keys", "key_id")):
        if not name:
            row = db.execute(f"SELECT name FROM {table} WHERE {column} = ?", [device_id]).fetchone()
            name = row[0] if row else None
    return slug(name or "") or device_id


def slug(name: str) -> str:
    """'' if nothing readable is left."""
    plain = unicodedata.normalize("NFKD", name.casefold()).encode("ascii", "ignore").decode("ascii")
    words = re.sub(r"[^a-z0-9]+", "-", plain).strip("-")
    if len(words) > LABEL_CHARS:  # cut after a whole word if there is one to cut after
        cut = words[:LABEL_CHARS + 1]
        words = cut.rsplit("-", 1)[0] if "-" in cut else cut[:LABEL_CHARS]
    return words if re.search("[a-z]", words) else ""


def enrolled_hubs(db: sqlite_utils.Database) -> list[str]:
    return [k["key_id"] for k in trusted_keys(db) if k["role"] == "hub"]


def prune_nonces(db: sqlite_utils.Database, older_than_s: float) -> None:
    db.execute("DELETE FROM sync_nonces WHERE at < ?", [time.time() - older_than_s])


@dataclass(frozen=True)
class SyncStatus:
    device_id: str
    name: str
    role: str
    events: "dict[str, int]"          # events held per origin device
    vector: "dict[str, int]"          # highest gapless seq per origin device
    learners: int
    peers: list[Peer]

    def to_dict(self) -> dict:
        return {"device_id": self.device_id, "name": self.name, "role": self.role, "events": self.events,
                "vector": self.vector, "learners": self.learners,
                "peers": [p.__dict__ for p in self.peers]}


def sync_status(db: sqlite_utils.Database) -> SyncStatus:
    return SyncStatus(
        device_id=get_meta(db, "device_id") or "", name=get_meta(db, "device_name") or "", role=own_role(db),
        events=eventlog.counts_by_device(db), vector=eventlog.version_vector(db),
        learners=db.execute("SELECT COUNT(*) FROM records WHERE kind = 'learner' AND deleted = 0").fetchone()[0],
        peers=peers(db))

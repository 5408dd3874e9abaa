"""What this server remembers about the servers it syncs with.

For each peer (named by its device id, which is its key id): its name and role, what it told
us it holds (the `holds` vector of the signed bundles it sent), what we have already written
for it, and when data last moved. The export default ("everything not yet exported to that
destination") is the union of the last two. None of this is the truth: losing it only makes
the next exchange send more, never less.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

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
                devices: "dict[str, str]", brought_events: bool) -> None:
    """After a bundle's events are in (same transaction): what its signer holds, who is who.
    Touches nothing when the bundle brought nothing new, so a replay changes no byte."""
    moved = merge_vector(db, "sync_peer_vectors", signer, holds)
    moved = rewind_exports(db, signer, holds) or moved
    for dev, dev_name in devices.items():
        if dev != signer:
            remember_peer(db, dev, dev_name, "relayed")
    if moved or brought_events:
        remember_peer(db, signer, name, role)
        db.execute("UPDATE sync_peers SET last_import_at = ? WHERE device_id = ?", [now_iso(), signer])


def rewind_exports(db: sqlite_utils.Database, peer: str, holds: "dict[str, int]") -> bool:
    """What we exported to `peer` but it says it does not hold was lost on the way (a stick
    that never arrived): the next export starts again from what it holds. A stale report only
    makes a range travel twice, which importing ignores."""
    moved = False
    for dev, seq in stored_vector(db, "sync_exported", peer).items():
        if holds.get(dev, 0) < seq:
            db.execute("UPDATE sync_exported SET seq = ? WHERE peer = ? AND device_id = ?",
                       [holds.get(dev, 0), peer, dev])
            moved = True
    return moved


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

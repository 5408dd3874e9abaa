"""Progress bundles (`.kitsync`): events leave one server on a USB stick and enter another.

The file on the stick is the bundle sealed to its one recipient (kit.sync.seal: a clear header
with counts and school names, then the zip below, encrypted); this module writes and reads the
zip, and calls the seal where a file is written (export_bundle) and opened (import_bundle).

A bundle is a zip (written and read by `strictzip`, so any damaged byte is noticed) holding:

    events-00001.ndjson   the events, one JSON object a line, at most 50,000 a member,
    events-00002.ndjson   grouped by device and in sequence order within each device (deflated)
    manifest.json         what the bundle is (below), stored uncompressed
    manifest.sig          Ed25519 signature, by the origin's device key, of manifest.json's bytes

The manifest gives each member's size and sha256, and the sha256 of its deflated bytes too, so
that not one byte of the file escapes the signature (see strictzip).

An event line: {"uid": "3f2a9c0e1b4d5a6f:812", "device_id": "3f2a9c0e1b4d5a6f", "seq": 812,
"hlc": "1714641600000-00000", "kind": "lesson.read", "learner_id": "6d1c...", "body": {...}}.

manifest.json, format version 1:

    {
      "format": "kitsync",
      "version": 1,
      "origin": {"device_id": "3f2a9c0e1b4d5a6f", "key_id": "3f2a9c0e1b4d5a6f",
                 "name": "Ecole de Tamda", "role": "school",
                 "box": "5kQd…="},                 (its sealing key; none from an older kit)
      "destination": "9c1d77e05a3b2f10",          (null from an older kit: refused now)
      "created_at": "2024-05-02T10:00:00+00:00",
      "covers": {"3f2a9c0e1b4d5a6f": [120, 5120]},  (device: [from_seq_exclusive, to_seq])
      "holds": {"3f2a9c0e1b4d5a6f": 5120, "9c1d77e05a3b2f10": 800},
      "devices": {"3f2a9c0e1b4d5a6f": "Ecole de Tamda"},
      "counts": {"events": 5000, "learners": 312},
      "members": [{"name": "events-00001.ndjson", "size": 1048576, "sha256": "…",
                   "packed_sha256": "…", "events": 5000}]
    }

`covers` says exactly which events are inside: for each device every seq in (from, to], no
more, no fewer. `holds` is the origin's whole version vector, so the receiver learns what not
to send back. A device id is its key id (first 16 hex digits of the key's SHA-256).

Format version 2 is a hub's bundle for one school of its district (kit.sync.scope): the same,
plus "scope": {"school": <the destination>, "joined": [learner ids]}. Its ranges hold the
school's share only: for each device, the events in (from, to] about the school's learners
and classes, in seq order, none missing; and outside the ranges, the whole history of the
learners in `joined` (who just became the school's), each event once. `holds` then names
only the devices that concern the school. Only a hub signs one, only for its destination.

Who may sign what (the trust rule, checked before any event is used):
- a school (a key trusted with role `school`) may only carry its own events: every device in
  `covers` must be its own id. A school cannot write events that claim another school's device.
- a hub (role `hub`) relays: it may carry events of any device. A hub only ever holds events it
  accepted from schools enrolled with it (under this same rule) and its own, so what it relays
  was signed by their makers when it entered the hub; the school trusts the hub to pass it on
  unchanged. Nobody may send this server events of its own device that it never made.
- this server's own key counts as a hub (a bundle it wrote itself).
- records (classes, learners) belong to the device that created them (kit.core.records.origin): a
  school's bundle may create records and change or delete its own, never another's. A
  learner who moves to another school is moved by the coordinator at the hub (a hub may
  change any record, and relays what it accepted). One event against this rule refuses the
  whole bundle, as any forged claim does: the database is unchanged, and the school learns
  why. (kit.core.records.set_fields refuses such an edit at the school in the first place.)
- an event is named by its maker only: its uid is exactly `<device_id>:<seq>`. An event this
  server holds already must arrive the same (every field, the same JSON body) or the bundle is
  refused: a rewritten history is never silently half-taken.
Every record.set is checked against kit.core.records.FIELDS (known field names, sane types and
sizes): one class named `5` would break every sign-in page of every school it reached.
A bundle addressed to another destination is refused, so one school's bundle cannot be replayed
into a different hub's exchange by mistake. Replaying an old bundle is harmless: its events are
held already, and its `holds`, older than its signer's newest word, moves no checkpoint back
(peers.note_holds): not one byte changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import groupby
from operator import itemgetter
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import sqlite_utils

from ..core.config import fsync_dir
from ..core.db import make_durable, transaction
from ..core.errors import BundleError
from ..core import eventlog
from ..core.eventlog import version_vector
from ..core.events import Event, RecordDelete, RecordSet, canonical_json
from ..core.instance import Instance
from ..core.keys import PublicKey, now_iso, trusted_key
from ..core.regularfiles import create_new, open_regular
from ..core import records
from . import peers, scope, seal, strictzip

FORMAT = "kitsync"
VERSION = 1           # a school's bundle, or any unscoped one: `covers` holds every event in range
SCOPED = 2            # a hub's bundle for one school: only that school's share (kit.sync.scope)
SUFFIX = ".kitsync"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
EVENTS_PER_MEMBER = 50_000
CHUNK_NAME = re.compile(r"events-\d{5}\.ndjson")

# Caps on what a reader accepts before looking further (a bundle is untrusted until verified).
MAX_BUNDLE = strictzip.MAX_ZIP   # bytes of the whole file: more is refused before a byte is read
MAX_MANIFEST = 4 << 20
MAX_MEMBER = 128 << 20
MAX_MEMBERS = 10_000
MAX_RATIO = 200
MAX_BODY = 64 << 10
IMPORT_CACHE_KIB = -65536  # 64 MB of page cache while importing (negative: KiB, as SQLite takes it)
ESTIMATED_BYTES_PER_EVENT = 120  # compressed events run about 40; the rest is a margin

DEVICE_ID = re.compile(r"[0-9a-f]{16}")
HLC = re.compile(r"\d{13}-\d{5}")
KIND = re.compile(r"[a-z][a-z0-9_.]{0,39}")
LEARNER_ID = re.compile(r"[^\x00-\x1f\x7f]{1,64}")

Progress = Callable[[int, int], None]  # called with (events handled so far, events in all)


@dataclass(frozen=True)
class ExportReport:
    path: "Path | None"            # None when there was nothing to export
    events: int
    learners: int
    bytes: int
    covers: "dict[str, list[int]]"
    destination: "str | None"
    held_back: int = 0             # events not sent: the destination's sealing key is not known yet


@dataclass(frozen=True)
class ImportReport:
    path: Path
    origin: str                    # device id of the signer
    origin_name: str
    events: int                    # in the bundle
    new: int                       # of which this server lacked
    learners: int                  # distinct learners in the bundle


# --- writing ----------------------------------------------------------------------------------

def plan_export(inst: Instance, since: "dict[str, int]") -> "dict[str, list[int]]":
    """The ranges to send to a holder of `since`: a school sends its own events, a hub all it
    holds (gapless prefixes only: a range is never sent with a hole in it)."""
    held = version_vector(inst.db)
    if peers.own_role(inst.db) != "hub":
        held = {d: s for d, s in held.items() if d == inst.device_id}
    return {dev: [since.get(dev, 0), top] for dev, top in sorted(held.items()) if top > since.get(dev, 0)}


def bundle_name(db: sqlite_utils.Database, folder: Path, destination: "str | None",
                day: "date | None" = None) -> str:
    """<from>-to-<to>-<YYYY-MM-DD>-<n>.kitsync, e.g. ecole-tamda-to-district-hub-2024-05-02-1:
    the servers as a coordinator knows them (peers.file_label; `anyone` for no destination),
    the day it was written, and n the first number not yet taken in `folder`, so a second
    export that day never replaces the first. Only people read it: an importer goes by the
    suffix and the signed manifest."""
    own = db.execute("SELECT value FROM meta WHERE key = 'device_id'").fetchone()[0]
    to = peers.file_label(db, destination) if destination else "anyone"
    stem = f"{peers.file_label(db, own)}-to-{to}-{(day or date.today()).isoformat()}"
    n = 1
    while os.path.lexists(folder / f"{stem}-{n}{SUFFIX}"):
        n += 1
    return f"{stem}-{n}{SUFFIX}"


def share_for(inst: Instance, destination: "str | None") -> "scope.Share | None":
    """What a hub sends a school is that school's share; anything else is sent whole."""
    if destination is None or peers.own_role(inst.db) != "hub" \
            or trusted_key(inst.db, destination, roles=("school",)) is None:
        return None
    return scope.share_of(inst.db, destination)


def export_bundle(inst: Instance, dest_path: "str | Path", since_vector: "dict[str, int] | None" = None,
                  destination: "str | None" = None, progress: "Progress | None" = None,
                  acknowledge: bool = False) -> ExportReport:
    """Write the events a holder of `since_vector` lacks into a signed bundle at `dest_path`
    (a file, or a folder to name it in); from a hub to a school, only the school's share.
    With nothing to send, writes nothing, unless `acknowledge`: then a bundle with no events
    still carries `holds`, what arrived here (so a school learns of a stick that never arrived
    and sends that range again). The file is sealed to `destination` (kit.sync.seal; None is
    refused); while its sealing key is unknown here, the file is a key introduction holding no
    events (`held_back` counts them). It appears complete or not at all: temp name, fsync, rename."""
    share = share_for(inst, destination)
    if share:
        covers, rows = scope.plan(inst.db, share, since_vector or {})
    else:
        covers, rows = plan_export(inst, since_vector or {}), None
    to, held_back = seal.recipient(inst, destination), 0
    if to is None:
        held_back = len(rows) if share else sum(top - frm for frm, top in covers.values())
        covers, rows, share = {}, None, None
        acknowledge = acknowledge or held_back > 0
    if not covers and not rows and not acknowledge:
        return ExportReport(None, 0, 0, 0, {}, destination)
    make_durable(inst.db)
    dest = Path(dest_path)
    if dest.is_dir():
        dest = dest / bundle_name(inst.db, dest, destination)
    total = len(rows) if share else sum(to - frm for frm, to in covers.values())
    check_free_space(dest.parent, total * ESTIMATED_BYTES_PER_EVENT + (1 << 20))
    tmp = dest.with_name(f".{dest.name}.partial")
    try:
        with create_new(tmp) as f:  # never through a link planted at that name
            learners = seal.write(inst, f, to, total,
                                  lambda plain: write_zip(inst, plain, covers, destination, progress, total, share, rows))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, dest)
        fsync_dir(dest.parent)
    except OSError as e:
        _discard(tmp)
        raise BundleError(f"cannot write {dest} ({e.strerror or e}); check the stick or the folder") from None
    except BaseException:
        _discard(tmp)
        raise
    if share:
        with transaction(inst.db):
            scope.remember(inst.db, share, covers)
    return ExportReport(dest, total, learners, dest.stat().st_size, covers, destination, held_back)


def _discard(tmp: Path) -> None:
    """Remove a half-written bundle if we can; a pulled stick may not even let us look."""
    try:
        tmp.unlink(missing_ok=True)
    except OSError:
        pass


def export_for(inst: Instance, dest_path: "str | Path", peer: "str | None" = None, everything: bool = False,
               progress: "Progress | None" = None) -> ExportReport:
    """Export what `peer` (None: anyone) neither holds nor was sent yet (on a stick or over
    HTTP: one checkpoint per peer, see peers), or everything, addressed to it, and remember
    what was written so the next export starts after it. A folder gets a new readable name."""
    checkpoint = peer or peers.ANYONE
    since = {} if everything else peers.export_since(inst.db, checkpoint)
    # A hub answers every visit, even with nothing new: schools by USB learn what arrived.
    acknowledge = peer is not None and peers.own_role(inst.db) == "hub"
    report = export_bundle(inst, dest_path, since, peer, progress, acknowledge)
    if report.path:
        with transaction(inst.db):
            peers.note_export(inst.db, checkpoint, {d: to for d, (_, to) in report.covers.items()})
    return report


def check_free_space(folder: Path, needed: int) -> None:
    try:
        free = shutil.disk_usage(folder).free
    except OSError as e:
        raise BundleError(f"cannot write to {folder} ({e.strerror}); is the stick mounted?") from None
    if free < needed:
        raise BundleError(f"{folder} has {free >> 20} MB free and the bundle may need {(needed >> 20) + 1} MB; "
                          "free some space or use another stick")


def write_zip(inst: Instance, f: BinaryIO, covers: "dict[str, list[int]]", destination: "str | None",
              progress: "Progress | None", total: int, share: "scope.Share | None" = None,
              rows: "list[tuple] | None" = None) -> int:
    """Write members then the signed manifest. Returns the number of distinct learners."""
    learners: set = set()
    members = []
    done = 0
    z = strictzip.ZipWriter(f)
    for number, lines in enumerate(event_chunks(inst.db, covers, learners, rows), start=1):
        data = "".join(lines).encode("utf-8")
        name = f"events-{number:05d}.ndjson"
        packed_sha256 = z.add(name, data)
        members.append({"name": name, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                        "packed_sha256": packed_sha256, "events": len(lines)})
        done += len(lines)
        if progress:
            progress(done, total)
    manifest = build_manifest(inst, covers, destination, members, len(learners), share)
    z.add(MANIFEST, manifest, deflate=False)  # stored: the signature covers its bytes as they lie
    z.add(SIGNATURE, inst.key().sign(manifest), deflate=False)
    z.close()
    return len(learners)


def event_chunks(db: sqlite_utils.Database, covers: "dict[str, list[int]]", learners: set,
                 rows: "list[tuple] | None" = None) -> Iterator[list[str]]:
    """The events as bundle lines, EVENTS_PER_MEMBER a list: `rows` (a school's share, chosen
    by kit.sync.scope) or else every event in the ranges."""
    lines: list[str] = []
    dumps = json.dumps
    if rows is None:
        rows = (row for dev, (frm, to) in covers.items() for row in eventlog.rows_between(db, dev, frm, to))
    for uid, device, seq, hlc, kind, learner, body in rows:
        # The body is stored as canonical JSON already: splice it in rather than re-encode.
        lines.append(f'{{"uid":{dumps(uid)},"device_id":"{device}","seq":{seq},"hlc":"{hlc}",'
                     f'"kind":{dumps(kind)},"learner_id":{dumps(learner, ensure_ascii=False)},'
                     f'"body":{body}}}\n')
        if learner is not None:
            learners.add(learner)
        if len(lines) == EVENTS_PER_MEMBER:
            yield lines
            lines = []
    if lines:
        yield lines


def build_manifest(inst: Instance, covers: "dict[str, list[int]]", destination: "str | None",
                   members: list, learners: int, share: "scope.Share | None" = None) -> bytes:
    key = inst.key()
    named = set(covers) | (share.went_to if share else set())  # "moved to <school>" needs its name
    devices = {dev: name for dev, name in inst.db.execute("SELECT device_id, name FROM sync_peers")
               if dev in named}
    devices[inst.device_id] = key.name or inst.device_id
    manifest = {
        "format": FORMAT, "version": SCOPED if share else VERSION,
        "origin": {"device_id": inst.device_id, "key_id": key.key_id, "name": key.name,
                   "role": peers.own_role(inst.db), "box": seal.own_box(inst)},
        "destination": destination,
        "created_at": now_iso(),
        "covers": covers,
        "holds": scope.told(inst.db, share, covers),
        "devices": {d: devices[d] for d in sorted(devices)},
        "counts": {"events": sum(m["events"] for m in members), "learners": learners},
        "members": members,
    }
    if share:
        manifest["scope"] = {"school": share.school, "joined": share.joined}
    return json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=False).encode("utf-8") + b"\n"


# --- reading and verifying ----------------------------------------------------------------------

@dataclass
class VerifiedBundle:
    """A bundle whose zip layout, signature, trust, manifest and member hashes all checked out.
    `chunks()` reads the events again, re-checking each member's hash before yielding it (the
    file may sit on a stick that changes under us), and checks every event against `covers`."""

    path: Path
    manifest: dict
    signer: PublicKey
    signer_role: str                  # school | hub | self
    members: "dict[str, strictzip.Member]" = field(repr=False)

    @property
    def origin(self) -> str:
        return self.manifest["origin"]["device_id"]

    @property
    def covers(self) -> "dict[str, list[int]]":
        return self.manifest["covers"]

    @property
    def event_count(self) -> int:
        return self.manifest["counts"]["events"]

    @property
    def scoped(self) -> bool:
        return self.manifest["version"] == SCOPED

    @property
    def joined(self) -> "list[str]":
        return self.manifest["scope"]["joined"] if self.scoped else []

    def chunks(self) -> Iterator[list[tuple]]:
        """Events as rows (ROW_COLUMNS order, body as canonical JSON), one list per member."""
        expected = {dev: frm + 1 for dev, (frm, _) in self.covers.items()}
        share = Placement(self.covers, set(self.joined)) if self.scoped else None
        with open_regular(self.path, MAX_BUNDLE, BundleError) as f:
            for entry in self.manifest["members"]:
                packed = hashlib.sha256()
                data = strictzip.read_member(f, self.members[entry["name"]], packed)
                if (hashlib.sha256(data).hexdigest(), packed.hexdigest()) != (entry["sha256"], entry["packed_sha256"]):
                    raise BundleError(f"{self.path.name}: {entry['name']} changed while it was being read")
                rows = parse_events(data, expected, entry["name"], share)
                if len(rows) != entry["events"]:
                    raise BundleError(f"{self.path.name}: {entry['name']} holds {len(rows)} events, "
                                      f"the manifest says {entry['events']}")
                yield rows
        short = [dev for dev, (_, to) in self.covers.items() if expected[dev] != to + 1]
        if short and not self.scoped:
            raise BundleError(f"{self.path.name}: events of {short[0]} are missing from the bundle")


def read_bundle(path: "str | Path", db: sqlite_utils.Database) -> VerifiedBundle:
    """Verify a bundle completely (all but the event lines themselves, which `chunks()` checks
    as it reads them) against this server's trust store. Raises BundleError naming the reason."""
    path = Path(path)
    with open_regular(path, MAX_BUNDLE, BundleError) as f:
        try:
            return verify(path, f, db)
        except BundleError as e:
            raise BundleError(f"{path.name}: {e}") from None


def verify(path: Path, f: BinaryIO, db: sqlite_utils.Database) -> VerifiedBundle:
    members = open_layout(f)
    manifest_bytes, signature = read_signed_manifest(f, members)
    manifest = parse_manifest(manifest_bytes)
    signer, role = check_signer(db, manifest, manifest_bytes, signature)
    check_manifest(db, manifest, role, members)
    # The packed bytes fix the content (inflating is deterministic), so their signed hash is
    # enough to know every byte is the signer's; chunks() checks the content hash as it reads.
    for entry in manifest["members"]:
        if strictzip.hash_packed(f, members[entry["name"]]) != entry["packed_sha256"]:
            raise BundleError(f"{entry['name']} does not match the manifest (tampered or damaged)")
    return VerifiedBundle(path, manifest, signer, role, members)


def open_layout(f: BinaryIO) -> "dict[str, strictzip.Member]":
    """The members of a bundle's zip, its layout checked byte by byte and every size capped
    (nothing is inflated yet)."""
    return strictzip.open_members(
        f, os.fstat(f.fileno()).st_size, lambda n: n in (MANIFEST, SIGNATURE) or bool(CHUNK_NAME.fullmatch(n)),
        MAX_MEMBERS, MAX_MEMBER, MAX_RATIO)


def read_signed_manifest(f: BinaryIO, members: "dict[str, strictzip.Member]") -> "tuple[bytes, bytes]":
    """The manifest's bytes and their signature, once their sizes are known to be sane
    (both stored, so what is read is what lies in the file: no inflating)."""
    if MANIFEST not in members or SIGNATURE not in members:
        raise BundleError("no manifest or no signature: not a kit bundle, or an incomplete one")
    if members[MANIFEST].size > MAX_MANIFEST or members[SIGNATURE].size != 64 \
            or members[MANIFEST].method != strictzip.STORED or members[SIGNATURE].method != strictzip.STORED:
        raise BundleError("the manifest or its signature is not stored as a bundle's are")
    return strictzip.read_member(f, members[MANIFEST]), strictzip.read_member(f, members[SIGNATURE])


def parse_manifest(data: bytes) -> dict:
    try:
        manifest = json.loads(data)
    except (UnicodeDecodeError, ValueError):
        raise BundleError("the manifest is not valid JSON") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError("not a kit progress bundle (the manifest's format is not 'kitsync')")
    if manifest.get("version") not in (VERSION, SCOPED):
        raise BundleError(f"format version {manifest.get('version')!r} is unknown here (this kit reads "
                          f"versions {VERSION} and {SCOPED}); update the kit on this server")
    return manifest


def check_signer(db: sqlite_utils.Database, manifest: dict, data: bytes, signature: bytes) -> "tuple[PublicKey, str]":
    origin = manifest.get("origin")
    if not isinstance(origin, dict) or not isinstance(origin.get("key_id"), str) \
            or origin.get("device_id") != origin.get("key_id"):
        raise BundleError("the manifest names no valid origin")
    key_id, name = origin["key_id"], str(origin.get("name", ""))[:100]
    own = db.execute("SELECT value FROM meta WHERE key = 'device_id'").fetchone()
    if own and own[0] == key_id:
        key, role = trusted_key(db, key_id), "self"  # our own key is trusted (as publisher) at init
    else:
        key = trusted_key(db, key_id, roles=("school", "hub"))
        role = db.execute("SELECT role FROM trusted_keys WHERE key_id = ?", [key_id]).fetchone()
        role = role[0] if role else ""
    if key is None:
        raise BundleError(f"signed by {name or 'a server'} ({key_id}), which this server has not enrolled; "
                          "enrol it first with `kit sync enrol FILE --as school`")
    if not key.verify(signature, data):
        raise BundleError(f"the signature does not match {name or key_id}'s key (tampered, or signed by another key)")
    return key, role


def check_manifest(db: sqlite_utils.Database, manifest: dict, role: str, members: dict) -> None:
    """Everything about the manifest except the member hashes (checked next, by the caller)."""
    covers, holds, counts, listed = (manifest.get(k) for k in ("covers", "holds", "counts", "members"))
    if not (isinstance(covers, dict) and isinstance(holds, dict) and isinstance(counts, dict)
            and isinstance(listed, list) and isinstance(manifest.get("devices", {}), dict)):
        raise BundleError("the manifest is missing covers, holds, counts or members")
    for dev, span in covers.items():
        if not (DEVICE_ID.fullmatch(dev) and isinstance(span, list) and len(span) == 2
                and all(type(n) is int for n in span) and 0 <= span[0] < span[1]):
            raise BundleError(f"the manifest's range for device {dev!r} is malformed")
    if not all(DEVICE_ID.fullmatch(d) and type(s) is int and s >= 0 for d, s in holds.items()):
        raise BundleError("the manifest's version vector is malformed")
    origin = manifest["origin"]["device_id"]
    if role == "school" and set(covers) - {origin}:
        other = sorted(set(covers) - {origin})[0]
        raise BundleError(f"school {origin} signed events of device {other}; a school may only send its own events")
    own = db.execute("SELECT value FROM meta WHERE key = 'device_id'").fetchone()[0]
    if own in covers and role != "self":
        if covers[own][1] > eventlog.max_seq(db, own):
            raise BundleError("it claims events of this server that this server never made")
    destination = manifest.get("destination")
    if destination is not None and destination != own:
        raise BundleError(f"it is addressed to {destination}, not to this server ({own})")
    if manifest["version"] == SCOPED:
        check_scope(manifest, role, own)
    names = [m.get("name") if isinstance(m, dict) else None for m in listed]
    if not all(isinstance(n, str) and CHUNK_NAME.fullmatch(n) for n in names) or len(set(names)) != len(names):
        raise BundleError("the manifest's member list is malformed")
    if set(names) != set(members) - {MANIFEST, SIGNATURE}:
        raise BundleError("the zip's members differ from the manifest's list (tampered?)")
    for m in listed:
        if not (type(m.get("size")) is int and type(m.get("events")) is int and isinstance(m.get("sha256"), str)
                and isinstance(m.get("packed_sha256"), str)):
            raise BundleError(f"the manifest's entry for {m['name']} is malformed")
        if m["size"] != members[m["name"]].size:
            raise BundleError(f"{m['name']} has another size than the manifest says (tampered?)")
    total = sum(to - frm for frm, to in covers.values())
    listed_total = sum(m["events"] for m in listed)
    if manifest["version"] == SCOPED:  # a share: at most the ranges, plus the joined histories
        total = listed_total if listed_total <= total + MAX_JOINED_EVENTS else -1
    if counts.get("events") != total or listed_total != total:
        raise BundleError("the manifest's event counts do not add up")


MAX_JOINED = 100_000            # learners whose history one scoped bundle may bring
MAX_JOINED_EVENTS = 50_000_000


def check_scope(manifest: dict, role: str, own: str) -> None:
    """A scoped bundle is a hub's, for this server only, naming the learners it brings whole."""
    share = manifest.get("scope")
    if role not in ("hub", "self"):
        raise BundleError("a school sent a hub's scoped bundle; only a hub relays a school's share")
    if manifest.get("destination") != own or not isinstance(share, dict) or share.get("school") != own:
        raise BundleError("a scoped bundle must be addressed to this server")
    joined = share.get("joined")
    if not (isinstance(joined, list) and len(joined) <= MAX_JOINED
            and all(isinstance(j, str) and LEARNER_ID.fullmatch(j) for j in joined)):
        raise BundleError("the manifest's list of learners who joined is malformed")


class Placement:
    """Where an event of a scoped bundle may lie: within its device's range, after the one
    before it (the school's share of the range, in order), or outside every range when it is
    about a learner whose whole history the bundle brings, once."""

    def __init__(self, covers: "dict[str, list[int]]", joined: "set[str]"):
        self.covers, self.joined, self.seen = covers, joined, set()

    def problem(self, dev: str, seq: int, learner: "str | None", expected: "dict[str, int]") -> "str | None":
        span = self.covers.get(dev)
        if span is not None and span[0] < seq <= span[1]:
            if seq < expected[dev]:
                return f"event {dev}:{seq} is out of order"
            expected[dev] = seq + 1
            return None
        if learner not in self.joined:
            return f"event {dev}:{seq} lies outside the ranges and is about no learner who joined"
        if (dev, seq) in self.seen:
            return f"event {dev}:{seq} appears twice"
        self.seen.add((dev, seq))
        return None


def reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


# Built once: json.loads with options makes a new decoder at every call.
DECODE_LINE = json.JSONDecoder(parse_constant=reject_constant).raw_decode


def parse_events(data: bytes, expected: "dict[str, int]", member: str, share: "Placement | None" = None
                 ) -> list[tuple]:
    """Parse and check one member's events; `expected` (next seq per device) advances. In a
    scoped bundle (`share`), the share of each range in order and the joined histories."""
    rows = []
    try:
        lines = data.decode("utf-8").split("\n")
    except UnicodeDecodeError:
        raise BundleError(f"{member} is not UTF-8 text") from None
    if lines.pop() != "":
        raise BundleError(f"{member} does not end with a newline")
    for number, line in enumerate(lines, start=1):
        try:
            e, end = DECODE_LINE(line)
            row = (e["uid"], e["device_id"], e["seq"], e["hlc"], e["kind"], e["learner_id"], canonical_json(e["body"]))
        except (ValueError, KeyError, TypeError, IndexError):
            raise BundleError(f"{member} line {number} is not an event") from None
        problem = "trailing characters" if end != len(line) else event_problem(e, row, expected, share)
        if problem:
            raise BundleError(f"{member} line {number}: {problem}")
        if share is None:
            expected[row[1]] += 1
        rows.append(row)
    return rows


def event_problem(e: dict, row: tuple, expected: "dict[str, int]", share: "Placement | None" = None
                  ) -> "str | None":
    """Why this event may not enter, or None. Cheap checks first: this runs a million times."""
    uid, dev, seq, hlc, kind, learner, body = row
    if len(e) != 7:
        return "unexpected fields"
    if share is not None:
        if dev.__class__ is not str or not DEVICE_ID.fullmatch(dev) or seq.__class__ is not int or seq < 1:
            return "malformed device or seq"
        if learner is not None and learner.__class__ is not str:
            return "malformed learner id"
        placed = share.problem(dev, seq, learner, expected)
        if placed:
            return placed
    elif dev.__class__ is not str or dev not in expected:
        return f"device {dev!r} is not covered by the manifest"
    elif seq.__class__ is not int or seq != expected[dev]:
        return f"expected seq {expected[dev]} of {dev}, found {seq!r}"
    if uid != f"{dev}:{seq}":
        return "the uid is not <device>:<seq> (only the device that made an event names it)"
    if hlc.__class__ is not str or not HLC.fullmatch(hlc) or kind.__class__ is not str or not KIND.fullmatch(kind):
        return "malformed clock or kind"
    if learner is not None and not (learner.__class__ is str and LEARNER_ID.fullmatch(learner)):
        return "malformed learner id"
    b = e["body"]
    if b.__class__ is not dict or len(body) > MAX_BODY:
        return "the body is not a JSON object of reasonable size"
    if kind.startswith("record."):
        if b.get("kind") not in records.KINDS or not (isinstance(b.get("id"), str)
                                                      and records.RECORD_ID.fullmatch(b["id"])):
            return "a record event without a valid record kind and id"
        if kind == RecordSet.KIND:
            return records.fields_problem(b["kind"], b.get("fields"))
        if kind != RecordDelete.KIND:
            return f"unknown record event {kind!r}"
    return None


# --- importing ------------------------------------------------------------------------------------

def import_bundle(inst: Instance, path: "str | Path", progress: "Progress | None" = None) -> ImportReport:
    """Open a sealed bundle with this server's key (kit.sync.seal), verify the signed zip inside,
    and merge it (merge_bundle); then keep the sealing key its signer put in the manifest.
    Idempotent and order-independent; the database is unchanged on any refusal."""
    with seal.opened(inst, path, MAX_BUNDLE) as inner:
        bundle = read_bundle(inner.path, inst.db)
        manifest, origin = bundle.manifest, bundle.manifest["origin"]
        try:
            inner.admit(inst.db, bundle.origin, bundle.signer_role, manifest.get("destination"),
                        bundle.event_count, manifest["counts"].get("learners"), origin.get("box"))
        except BundleError as e:
            raise BundleError(f"{Path(path).name}: {e}") from None
        report = merge_bundle(inst, bundle, progress)
        inner.remember_sender(inst.db, bundle.origin, bundle.signer_role, origin.get("box"))
    return replace(report, path=Path(path))


def merge_bundle(inst: Instance, bundle: VerifiedBundle, progress: "Progress | None" = None) -> ImportReport:
    """Merge a verified bundle in ONE transaction: new events go in, held ones are ignored,
    records are re-derived from the new record.* events, and what the signer holds is
    remembered. The database is unchanged on any refusal."""
    path = bundle.path
    manifest, db = bundle.manifest, inst.db
    held = scope.holds(db)
    missing = bool(bundle.joined) or any(held.get(dev, 0) < to for dev, (_, to) in bundle.covers.items())
    new = done = 0
    cache = db.execute("PRAGMA cache_size").fetchone()[0]
    db.execute(f"PRAGMA cache_size = {IMPORT_CACHE_KIB}")  # index pages of a big log stay in memory
    try:
        with transaction(db):
            if missing:  # else a replay: every event is held, so none needs reading
                for rows in bundle.chunks():
                    if bundle.signer_role == "school":
                        check_authority(db, rows, bundle.origin)
                    added = records.merge_rows(db, rows)
                    if added < len(rows):
                        check_held_alike(db, rows)
                    new += added
                    done += len(rows)
                    if progress:
                        progress(done, bundle.event_count)
            if bundle.scoped:
                scope.note_covered(db, bundle.covers, held)
            if bundle.signer_role != "self":
                devices = {d: n[:100] for d, n in manifest.get("devices", {}).items()
                           if DEVICE_ID.fullmatch(d) and isinstance(n, str)}
                peers.note_import(db, bundle.origin, str(manifest["origin"].get("name", ""))[:100],
                                  bundle.signer_role, manifest["holds"], devices, new > 0, manifest.get("created_at"))
            if bundle.signer_role == "hub":
                scope.forget_others(db, manifest["holds"])
    except BundleError as e:
        raise BundleError(f"{Path(path).name}: {e}") from None
    finally:
        db.execute(f"PRAGMA cache_size = {int(cache)}")
    return ImportReport(Path(path), bundle.origin, str(manifest["origin"].get("name", "")),
                        bundle.event_count, new, int(manifest["counts"].get("learners", 0) or 0))


def check_authority(db: sqlite_utils.Database, rows: "list[tuple]", school: str) -> None:
    """A school's new record events may create records or change its own (see the module's
    trust rule), never move a learner to another school. Called before the rows go in, so
    records the same chunk creates count as new. A learner's creator keeps the right to the
    edits it made before it learned that the hub moved the learner away (they crossed)."""
    for row in rows:
        if not row[4].startswith("record.") or eventlog.holds(db, row[1], row[2]):
            continue  # held already: accepted before, and not applied again
        target = Event.from_row(row).payload()  # a RecordSet or RecordDelete: parse_events checked it
        owner = records.owner(db, target.kind, target.id)
        if owner not in (None, school) and records.origin(db, target.kind, target.id) != school:
            raise BundleError(f"school {school} changes {target.kind} {target.id}, which belongs to {owner}; "
                              "a school may only change its own records (the hub moves learners)")
        fields = getattr(target, "fields", {})
        new_class = fields.get("class_id")
        if "school" in fields or (new_class and records.owner(db, "class", new_class) not in (None, school)):
            raise BundleError(f"school {school} moves learner {target.id} to another school; only the hub "
                              "moves learners")


def same_event(held: "tuple | None", row: tuple) -> bool:
    if held is None or held[:6] != row[:6]:
        return False
    return held[6] == row[6] or json.loads(held[6]) == json.loads(row[6])  # the same JSON, spaced otherwise


def check_held_alike(db: sqlite_utils.Database, rows: "list[tuple]") -> None:
    """Some rows were held already (an overlapping bundle): they must be the very events held,
    not other content under the same (device, seq). Runs only when something overlapped."""
    for dev, run in groupby(rows, key=itemgetter(1)):
        run = list(run)
        held = {r[2]: r for r in eventlog.rows_between(db, dev, run[0][2] - 1, run[-1][2])}
        for row in run:
            if not same_event(held.get(row[2]), row):
                raise BundleError(f"event {row[1]}:{row[2]} differs from the one this server holds under that "
                                  "id (a rewritten history); nothing was imported")

"""The hub's side of network sync, without the web: who is asking, uploads received in chunks
and imported, downloads prepared per peer, published packs. kit/server/hub.py is its HTTP face.

Checkpoints: an upload's received bytes live in <data>/tmp/sync-in/<peer>-<sha>.part (its
size is the offset to resume from); a prepared download stays in <data>/tmp/sync-out/ until
the same peer asks for something else, so a cut transfer continues where it stopped. What a
peer holds and was sent is one checkpoint whatever the transport (kit.sync.peers): a pull
updates it as a bundle on a stick does.
Published packs are the `<id>-<version>.kitpack` files in <data>/publish/.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Mapping

from ..core import eventlog
from ..core.config import fsync_dir, sha256_file
from ..core.db import transaction
from ..core.errors import SyncError, UploadError
from ..core.instance import Instance
from . import auth, peers
from .bundle import DEVICE_ID, export_bundle, import_bundle
from .usb import PACK_FILE

SHA256 = re.compile(r"[0-9a-f]{64}")
MAX_UPLOAD = 2 << 30
MAX_CHUNK = 1 << 20
KEEP_RECEIPTS_S = 30 * 86400


def admit(inst: Instance, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> "tuple[str, str]":
    """The (key id, role) of the enrolled peer that signed this request, noted as in contact;
    TrustError (unknown or bad signer) or SyncError (stale or replayed) otherwise."""
    peer, role = auth.check(inst.db, method, path, body, headers)
    peers.note_contact(inst.db, peer)
    return peer, role


# --- uploads: a peer's bundle, in chunks, then imported --------------------------------------

def check_upload_name(name: str) -> None:
    # The name becomes part of a file path: only a sha256 may.
    if not SHA256.fullmatch(name):
        raise SyncError("uploads are named by their sha256")


def upload_path(inst: Instance, peer: str, name: str) -> Path:
    check_upload_name(name)
    folder = inst.data.tmp_dir / "sync-in"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{peer}-{name}.part"


def received(inst: Instance, peer: str, name: str) -> int:
    """How many bytes of that upload are here: the offset the peer resumes from."""
    part = upload_path(inst, peer, name)
    return part.stat().st_size if part.exists() else 0


def receive_chunk(inst: Instance, peer: str, name: str, offset: int, size: int, chunk: bytes) -> int:
    """Keep a chunk of an upload of `size` bytes; returns how many bytes are here afterwards.
    A chunk starting beyond them (a gap) is not kept: the result is then below `offset`, and
    the peer resumes from it. A chunk already held changes nothing (a retried request)."""
    have = received(inst, peer, name)
    if size > MAX_UPLOAD or offset + len(chunk) > size or len(chunk) > MAX_CHUNK:
        raise SyncError("the upload is larger than announced or allowed")
    if offset > have:
        return have
    if offset + len(chunk) > have:
        write_at(upload_path(inst, peer, name), offset, chunk)
        have = offset + len(chunk)
    return have


def write_at(path: Path, offset: int, data: bytes) -> None:
    """Write a chunk where it belongs and make it durable before saying it is received."""
    with open(path, "r+b" if path.exists() else "wb") as f:
        f.seek(offset)
        f.write(data)
        f.truncate()
        f.flush()
        os.fsync(f.fileno())


def finish_upload(inst: Instance, peer: str, name: str) -> dict:
    """Verify the whole upload against its name and import it: {events, new}. Asked again
    (the answer was lost on the way back), gives the same answer without importing again.
    UploadError if the bytes are not the file named (they are dropped), BundleError if the
    bundle is refused."""
    check_upload_name(name)
    receipt = f"received:{peer}:{name}"
    row = inst.db.execute("SELECT meta FROM sync_transfers WHERE id = ?", [receipt]).fetchone()
    if row:
        return json.loads(row[0])
    part = upload_path(inst, peer, name)
    if not part.exists() or sha256_file(part) != name:
        part.unlink(missing_ok=True)
        raise UploadError("the upload is incomplete or damaged in transit; send it again")
    bundle = part.with_suffix(".kitsync")
    os.replace(part, bundle)
    try:
        report = import_bundle(inst, bundle)
    finally:
        bundle.unlink(missing_ok=True)
    result = {"events": report.events, "new": report.new}
    inst.db.execute("DELETE FROM sync_transfers WHERE direction = 'received' AND updated_at < ?",
                    [time.time() - KEEP_RECEIPTS_S])
    inst.db.execute("INSERT INTO sync_transfers (id, peer, direction, name, path, size, sha256, meta, "
                    "updated_at) VALUES (?, ?, 'received', ?, '', 0, ?, ?, ?)",
                    [receipt, peer, name, name, json.dumps(result), time.time()])
    return result


# --- downloads: what a peer lacks, prepared once, fetched in chunks ----------------------------

def is_vector(value: object) -> bool:
    """Whether a peer's claimed version vector is {device_id: seq} and nothing else."""
    return isinstance(value, dict) and all(
        isinstance(d, str) and DEVICE_ID.fullmatch(d) and type(s) is int and s >= 0 for d, s in value.items())


def answer_pull(inst: Instance, peer: str, vector: "dict[str, int]", said_at: int) -> dict:
    """A peer's pull: its signed `vector`, asked at `said_at` on its clock, is its newest word
    on what it holds (peers.note_holds), and what is prepared for it counts as sent to it, as
    a bundle written for it on a stick does. So a USB visit after a pull sends none of it
    again, and a pull that never completes is sent again once the peer's next word, a pull
    or a bundle, says it still lacks it. Returns the offer: {name, size, events}."""
    with transaction(inst.db):
        peers.note_holds(inst.db, peer, vector, said_at)
    offer = prepare_download(inst, peer, vector)
    if offer["name"] is not None:
        with transaction(inst.db):
            peers.note_export(inst.db, peer, prepared_covers(inst, peer))
    return offer


def prepare_download(inst: Instance, peer: str, since: "dict[str, int]") -> dict:
    """One prepared bundle per peer, kept while the peer asks from the same vector (a resumed
    pull gets the very same bytes): {name, size, events}, name None when nothing is lacking.
    A key introduction (the peer's sealing key was unknown: kit.sync.seal) is never kept: once
    the key is known, the same vector gets the events."""
    tid = f"serve:{peer}"
    row = inst.db.execute("SELECT name, path, size, meta FROM sync_transfers WHERE id = ?", [tid]).fetchone()
    log = eventlog.log_mark(inst.db)  # a new event here (a move, say) makes a new bundle
    if row and Path(row[1]).exists() and json.loads(row[3]).get("since") == since \
            and json.loads(row[3]).get("log") == log and not json.loads(row[3]).get("held_back"):
        return {"name": row[0], "size": row[2], "events": json.loads(row[3])["events"]}
    if row:
        Path(row[1]).unlink(missing_ok=True)
        inst.db.execute("DELETE FROM sync_transfers WHERE id = ?", [tid])
    folder = inst.data.tmp_dir / "sync-out"
    folder.mkdir(parents=True, exist_ok=True)
    report = export_bundle(inst, folder / f"{peer}-{time.time_ns()}.kitsync", since, destination=peer)
    if report.path is None:
        return {"name": None, "size": 0, "events": 0}
    name = sha256_file(report.path)
    inst.db.execute("INSERT INTO sync_transfers (id, peer, direction, name, path, size, sha256, meta, updated_at) "
                    "VALUES (?, ?, 'serve', ?, ?, ?, ?, ?, ?)",
                    [tid, peer, name, str(report.path), report.bytes, name,
                     json.dumps({"since": since, "log": log, "events": report.events, "held_back": report.held_back,
                                 "covers": {d: to for d, (_, to) in report.covers.items()}}), time.time()])
    fsync_dir(folder)
    return {"name": name, "size": report.bytes, "events": report.events}


def prepared_covers(inst: Instance, peer: str) -> "dict[str, int]":
    """Up to which seq, per device, the bundle prepared for `peer` goes."""
    row = inst.db.execute("SELECT meta FROM sync_transfers WHERE id = ?", [f"serve:{peer}"]).fetchone()
    return json.loads(row[0]).get("covers", {}) if row else {}


def prepared_bundle(inst: Instance, peer: str, name: str) -> "Path | None":
    """The file of the bundle last prepared for this peer under that name, if it still is."""
    row = inst.db.execute("SELECT path FROM sync_transfers WHERE id = ? AND name = ?",
                          [f"serve:{peer}", name]).fetchone()
    return Path(row[0]) if row and Path(row[0]).exists() else None


def read_chunk(path: Path, offset: int, length: int) -> bytes:
    """Up to `length` bytes (never more than MAX_CHUNK) of a file from `offset`."""
    with open(path, "rb") as f:
        f.seek(offset)
        return f.read(min(length, MAX_CHUNK))


# --- published packs ------------------------------------------------------------------------

def publish_dir(inst: Instance) -> Path:
    return inst.data.root / "publish"


# Hashing a large pack on every listing would be slow; a file that changes changes its key.
_pack_hashes: "dict[tuple, str]" = {}


def published_packs(inst: Instance) -> list[dict]:
    """[{file, id, version, size, sha256}] of the packs this hub hands out."""
    out = []
    folder = publish_dir(inst)
    for path in sorted(folder.glob("*.kitpack")) if folder.is_dir() else []:
        m = PACK_FILE.fullmatch(path.name)
        if not m:
            continue
        st = path.stat()
        key = (str(path), st.st_size, st.st_mtime_ns)
        if key not in _pack_hashes:
            _pack_hashes[key] = sha256_file(path)
        out.append({"file": path.name, "id": m["id"], "version": m["version"], "size": st.st_size,
                    "sha256": _pack_hashes[key]})
    return out


def published_pack(inst: Instance, file: str) -> "Path | None":
    """The published pack of that name, if there is one (a name that is not a pack file name
    never becomes a path)."""
    if not PACK_FILE.fullmatch(file):
        return None
    path = publish_dir(inst) / file
    return path if path.is_file() else None

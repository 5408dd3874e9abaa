"""A bundle sealed to its recipient: what a lost stick or a listener on the hotspot can read.

A signed bundle (kit.sync.bundle) holds learners' names, PIN hashes and histories. It leaves a
server only inside an envelope that its recipient alone can open, written to the same
`.kitsync` name:

    kitseal1        8 bytes, the magic
    <length>        4 bytes, big-endian: the header's length (at most 4 KB)
    <header>        JSON, UTF-8, in clear: all a finder of the stick may read
    <chunks>        the signed zip, encrypted

The header, for example:

    {"chunk": 1048576, "ephemeral": "<base64 X25519 public key>", "events": 5000,
     "format": "kitseal", "from_name": "Ecole de Tamda", "learners": 312,
     "to": "9c1d77e05a3b2f10", "to_box": "5be0c1d2e3f40a1b", "to_name": "District hub",
     "version": 1}

(`to` is the recipient's device id, `to_box` the id of its sealing key: the first 16 hex
digits of the key's SHA-256.) Counts and school names, nothing else: no learner's name or id.

The encryption: a fresh X25519 key pair per file; its shared secret with the recipient's
sealing key, through HKDF-SHA256 (info: the magic, then the ephemeral and the recipient's
public keys), gives a ChaCha20-Poly1305 key. The zip is cut in chunks of 1 MiB, the last one
shorter (possibly empty); chunk i is encrypted with the nonce i (11 bytes, big-endian) plus a
last-chunk flag byte, and the whole header, magic and length included, as associated data. A
byte changed anywhere, a header that shows other counts, a chunk dropped, moved or added, a
file cut short at any length: each is refused. The envelope proves nothing about the sender
(anyone may seal to a public key): the signed zip inside does, verified as before.

Receiving (`opened`): the file is opened with this server's sealing key into a scratch file
in the data dir's tmp/seal/ (a 0700 folder, deleted afterwards, size capped as bundles are;
one left by a power cut is deleted by the next import or export: see `scratch`),
where the signed zip is verified and merged exactly as an unsealed one was. Its manifest must
name this server as its destination, and agree with the header's counts (`Opened.admit`).

Keys travel signed. A server's sealing public key is in its enrolment file (`box:`), in every
bundle manifest's origin (`origin.box`, signed by its device key), and in the /sync/hello
request and answer (both signed). A peer's key is remembered only from those, the last one
replacing the one before (kit.core.keys.remember_box_key).

The upgrade, with no coordinator visiting every school to enrol again:
- a bundle always has a destination (`recipient` refuses None): one for anyone could be read
  by anyone who finds it;
- when the destination's sealing key is not known yet (it runs an older kit, or has signed
  nothing since the upgrade), the export is a key introduction: a signed bundle with no
  events (what this server holds, its names, its sealing key), not sealed since it carries no
  learner's data. The events wait for the peer's key, which comes with the first thing that
  peer signs: over HTTP the hello before any data moves; by USB the peer's next bundle, sealed
  or itself an introduction. So over HTTP nothing waits; by stick, at most one visit.
- an import takes an unsealed bundle only if it carries no events, or if its signer has never
  sent a sealing key (an older kit, during the upgrade: its bundle lies in clear on the stick
  already, and refusing it would protect nothing). From a peer that has, an unsealed bundle
  with events is refused: an old copy, or one that did not come from its kit. Upgrade the hub
  first: an upgraded school sends an older hub introductions only, until the hub is upgraded.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import shutil
import struct
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import sqlite_utils
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from ..core.errors import BundleError, SyncError
from ..core.instance import Instance
from ..core.keys import box_key_of, box_public, remember_box_key
from ..core.regularfiles import create_new, open_regular

MAGIC = b"kitseal1"
FORMAT, VERSION = "kitseal", 1
CHUNK = 1 << 20
TAG = 16                         # Poly1305's tag on each chunk
LENGTH = struct.Struct(">I")
MAX_HEADER = 4096
MAX_NAME = 100
FIELDS = {"format", "version", "to", "to_box", "ephemeral", "chunk", "from_name", "to_name", "events", "learners"}


@dataclass(frozen=True)
class Recipient:
    device_id: str
    name: str
    box: bytes                   # its sealing public key, 32 raw bytes


@dataclass(frozen=True)
class Envelope:
    """A sealed file's clear header: who it is for, and what a finder may read."""
    to: str
    to_box: str
    ephemeral: bytes
    from_name: str
    to_name: str
    events: int
    learners: int
    header: bytes                # as it lies in the file, magic and length included: the AAD

    def line(self) -> str:
        return (f"sealed for {self.to_name} ({self.to}), from {self.from_name}: {self.events} events, "
                f"{self.learners} learners")


def box_id(box: bytes) -> str:
    return hashlib.sha256(box).hexdigest()[:16]


def own_box(inst: Instance) -> str:
    """This server's sealing public key in base64, as enrolments, manifests and hellos carry it."""
    return inst.box_key().public_b64


# --- sending ------------------------------------------------------------------------------------

def recipient(inst: Instance, destination: "str | None") -> "Recipient | None":
    """Who a bundle is sealed to; None while its sealing key is not known here (see the module's
    upgrade rule). A bundle without a destination is refused here, before anything is written."""
    if destination is None:
        raise BundleError("a bundle is sealed to the one server it is for: say which (`--to PEER`, a device id or "
                          "name); a bundle for anyone could be read by anyone who finds the stick")
    if destination == inst.device_id:
        return Recipient(destination, inst.key().name or destination, inst.box_key().public_raw)
    box = box_key_of(inst.db, destination)
    if box is None:
        return None
    row = inst.db.execute("SELECT name FROM sync_peers WHERE device_id = ? UNION ALL "
                          "SELECT name FROM trusted_keys WHERE key_id = ?", [destination, destination]).fetchone()
    return Recipient(destination, row[0] if row else destination, box)


def write(inst: Instance, out: BinaryIO, to: "Recipient | None", events: int,
          write_plain: Callable[[BinaryIO], int]) -> int:
    """Write what `write_plain` writes (a signed zip; it returns how many learners it holds)
    to `out`, sealed to `to`. With `to` None, a key introduction: written as it is, and it must
    hold no events. Returns the learners. The zip waits in a scratch file in tmp/ meanwhile
    (the header, written first, shows counts known only at the end)."""
    if to is None:
        if events:
            raise BundleError("a bundle with events is only ever written sealed")
        return write_plain(out)
    with scratch(inst) as folder:
        plain = folder / "bundle.zip"
        with create_new(plain) as f:
            learners = write_plain(f)
        envelope_bytes, key = new_envelope(inst, to, events, learners)
        out.write(envelope_bytes)
        with open(plain, "rb") as f:
            encrypt(f, out, ChaCha20Poly1305(key), envelope_bytes)
    return learners


def new_envelope(inst: Instance, to: Recipient, events: int, learners: int) -> "tuple[bytes, bytes]":
    """The header's bytes and the chunk key, from a fresh ephemeral key pair."""
    ephemeral = X25519PrivateKey.generate()
    ephemeral_raw = ephemeral.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    header = {"format": FORMAT, "version": VERSION, "to": to.device_id, "to_box": box_id(to.box),
              "ephemeral": base64.b64encode(ephemeral_raw).decode(), "chunk": CHUNK,
              "from_name": (inst.key().name or inst.device_id)[:MAX_NAME], "to_name": to.name[:MAX_NAME],
              "events": events, "learners": learners}
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(to.box))
    return MAGIC + LENGTH.pack(len(text)) + text, derive(shared, ephemeral_raw, to.box)


def derive(shared: bytes, ephemeral: bytes, recipient_box: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt=None, info=MAGIC + ephemeral + recipient_box).derive(shared)


def nonce(counter: int, last: bool) -> bytes:
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def encrypt(src: BinaryIO, out: BinaryIO, aead: ChaCha20Poly1305, header: bytes) -> None:
    """Full chunks, then one shorter (possibly empty) marked last: a cut file never ends well."""
    counter = 0
    while True:
        block = src.read(CHUNK)
        last = len(block) < CHUNK
        out.write(aead.encrypt(nonce(counter, last), block, header))
        if last:
            return
        counter += 1


# --- receiving ----------------------------------------------------------------------------------

def sealed_cap(cap: int) -> int:
    """The largest sealed file whose zip may be `cap` bytes."""
    return len(MAGIC) + LENGTH.size + MAX_HEADER + cap + TAG * (cap // CHUNK + 1)


def read_envelope(f: BinaryIO) -> "Envelope | None":
    """The header of a sealed file (its position left just after it), or None if the file is
    not sealed (left at its start). BundleError if the header is not one this kit wrote."""
    if f.read(len(MAGIC)) != MAGIC:
        f.seek(0)
        return None
    raw_length = f.read(LENGTH.size)
    length = LENGTH.unpack(raw_length)[0] if len(raw_length) == LENGTH.size else 0
    if not 0 < length <= MAX_HEADER:
        raise BundleError("its sealed envelope's header is damaged")
    text = f.read(length)
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise BundleError("its sealed envelope's header is damaged") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BundleError("its sealed envelope's header is damaged")
    if header.get("version") != VERSION:
        raise BundleError(f"it is sealed in format version {header.get('version')!r}, unknown to this kit (which "
                          f"reads version {VERSION}); update the kit on this server")
    ephemeral = box_public(header.get("ephemeral"))
    counts_ok = all(type(header.get(n)) is int and header[n] >= 0 for n in ("events", "learners"))
    names_ok = all(isinstance(header.get(n), str) and len(header[n]) <= MAX_NAME for n in ("from_name", "to_name"))
    ids_ok = all(isinstance(header.get(n), str) and len(header[n]) == 16
                 and all(c in "0123456789abcdef" for c in header[n]) for n in ("to", "to_box"))
    if set(header) != FIELDS or ephemeral is None or header["chunk"] != CHUNK or not (counts_ok and names_ok and ids_ok):
        raise BundleError("its sealed envelope's header is damaged")
    return Envelope(header["to"], header["to_box"], ephemeral, header["from_name"], header["to_name"],
                    header["events"], header["learners"], MAGIC + raw_length + text)


def envelope_of(path: "str | Path", cap: int) -> "Envelope | None":
    """The clear header of the sealed file at `path` (None if not sealed), read without any key:
    what `kit sync inspect` shows, and how a USB visit sorts the stick's files."""
    with open_regular(path, sealed_cap(cap), BundleError) as f:
        return read_envelope(f)


@dataclass(frozen=True)
class Opened:
    """A bundle file made ready to verify: `path` is the signed zip (a scratch copy opened with
    this server's key, or the file itself if it was not sealed)."""
    path: Path
    envelope: "Envelope | None"

    def admit(self, db: sqlite_utils.Database, signer: str, signer_role: str, destination: object,
              events: int, learners: object, sender_box: object) -> None:
        """Whether the verified zip inside may be merged: it names a destination (this server:
        the manifest check saw to that), agrees with its envelope, and, if not sealed, is allowed
        so by the upgrade rule. BundleError otherwise."""
        if destination is None:
            raise BundleError("it names no destination (a bundle for anyone); ask its sender to export it again "
                              "for this server with `--to`")
        if sender_box is not None and box_public(sender_box) is None:
            raise BundleError("the sealing key its manifest names is damaged")
        if self.envelope is not None:
            if destination != self.envelope.to or (events, learners) != (self.envelope.events, self.envelope.learners):
                raise BundleError("its envelope shows other counts or another recipient than the signed manifest "
                                  "inside (tampered)")
        elif events and (signer_role == "self" or sender_box is not None or box_key_of(db, signer) is not None):
            raise BundleError("it is not sealed, though its sender seals what it sends since its upgrade: an old "
                              "copy, or not written by its kit; ask for a new bundle")

    def remember_sender(self, db: sqlite_utils.Database, signer: str, signer_role: str, sender_box: object) -> None:
        """Keep the sealing key the signer put in its signed manifest (after its events went in)."""
        box = box_public(sender_box)
        if box is not None and signer_role in ("school", "hub"):
            remember_box_key(db, signer, box)


@contextmanager
def opened(inst: Instance, path: "str | Path", cap: int) -> Iterator[Opened]:
    """The bundle at `path`, opened for verifying (see Opened); the scratch copy is deleted
    when the block ends. BundleError, naming the file, if it is sealed to another server or
    another key, or if any byte of it was changed or cut."""
    path = Path(path)
    with open_regular(path, sealed_cap(cap), BundleError) as f:
        try:
            envelope = read_envelope(f)
        except BundleError as e:
            raise BundleError(f"{path.name}: {e}") from None
        if envelope is None:
            f.close()
            yield Opened(path, None)
            return
        key = opening_key(inst, envelope, path.name)
        with scratch(inst) as folder:
            inner = folder / (path.name if path.name not in ("", ".", "..") else "bundle.kitsync")
            with create_new(inner) as out:
                decrypt(f, out, ChaCha20Poly1305(key), envelope.header, cap, path.name)
            f.close()
            yield Opened(inner, envelope)


def opening_key(inst: Instance, envelope: Envelope, name: str) -> bytes:
    own = inst.box_key()
    if envelope.to != inst.device_id:
        raise BundleError(f"{name}: it is sealed for {envelope.to_name} ({envelope.to}), not for this server "
                          f"({inst.device_id}); take it to that server")
    if envelope.to_box != box_id(own.public_raw):
        raise BundleError(f"{name}: it is sealed to another sealing key of this server (one it had before?); "
                          "ask its sender for a new bundle")
    try:
        shared = own.private.exchange(X25519PublicKey.from_public_bytes(envelope.ephemeral))
    except ValueError:
        raise BundleError(f"{name}: its sealed envelope's header is damaged") from None
    return derive(shared, envelope.ephemeral, own.public_raw)


def decrypt(f: BinaryIO, out: BinaryIO, aead: ChaCha20Poly1305, header: bytes, cap: int, name: str) -> None:
    """Chunk by chunk into `out`; the first short chunk must be the last one written."""
    counter = written = 0
    while True:
        block = f.read(CHUNK + TAG)
        last = len(block) < CHUNK + TAG
        try:
            plain = aead.decrypt(nonce(counter, last), block, header)
        except InvalidTag:
            raise BundleError(f"{name}: it does not open with this server's sealing key: changed, damaged or cut "
                              "short on the way; copy it again") from None
        written += len(plain)
        if written > cap:
            raise BundleError(f"{name}: it holds more than a bundle may ({cap:,} bytes)")
        out.write(plain)
        if last:
            return
        counter += 1


@contextmanager
def scratch(inst: Instance) -> Iterator[Path]:
    """A private folder in the data dir's tmp/seal/ (same file system, owner only), removed after.

    A power cut (or a kill) during an import leaves its folder behind, learners' data in clear:
    each scratch folder lives under a shared lock on tmp/seal.lock, so whoever takes that lock
    exclusively knows every folder there is such a leftover, and removes them all first. A
    concurrent import or export (the web server's, the CLI's: any process or thread) holds the
    shared lock and keeps its folder; the sweep then waits for the next quiet moment."""
    parent = inst.data.tmp_dir / "seal"
    parent.mkdir(parents=True, exist_ok=True)
    with open(inst.data.tmp_dir / "seal.lock", "a") as lock:
        if try_lock(lock, fcntl.LOCK_EX):
            sweep(parent)
        fcntl.flock(lock, fcntl.LOCK_SH)  # from exclusive: no folder of ours exists yet to lose
        folder = Path(tempfile.mkdtemp(dir=parent))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def try_lock(f, kind: int) -> bool:
    try:
        fcntl.flock(f, kind | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def sweep(parent: Path) -> None:
    """Remove what lies in tmp/seal/: called only under the exclusive lock, when nothing there
    belongs to a running import."""
    for leftover in parent.iterdir():
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


# --- over HTTP ----------------------------------------------------------------------------------

def learn(db: sqlite_utils.Database, peer: str, value: object) -> None:
    """Keep the sealing key a signed hello (request or answer) carried; an older kit sends none."""
    if value is None:
        return
    box = box_public(value)
    if box is None:
        raise SyncError("the sealing key ('box') in the hello is damaged; are both sides the same kit version?")
    remember_box_key(db, peer, box)


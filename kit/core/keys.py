"""Keys: this server's Ed25519 device key and X25519 sealing key, publisher keys, and the keys
it trusts.

A public key travels as one line of text, `kit-ed25519 <base64 raw key> <name>`, so it fits
in a file on a USB stick or in a QR code. Its id is the first 16 hex digits of the SHA-256 of
the raw key. Private keys are PKCS#8 PEM files readable by their owner only.

The sealing key (`keys/box.key`) is what bundles for this server are encrypted to
(kit.sync.seal). Its public half, 32 bytes in base64, travels only inside something the
device key signed or the enrolment vouches for; a peer's is remembered per trusted key id
(`box_keys`), the last one it signed replacing the one before.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import sqlite_utils
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey

from .config import DataDir, write_private, write_atomic
from .errors import TrustError

PUBLIC_PREFIX = "kit-ed25519"
ROLES = ("publisher", "school", "hub")


@dataclass(frozen=True)
class PublicKey:
    raw: bytes
    name: str = ""

    @property
    def key_id(self) -> str:
        return hashlib.sha256(self.raw).hexdigest()[:16]

    @property
    def b64(self) -> str:
        return base64.b64encode(self.raw).decode()

    def line(self) -> str:
        return f"{PUBLIC_PREFIX} {self.b64} {self.name}".rstrip() + "\n"

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(signature, data)
            return True
        except (InvalidSignature, ValueError):
            return False

    @classmethod
    def parse(cls, text: str, source: str = "key") -> "PublicKey":
        """The key on the first line of `text` (what `kit keys show` prints first; the lines
        after it, the id and the sealing key, are not part of the key's name)."""
        lines = text.strip().splitlines()
        parts = lines[0].split(None, 2) if lines else []
        if len(parts) < 2 or parts[0] != PUBLIC_PREFIX:
            raise TrustError(f"{source}: not a kit public key (expected a line "
                             f"'{PUBLIC_PREFIX} <base64> <name>'; see `kit keys show`)")
        try:
            raw = base64.b64decode(parts[1], validate=True)
        except ValueError:
            raw = b""
        if len(raw) != 32:
            raise TrustError(f"{source}: the public key is damaged (not 32 bytes of base64)")
        return cls(raw, parts[2] if len(parts) > 2 else "")


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    name: str = ""

    @property
    def public(self) -> PublicKey:
        raw = self.private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        return PublicKey(raw, self.name)

    @property
    def key_id(self) -> str:
        return self.public.key_id

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)

    @classmethod
    def generate(cls, name: str = "") -> "SigningKey":
        return cls(Ed25519PrivateKey.generate(), name)

    def save(self, path: Path) -> None:
        """Write the private key (0600) and `<path>.pub` beside it."""
        pem = self.private.private_bytes(serialization.Encoding.PEM,
                                         serialization.PrivateFormat.PKCS8,
                                         serialization.NoEncryption())
        path.parent.mkdir(parents=True, exist_ok=True)
        name_line = f"# kit key: {self.name}\n".encode() if self.name else b""
        write_private(path, name_line + pem)
        write_atomic(public_path(path), self.public.line().encode())

    @classmethod
    def load(cls, path: Path) -> "SigningKey":
        try:
            data = Path(path).read_bytes()
        except OSError as e:
            raise TrustError(f"{path}: cannot read the private key ({e.strerror}); "
                             "make one with `kit keys new FILE`") from None
        name = ""
        m = re.match(rb"# kit key: (.*)\n", data)
        if m:
            name = m.group(1).decode("utf-8", "replace")
        try:
            key = serialization.load_pem_private_key(data[m.end() if m else 0:], password=None)
        except ValueError:
            raise TrustError(f"{path}: not a PEM private key") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise TrustError(f"{path}: not an Ed25519 key")
        return cls(key, name)


def public_path(private_path: Path) -> Path:
    return private_path.with_name(private_path.name + ".pub")


def device_key_path(data: DataDir) -> Path:
    return data.keys_dir / "device.key"


def ensure_device_key(data: DataDir, name: str = "") -> SigningKey:
    """This server's key, made at `kit init` and never replaced (its id names the device)."""
    path = device_key_path(data)
    if path.exists():
        return SigningKey.load(path)
    key = SigningKey.generate(name or "kit server")
    key.save(path)
    return key


def device_key(data: DataDir) -> SigningKey:
    path = device_key_path(data)
    if not path.exists():
        raise TrustError(f"{data.root}: no device key; run `kit init --data {data.root}` first")
    return SigningKey.load(path)


def now_iso() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def trust(db: sqlite_utils.Database, key: PublicKey, role: str = "publisher") -> bool:
    """Trust a public key for a role. Returns False if it was already trusted (no change).

    A key has one role here. Trusting it again for another one is refused, never done by
    replacing the first: enrolling a publisher's key as a school (anyone with an enrolment
    code can send any public key) must not quietly stop this server from installing its packs,
    and a school's key must not become a hub's. Sign packs with a key of their own."""
    if role not in ROLES:
        raise TrustError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    row = db.execute("SELECT role, name FROM trusted_keys WHERE key_id = ?", [key.key_id]).fetchone()
    if row and row[0] == role:
        return False
    if row:
        raise TrustError(f"key {key.key_id} ({row[1]}) is already trusted here as a {row[0]}; a key has one "
                         f"role, so it cannot also be a {role} (a publisher signs with a key of its own: "
                         "`kit keys new`)")
    db["trusted_keys"].insert({"key_id": key.key_id, "public_key": key.b64, "name": key.name or key.key_id,
                               "role": role, "added_at": now_iso()})
    return True


def trusted_key(db: sqlite_utils.Database, key_id: str, roles: "tuple[str, ...]" = ROLES) -> "PublicKey | None":
    row = db.execute("SELECT public_key, name, role FROM trusted_keys WHERE key_id = ?",
                     [key_id]).fetchone()
    if not row or row[2] not in roles:
        return None
    return PublicKey(base64.b64decode(row[0]), row[1])


def trusted_keys(db: sqlite_utils.Database) -> list[dict]:
    return list(db.query("SELECT key_id, name, role, added_at FROM trusted_keys ORDER BY added_at, key_id"))


# --- the sealing key (X25519) -------------------------------------------------------------------

@dataclass(frozen=True)
class BoxKey:
    """This server's X25519 key pair: bundles sealed to its public half open only here."""
    private: X25519PrivateKey

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_b64(self) -> str:
        return base64.b64encode(self.public_raw).decode()

    @classmethod
    def load(cls, path: Path) -> "BoxKey":
        try:
            key = serialization.load_pem_private_key(Path(path).read_bytes(), password=None)
        except OSError as e:
            raise TrustError(f"{path}: cannot read the sealing key ({e.strerror})") from None
        except ValueError:
            raise TrustError(f"{path}: not a PEM private key; move it away and a new one is made") from None
        if not isinstance(key, X25519PrivateKey):
            raise TrustError(f"{path}: not an X25519 key; move it away and a new one is made")
        return cls(key)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_private(path, self.private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                       serialization.NoEncryption()))


def box_key_path(data: DataDir) -> Path:
    return data.keys_dir / "box.key"


def ensure_box_key(data: DataDir) -> BoxKey:
    """This server's sealing key: made at `kit init`, or at first need in a data dir made by an
    older kit (its public half then reaches the peers in the next signed exchange)."""
    path = box_key_path(data)
    if path.exists():
        return BoxKey.load(path)
    key = BoxKey(X25519PrivateKey.generate())
    key.save(path)
    return key


def box_public(text: object) -> "bytes | None":
    """The 32 raw bytes of a sealing public key given in base64, or None if it is not one."""
    if not isinstance(text, str) or len(text) > 64:
        return None
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    return raw if len(raw) == 32 else None


def remember_box_key(db: sqlite_utils.Database, key_id: str, public: bytes) -> bool:
    """Keep the sealing key a trusted peer signed (or its enrolment carried). Returns whether
    anything changed: the same key again writes nothing, so a replayed bundle changes no byte."""
    row = db.execute("SELECT box_public FROM box_keys WHERE key_id = ?", [key_id]).fetchone()
    b64 = base64.b64encode(public).decode()
    if row and row[0] == b64:
        return False
    db.execute("INSERT INTO box_keys (key_id, box_public, learned_at) VALUES (?, ?, ?) ON CONFLICT(key_id) "
               "DO UPDATE SET box_public = excluded.box_public, learned_at = excluded.learned_at",
               [key_id, b64, now_iso()])
    return True


def box_key_of(db: sqlite_utils.Database, key_id: str) -> "bytes | None":
    """The sealing key the peer with that key id last signed, if it ever did (an older kit never)."""
    row = db.execute("SELECT box_public FROM box_keys WHERE key_id = ?", [key_id]).fetchone()
    return base64.b64decode(row[0]) if row else None

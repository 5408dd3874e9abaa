"""Enrolment: a school and a hub learn each other's public keys, once.

Two ways. By file (USB stick): each side writes an enrolment file and trusts the other's:

    kit-enrolment 1
    role: school
    name: Ecole de Tamda
    device: 3f2a9c0e1b4d5a6f
    key: kit-ed25519 q3J0…= Ecole de Tamda
    box: 5kQd…=

`box` is the server's sealing key (X25519, base64): bundles for it are encrypted to it
(kit.sync.seal). A file written by an older kit has none; it is then learned from the first
bundle or hub answer that server signs.

By one-time code (network): the hub shows a code (`kit sync enrol --code`), valid one day and
once; the school sends its enrolment to the hub's /sync/enrol with an HMAC made with the code,
and the hub answers with its own enrolment, also MACed with the code. The code itself never
crosses the wire, and each side knows the other's key came from whoever holds the code.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass

import sqlite_utils

from ..core.db import transaction
from ..core.errors import TrustError
from ..core.instance import Instance
from ..core.keys import PublicKey, box_public, remember_box_key, trust
from . import peers

HEADER = "kit-enrolment 1"
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or from a screen
CODE_LENGTH = 10
CODE_HOURS = 24


@dataclass(frozen=True)
class Enrolment:
    role: str
    name: str
    key: PublicKey
    box: "bytes | None" = None   # the sealing key's 32 raw bytes; None from an older kit

    @property
    def device_id(self) -> str:
        return self.key.key_id

    def text(self) -> str:
        box = f"box: {base64.b64encode(self.box).decode()}\n" if self.box else ""
        return (f"{HEADER}\nrole: {self.role}\nname: {self.name}\ndevice: {self.device_id}\n"
                f"key: {self.key.line()}{box}")


def own_enrolment(inst: Instance) -> Enrolment:
    key = inst.key().public
    return Enrolment(peers.own_role(inst.db), key.name or inst.device_id, key, inst.box_key().public_raw)


def parse_enrolment(text: str, source: str = "enrolment") -> Enrolment:
    lines = text.strip().splitlines()
    if not lines or lines[0].strip() != HEADER:
        raise TrustError(f"{source}: not a kit enrolment file (make one with `kit sync enrol --export FILE`)")
    fields = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            fields[name.strip()] = value.strip()
    if fields.get("role") not in peers.ROLES or "key" not in fields:
        raise TrustError(f"{source}: the enrolment names no role (school or hub) or no key")
    key = PublicKey.parse(fields["key"], source)
    if fields.get("device") != key.key_id:
        raise TrustError(f"{source}: the device id does not match the key (damaged file?)")
    box = box_public(fields["box"]) if "box" in fields else None
    if "box" in fields and box is None:
        raise TrustError(f"{source}: the sealing key (box:) is damaged (not 32 bytes of base64)")
    return Enrolment(fields["role"], fields.get("name", "")[:100] or key.key_id, key, box)


def accept(db: sqlite_utils.Database, enrolment: Enrolment, as_role: str) -> bool:
    """Trust the other side for `as_role`, which must be what it says it is. Returns False if
    it was enrolled already."""
    if enrolment.role != as_role:
        raise TrustError(f"{enrolment.name} says it is a {enrolment.role}, not a {as_role}; "
                         f"check the file, or use --as {enrolment.role}")
    with transaction(db):
        added = trust(db, PublicKey(enrolment.key.raw, enrolment.name), as_role)
        peers.remember_peer(db, enrolment.device_id, enrolment.name, as_role)
        if enrolment.box:
            remember_box_key(db, enrolment.device_id, enrolment.box)
    return added


# --- one-time codes ---------------------------------------------------------------------------

def code_key(code: str) -> bytes:
    return hashlib.sha256(("kit-enrol:" + code.replace("-", "").upper()).encode()).digest()


def new_code(db: sqlite_utils.Database, role: str = "school", hours: float = CODE_HOURS) -> str:
    """A one-time code to show on the hub, like 'K7QM-2XPD-RT'. Only its hash is kept."""
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    db.execute("INSERT INTO sync_enrol_codes (key, role, expires_at) VALUES (?, ?, ?)",
               [code_key(raw).hex(), role, time.time() + hours * 3600])
    return "-".join(raw[i:i + 4] for i in range(0, CODE_LENGTH, 4))


def mac(key: bytes, text: str) -> str:
    return base64.b64encode(hmac.new(key, text.encode(), hashlib.sha256).digest()).decode()


def redeem(db: sqlite_utils.Database, text: str, text_mac: str) -> "tuple[Enrolment, bytes]":
    """On the hub: find the unused, unexpired code whose HMAC matches, spend it, and trust the
    sender with the code's role. Returns the enrolment and the code key (to MAC the answer)."""
    enrolment = parse_enrolment(text, "the enrolment request")
    for key_hex, role in db.execute("SELECT key, role FROM sync_enrol_codes WHERE used_by IS NULL "
                                    "AND expires_at > ?", [time.time()]).fetchall():
        key = bytes.fromhex(key_hex)
        if hmac.compare_digest(mac(key, text), text_mac):
            with transaction(db):  # a refused enrolment (e.g. a key trusted for another role) spends no code
                accept(db, enrolment, role)
                db.execute("UPDATE sync_enrol_codes SET used_by = ? WHERE key = ?", [enrolment.device_id, key_hex])
            return enrolment, key
    raise TrustError("the code is wrong, used or expired; ask the hub for a new one (`kit sync enrol --code`)")


def enrol_by_code(inst: Instance, text: str, text_mac: str) -> "tuple[str, str]":
    """On the hub: redeem a school's enrolment sent with a one-time code, and answer with this
    server's own enrolment and its MAC under the same code: (enrolment text, mac)."""
    _, key = redeem(inst.db, text, text_mac)
    mine = own_enrolment(inst).text()
    return mine, mac(key, mine)

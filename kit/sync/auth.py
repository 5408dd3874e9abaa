"""Signed requests between kit servers: who is asking, and that it is not a replay.

Every sync request carries four headers: the sender's key id, a unix time, a random nonce, and
an Ed25519 signature over

    <METHOD>\\n<path with query>\\n<sha256 of the body, hex>\\n<time>\\n<nonce>

The receiver accepts it only from a key it enrolled (school or hub), within MAX_SKEW seconds
of its own clock, with a nonce it has not seen from that key (nonces are kept twice as long
as the skew window, so a captured request cannot be played again).

Every answer is signed too, by the answering server's device key (headers X-Kit-Key and
X-Kit-Signature), over

    kit-answer\n<METHOD>\n<path with query>\n<time>\n<nonce>\n<status>\n<sha256 of the body, hex>

where time and nonce are the request's: an answer fits the one request it was made for. The
link is plain HTTP on a school's hotspot, so a school uses nothing a hub sends (not a
version vector, not a file name, not a byte of a bundle) before that signature checks out
against the hub key it enrolled: a machine that merely answers at the hub's address learns
nothing and plants nothing.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from typing import Mapping

import sqlite_utils

from ..core.errors import SyncError, TrustError
from ..core.keys import SigningKey, trusted_key
from . import peers

KEY, TIME, NONCE, SIGNATURE = "X-Kit-Key", "X-Kit-Time", "X-Kit-Nonce", "X-Kit-Signature"
MAX_SKEW = 300


def signed_text(method: str, path: str, body: bytes, stamp: str, nonce: str) -> bytes:
    return f"{method.upper()}\n{path}\n{hashlib.sha256(body).hexdigest()}\n{stamp}\n{nonce}".encode()


def sign(key: SigningKey, method: str, path: str, body: bytes = b"") -> dict:
    stamp, nonce = str(int(time.time())), secrets.token_hex(16)
    signature = key.sign(signed_text(method, path, body, stamp, nonce))
    return {KEY: key.key_id, TIME: stamp, NONCE: nonce, SIGNATURE: base64.b64encode(signature).decode()}


def answer_text(method: str, path: str, stamp: str, nonce: str, status: int, body: bytes) -> bytes:
    return f"kit-answer\n{method.upper()}\n{path}\n{stamp}\n{nonce}\n{status}\n{hashlib.sha256(body).hexdigest()}".encode()


def sign_answer(key: SigningKey, method: str, path: str, request_headers: Mapping[str, str], status: int,
                body: bytes) -> dict:
    """The headers that sign an answer to the request made with `request_headers`."""
    text = answer_text(method, path, request_headers.get(TIME, ""), request_headers.get(NONCE, ""), status, body)
    return {KEY: key.key_id, SIGNATURE: base64.b64encode(key.sign(text)).decode()}


def answer_signer(headers: Mapping[str, str]) -> "tuple[str, bytes] | None":
    """The (key id, signature) an answer claims, or None if it carries none that parses."""
    key_id, signature = headers.get(KEY) or "", headers.get(SIGNATURE) or ""
    try:
        raw = base64.b64decode(signature, validate=True)
    except ValueError:
        return None
    return (key_id, raw) if key_id and len(raw) == 64 else None


def check(db: sqlite_utils.Database, method: str, path: str, body: bytes, headers: Mapping[str, str]) -> "tuple[str, str]":
    """The (key id, role) of an enrolled sender, or TrustError (an unknown or bad signer) /
    SyncError (a stale or replayed request)."""
    key_id, stamp, nonce, signature = (headers.get(h, "") for h in (KEY, TIME, NONCE, SIGNATURE))
    key = trusted_key(db, key_id, roles=peers.ROLES) if key_id else None
    if key is None:
        raise TrustError(f"device {key_id or '?'} is not enrolled here; enrol it first (`kit sync enrol`)")
    try:
        raw = base64.b64decode(signature, validate=True)
        skew = abs(time.time() - int(stamp))
    except ValueError:
        raise TrustError("the request's signature headers are malformed") from None
    if not (16 <= len(nonce) <= 64) or not key.verify(raw, signed_text(method, path, body, stamp, nonce)):
        raise TrustError("the request's signature does not match its key")
    if skew > MAX_SKEW:
        raise SyncError(f"the request's clock is {int(skew)} s away from this server's; set the clocks right")
    peers.prune_nonces(db, 2 * MAX_SKEW)
    if db.execute("INSERT OR IGNORE INTO sync_nonces (key_id, nonce, at) VALUES (?, ?, ?)",
                  [key_id, nonce, time.time()]).rowcount == 0:
        raise SyncError("this request was seen before (a replay)")
    role = db.execute("SELECT role FROM trusted_keys WHERE key_id = ?", [key_id]).fetchone()[0]
    return key_id, role

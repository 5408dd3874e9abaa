"""One kit server's state, opened: its data dir, database, device key and sealing key."""

from __future__ import annotations

import time
from dataclasses import dataclass

import sqlite_utils

from .config import DataDir
from .db import get_meta, open_db, set_meta, transaction
from .errors import ConfigError
from .keys import (BoxKey, SigningKey, box_key_path, device_key, device_key_path, ensure_box_key, ensure_device_key,
                   public_path, trust)


@dataclass
class Instance:
    data: DataDir
    db: sqlite_utils.Database

    @property
    def device_id(self) -> str:
        return get_meta(self.db, "device_id") or ""

    def key(self) -> SigningKey:
        return device_key(self.data)

    def box_key(self) -> BoxKey:
        """The sealing key bundles for this server are encrypted to (made here on first need
        in a data dir an older kit made)."""
        return ensure_box_key(self.data)

    def close(self) -> None:
        self.db.conn.close()


def init_instance(data: DataDir, name: str = "") -> "tuple[Instance, bool]":
    """Make (or reuse) a data dir: folders, device key, database. Safe to run twice.
    Returns the instance and whether anything was created."""
    created = not data.exists()
    data.make_dirs()
    if created:
        retire_device_key(data)
    key = ensure_device_key(data, name)
    ensure_box_key(data)
    db = open_db(data.db_path)
    with transaction(db):
        if not get_meta(db, "device_id"):
            set_meta(db, "device_id", key.key_id)
            set_meta(db, "device_name", key.name)
            # A server trusts packs it signs itself (authors build and install locally).
            trust(db, key.public, "publisher")
    data.secret()
    return Instance(data, db), created


def retire_device_key(data: DataDir) -> None:
    """A new database is a new device. Its event numbers start again at 1, so reusing the old
    key would give new events the names of old ones the hub already holds (and they would be
    dropped there). The old key is kept beside, renamed, in case it is needed (and the old
    sealing key with it: bundles sealed to the old device open with it)."""
    path = device_key_path(data)
    if path.exists():
        stamp = time.strftime("%Y%m%d-%H%M%S")
        for old in (path, public_path(path), box_key_path(data)):
            if old.exists():
                old.rename(old.with_name(f"{old.name}.retired-{stamp}"))


def open_instance(data: DataDir) -> Instance:
    if not data.exists():
        raise ConfigError(f"{data.root} is not a kit data dir; run `kit init --data {data.root}` first")
    return Instance(data, open_db(data.db_path))

"""One kit server's state, opened: its data dir, database and device key."""

from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils

from .config import DataDir
from .db import get_meta, open_db, set_meta, transaction
from .errors import ConfigError
from .keys import SigningKey, device_key, ensure_device_key, trust


@dataclass
class Instance:
    data: DataDir
    db: sqlite_utils.Database

    @property
    def device_id(self) -> str:
        return get_meta(self.db, "device_id") or ""

    def key(self) -> SigningKey:
        return device_key(self.data)

    def close(self) -> None:
        self.db.conn.close()


def init_instance(data: DataDir, name: str = "") -> "tuple[Instance, bool]":
    """Make (or reuse) a data dir: folders, device key, database. Safe to run twice.
    Returns the instance and whether anything was created."""
    created = not data.exists()
    data.make_dirs()
    key = ensure_device_key(data, name)
    db = open_db(data.db_path)
    with transaction(db):
        if not get_meta(db, "device_id"):
            set_meta(db, "device_id", key.key_id)
            set_meta(db, "device_name", key.name)
            # A server trusts packs it signs itself (authors build and install locally).
            trust(db, key.public, "publisher")
    data.secret()
    return Instance(data, db), created


def open_instance(data: DataDir) -> Instance:
    if not data.exists():
        raise ConfigError(f"{data.root} is not a kit data dir; run `kit init --data {data.root}` first")
    return Instance(data, open_db(data.db_path))

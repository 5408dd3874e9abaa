"""The app's hold on a data dir: one SQLite connection per server thread.

Waitress serves with a fixed pool of threads; each opens its connection on first use and
keeps it (WAL lets them read while one writes). The app factory hands the data dir to
`init_app`; views get the connection with `get_db()` and the data dir with `get_store()`.
"""

from __future__ import annotations

import threading

import sqlite_utils
from flask import Flask, current_app

from ..core.config import DataDir
from ..core.db import open_db


# SQLite's page cache is per connection, 2 MB by default: with a connection per thread that
# was the server's largest memory growth under a classroom's load (8 × 2 MB). The OS caches
# the file once for all threads, so a small cache each costs no speed (measured).
PAGE_CACHE_KIB = 512


class Store:
    def __init__(self, data: DataDir):
        self.data = data
        self._local = threading.local()
        self._lock = threading.Lock()
        self._open: list[sqlite_utils.Database] = []

    def db(self) -> sqlite_utils.Database:
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = open_db(self.data.db_path, migrate=False)
            db.execute(f"PRAGMA cache_size = -{PAGE_CACHE_KIB}")
            with self._lock:
                self._open.append(db)
        return db

    def close(self) -> None:
        """Close every thread's connection (tests, and a clean shutdown)."""
        with self._lock:
            for db in self._open:
                db.conn.close()
            self._open.clear()
        self._local = threading.local()


def init_app(app: Flask, data: DataDir) -> Store:
    """Give `app` its hold on `data`; the one place that puts it where `get_store` finds it."""
    store = app.extensions["kit"] = Store(data)
    return store


def get_store() -> Store:
    return current_app.extensions["kit"]


def get_db() -> sqlite_utils.Database:
    return get_store().db()

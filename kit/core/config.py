"""Where a kit keeps its state: one data dir, chosen by --data, KIT_DATA or ./data.

Layout of a data dir:
    kit.db            SQLite (WAL): packs, lessons, quizzes, events, records
    keys/device.key   this server's Ed25519 private key (0600); device.pub beside it
    keys/box.key      its X25519 sealing key (0600): bundles for this server open with it
    index/            the whoosh search index
    media/<pack>/     pack media, named by content hash
    secret            random key for session cookies and CSRF tokens (0600)
    install.lock      taken while a pack is installed or removed
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DATA = "data"


@dataclass(frozen=True)
class DataDir:
    root: Path

    @classmethod
    def resolve(cls, data: "str | os.PathLike | None" = None) -> "DataDir":
        chosen = data or os.environ.get("KIT_DATA") or DEFAULT_DATA
        return cls(Path(chosen).expanduser().resolve())

    @property
    def db_path(self) -> Path:
        return self.root / "kit.db"

    @property
    def keys_dir(self) -> Path:
        return self.root / "keys"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    @property
    def media_dir(self) -> Path:
        return self.root / "media"

    @property
    def secret_path(self) -> Path:
        return self.root / "secret"

    @property
    def tmp_dir(self) -> Path:
        """Scratch space on the same file system, so renames out of it are atomic."""
        return self.root / "tmp"

    def exists(self) -> bool:
        return self.db_path.exists()

    @property
    def install_lock_path(self) -> Path:
        """Held while a pack is installed or removed (see kit.content.install)."""
        return self.root / "install.lock"

    def make_dirs(self) -> None:
        for d in (self.root, self.keys_dir, self.index_dir, self.media_dir, self.tmp_dir):
            d.mkdir(parents=True, exist_ok=True)
        self.install_lock_path.touch()

    def secret(self) -> bytes:
        """The server's cookie/CSRF secret, made once and kept."""
        if not self.secret_path.exists():
            write_private(self.secret_path, secrets.token_bytes(32))
        return self.secret_path.read_bytes()


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable by its owner only, atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_atomic(path: Path, data: bytes) -> None:
    """Write to a temp name, fsync, rename: a power cut leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read a megabyte at a time."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()

"""Install, upgrade and remove content packs: verify everything, then one transaction.

Order of work, so that a power cut or a kill at any moment leaves the last complete state:
1. read_pack verifies signature, names, sizes and hashes (nothing written yet);
2. media files go to media/<pack>/<sha256><ext> via temp names: content-addressed, so the
   files of the installed version are never overwritten;
3. one SQLite transaction replaces the pack's rows (lessons keep their ids, so learners'
   progress, which lives in events, carries over to the new version);
4. after the commit, media no longer referenced are deleted and the search index is brought
   in line with the database (it is derived, and re-synced at every start too).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Iterator

import sqlite_utils

from ..core.config import DataDir, fsync_dir
from ..core.db import transaction
from ..core.errors import PackError
from ..core.events import canonical_json
from ..core.keys import trusted_key
from .course import MEDIA_TYPES
from .pack import VerifiedPack, read_pack


@dataclass(frozen=True)
class InstallResult:
    pack_id: str
    version: str
    action: str                 # installed | upgraded | unchanged | skipped
    previous: "str | None" = None
    lessons: int = 0
    signed_by: "str | None" = None


def installed_now() -> str:
    """When a pack was installed, to the microsecond: caches of its content (the server's, the
    ETags, the search index's version) key on it, and a pack removed and installed again at
    the same version may differ in content within the same second."""
    return datetime.now(timezone.utc).isoformat()


def version_key(version: str) -> tuple:
    return tuple(int(p) for p in version.split("."))


def verify_pack(db: sqlite_utils.Database, path: Path, allow_unsigned: bool = False) -> VerifiedPack:
    """Check a pack against this server's trusted publisher keys (nothing is written)."""
    return read_pack(Path(path), lambda kid: trusted_key(db, kid, ("publisher",)), allow_unsigned)


@contextmanager
def install_lock(data: DataDir) -> Iterator[None]:
    """One install or removal at a time per data dir (two `kit pack install` at once, or a
    USB visit during one): the version check and the media clean-up assume no one else writes."""
    with open(data.install_lock_path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def install_pack(data: DataDir, db: sqlite_utils.Database, path: Path, allow_unsigned: bool = False,
                 update_search: bool = True, skip_older: bool = False) -> InstallResult:
    """Install or upgrade a verified pack. An older version than the installed one is refused,
    or with `skip_older` passed over (action "skipped"), for folders holding several versions."""
    with install_lock(data):
        return _install(data, db, path, allow_unsigned, update_search, skip_older)


def _install(data: DataDir, db: sqlite_utils.Database, path: Path, allow_unsigned: bool,
             update_search: bool, skip_older: bool) -> InstallResult:
    pack = verify_pack(db, path, allow_unsigned)
    row = db.execute("SELECT version, manifest FROM packs WHERE id = ?", [pack.id]).fetchone()
    previous = row[0] if row else None
    if row and row[1] == _manifest_text(pack):
        return InstallResult(pack.id, pack.version, "unchanged", previous, len(pack.lessons), pack.signed_by)
    if row and pack.version == previous:
        raise PackError(f"{Path(path).name}: version {previous} is installed with other content; "
                        "the author must raise the version number for every change")
    if row and skip_older and version_key(pack.version) < version_key(previous):
        return InstallResult(pack.id, pack.version, "skipped", previous, len(pack.lessons), pack.signed_by)
    if row and version_key(pack.version) < version_key(previous):
        raise PackError(f"{Path(path).name}: version {pack.version} is not newer than the installed "
                        f"{previous}; remove the pack first to go back (`kit pack remove {pack.id}`)")
    media_names = _store_media(data, pack)
    with transaction(db):
        _write_rows(db, pack, media_names)
    _collect_media(data, db, pack.id)
    if update_search:
        refresh_search(data, db)
    action = "upgraded" if previous else "installed"
    return InstallResult(pack.id, pack.version, action, previous, len(pack.lessons), pack.signed_by)


def remove_pack(data: DataDir, db: sqlite_utils.Database, pack_id: str) -> None:
    """Remove a pack's content. Learners' events stay: reinstalling brings their progress back."""
    with install_lock(data):
        if not db.execute("SELECT 1 FROM packs WHERE id = ?", [pack_id]).fetchone():
            raise PackError(f"no pack {pack_id!r} is installed; see `kit pack list`")
        with transaction(db):
            db.execute("DELETE FROM packs WHERE id = ?", [pack_id])  # lessons, quizzes, media cascade
        _collect_media(data, db, pack_id)
        refresh_search(data, db)


def list_packs(db: sqlite_utils.Database) -> list[dict]:
    rows = db.query("SELECT p.id, p.version, p.title, p.languages, p.publisher, p.installed_at, "
                    "(SELECT COUNT(DISTINCT lesson_id) FROM lessons l WHERE l.pack_id = p.id) AS lessons "
                    "FROM packs p ORDER BY p.id")
    return [{**r, "title": json.loads(r["title"]), "languages": json.loads(r["languages"])} for r in rows]


def refresh_search(data: DataDir, db: sqlite_utils.Database) -> None:
    from .search import update_index
    update_index(data.index_dir, db)


def media_file_name(rel: str, content: bytes) -> str:
    return hashlib.sha256(content).hexdigest() + PurePosixPath(rel).suffix.lower()


def _store_media(data: DataDir, pack: VerifiedPack) -> dict[str, str]:
    """Write media files under their content hash; returns {relative path: file name}."""
    folder = data.media_dir / pack.id
    folder.mkdir(parents=True, exist_ok=True)
    names = {}
    for rel, content in pack.media.items():
        names[rel] = media_file_name(rel, content)
        target = folder / names[rel]
        if target.exists() and target.stat().st_size == len(content):
            continue
        tmp = folder / f".{names[rel]}.{os.getpid()}.tmp"
        with open(tmp, "wb") as f:
            f.write(content)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    fsync_dir(folder)
    return names


def _write_rows(db: sqlite_utils.Database, pack: VerifiedPack, media_names: dict[str, str]) -> None:
    course = pack.course
    db.execute("DELETE FROM packs WHERE id = ?", [pack.id])
    db["packs"].insert({
        "id": pack.id, "version": pack.version,
        "title": json.dumps(course["title"], ensure_ascii=False),
        "description": json.dumps(course.get("description") or {}, ensure_ascii=False),
        "languages": json.dumps(course["languages"]), "publisher": pack.manifest.get("publisher", ""),
        "settings": json.dumps(course.get("settings") or {}, ensure_ascii=False),
        "manifest": _manifest_text(pack), "installed_at": installed_now()})
    db["lessons"].insert_all(({
        "pack_id": pack.id, "lesson_id": l["id"], "lang": l["lang"], "position": l["order"],
        "title": l["title"], "minutes": l.get("minutes"),
        "objectives": json.dumps(l.get("objectives") or [], ensure_ascii=False),
        "html": _link_media(l["html"], pack.id, media_names),
        "etag": hashlib.sha256((pack.version + l["html"]).encode()).hexdigest()[:16],
        "has_quiz": int((l["id"], l["lang"]) in pack.quizzes)} for l in pack.lessons), batch_size=500)
    db["quizzes"].insert_all(({
        "pack_id": pack.id, "lesson_id": lid, "lang": lang,
        "quiz": json.dumps(q, ensure_ascii=False, sort_keys=True)} for (lid, lang), q in pack.quizzes.items()),
        batch_size=500)
    db["media"].insert_all(({
        "pack_id": pack.id, "path": rel, "sha256": media_names[rel][:64], "size": len(content),
        "mime": MEDIA_TYPES[PurePosixPath(rel).suffix.lower()]} for rel, content in pack.media.items()))


def _manifest_text(pack: VerifiedPack) -> str:
    """Canonical text of the manifest: equal texts mean the very same pack contents."""
    return canonical_json(pack.manifest)


def _link_media(html: str, pack_id: str, media_names: dict[str, str]) -> str:
    """Point the lesson's relative media links at their content-hashed, cacheable URLs."""
    def repl(m: "re.Match[str]") -> str:
        target = m.group(2)
        name = media_names.get(PurePosixPath(target.split("?")[0]).as_posix())
        return f'{m.group(1)}="/media/{pack_id}/{name}"' if name else m.group(0)
    return re.sub(r'\b(src|href)="([^"]+)"', repl, html)


def _collect_media(data: DataDir, db: sqlite_utils.Database, pack_id: str) -> None:
    """Delete media files no installed row refers to (after the commit, never before)."""
    folder = data.media_dir / pack_id
    if not folder.is_dir():
        return
    keep = {sha + PurePosixPath(path).suffix.lower()
            for sha, path in db.execute("SELECT sha256, path FROM media WHERE pack_id = ?", [pack_id])}
    for f in folder.iterdir():
        if f.name not in keep:
            f.unlink(missing_ok=True)
    if not keep:
        folder.rmdir()

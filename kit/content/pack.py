"""Content packs: build them from a course, and verify them before anything is trusted.

A `.kitpack` is a zip:

    manifest.json            what the pack holds, signed
    manifest.sig             Ed25519 signature of manifest.json's exact bytes (64 raw bytes)
    course.json              id, version, languages, titles, descriptions, settings
    lessons/<id>.<lang>.json {id, lang, order, title, minutes, objectives, html}
    quizzes/<id>.<lang>.json kit.content.quiz.Quiz.to_dict()
    media/<path>             images and audio, as linked from the lessons

manifest.json, for example:

    {"format": 1, "kind": "kit-pack", "id": "numeracy", "version": "1.0.0",
     "languages": ["fr", "ar"], "title": {"fr": "...", "ar": "..."},
     "publisher": "3f2a9c0d1b7e6a54",
     "members": [{"path": "course.json", "size": 812, "sha256": "9b1c..."}, ...]}

`publisher` is the key id that signed it. Builds are reproducible: the same source and key
give the same bytes (sorted members, fixed timestamps and modes, no clock in the manifest).
Reading refuses anything not listed, mismatched, unsigned by a trusted key, or unsafe
(absolute or `..` names, links, duplicates, oversized or over-compressed members), before
a single byte is used.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Callable

from ..core.errors import PackError, QuizError
from ..core.events import canonical_json
from ..core.keys import PublicKey, SigningKey
from ..core.regularfiles import open_regular
from .course import COURSE_ID, MEDIA_TYPES, SEMVER, UNSAFE_SVG, Course, load_course
from .quiz import Quiz
from .quizrender import rendered_quiz
from .render import sanitize

FORMAT = 1
SUFFIX = ".kitpack"
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
COMPRESSED_MEDIA = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".mp3", ".ogg", ".oga", ".opus", ".m4a"}

# Caps that keep a hostile or damaged pack from filling a Raspberry Pi's disk or memory.
MAX_PACK_BYTES = 2 * 1024**3
MAX_MEMBERS = 50_000
MAX_MEMBER_BYTES = 64 * 1024**2
MAX_TOTAL_BYTES = 4 * 1024**3
MAX_RATIO = 200               # uncompressed / compressed, for members over 1 MB
MAX_MANIFEST_BYTES = 16 * 1024**2
_SAFE_NAME = re.compile(r"^[A-Za-z0-9._\-/]+$")
LANG = re.compile(r"^[a-z]{2}$")


def pack_name(pack_id: str, version: str) -> str:
    return f"{pack_id}-{version}{SUFFIX}"


def _json(value) -> bytes:
    return canonical_json(value).encode()  # the bytes signed and hashed: one form on every machine


def course_members(course: Course) -> dict[str, bytes]:
    """Every member of the pack but the manifest and signature, by path."""
    members = {"course.json": _json({
        "id": course.id, "version": course.version, "languages": course.languages,
        "title": course.title, "description": course.description, "settings": course.settings()})}
    for (lid, lang), lesson in course.lessons.items():
        members[f"lessons/{lid}.{lang}.json"] = _json({
            "id": lid, "lang": lang, "order": lesson.order, "title": lesson.title,
            "minutes": lesson.minutes, "objectives": lesson.objectives, "html": lesson.html})
    for (lid, lang), quiz in course.quizzes.items():
        members[f"quizzes/{lid}.{lang}.json"] = _json(rendered_quiz(quiz, lang).to_dict())
    for rel, data in course.media.items():
        members[f"media/{rel}"] = data
    return members


def build_pack(source: Path, out_dir: Path, key: SigningKey) -> Path:
    """Check a course folder and write `<out_dir>/<id>-<version>.kitpack`, signed by `key`."""
    return write_pack(load_course(Path(source)), out_dir, key)


def write_pack(course: Course, out_dir: Path, key: SigningKey) -> Path:
    """Write a checked course's pack, `<out_dir>/<id>-<version>.kitpack`, signed by `key`."""
    data = pack_bytes(course, key)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / pack_name(course.id, course.version)
    from ..core.config import write_atomic
    write_atomic(target, data)
    return target


def pack_bytes(course: Course, key: SigningKey) -> bytes:
    members = course_members(course)
    manifest = _json({
        "format": FORMAT, "kind": "kit-pack", "id": course.id, "version": course.version,
        "languages": course.languages, "title": course.title, "publisher": key.key_id,
        "members": [{"path": p, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()}
                    for p, b in sorted(members.items())]})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        _write_member(z, MANIFEST, manifest)
        _write_member(z, SIGNATURE, key.sign(manifest))
        for path, data in sorted(members.items()):
            _write_member(z, path, data)
    return buf.getvalue()


def _write_member(z: zipfile.ZipFile, path: str, data: bytes) -> None:
    info = zipfile.ZipInfo(path, date_time=ZIP_TIME)
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.create_system = 3
    stored = PurePosixPath(path).suffix.lower() in COMPRESSED_MEDIA or path == SIGNATURE
    info.compress_type = zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED
    z.writestr(info, data, compresslevel=None if stored else 9)


# --- reading and verifying --------------------------------------------------------------

@dataclass
class VerifiedPack:
    """A pack whose signature, names, sizes and hashes have all been checked."""
    manifest: dict
    manifest_sha256: str
    signed_by: "str | None"        # trusted key id, or None when accepted unsigned
    course: dict
    lessons: list[dict] = field(default_factory=list)
    quizzes: dict = field(default_factory=dict)     # (lesson_id, lang) -> quiz dict
    media: dict = field(default_factory=dict)       # relative path -> bytes

    @property
    def id(self) -> str:
        return self.manifest["id"]

    @property
    def version(self) -> str:
        return self.manifest["version"]


KeyLookup = Callable[[str], "PublicKey | None"]


def read_pack(path: Path, trusted: KeyLookup, allow_unsigned: bool = False) -> VerifiedPack:
    """Open and verify a pack completely, or raise PackError saying why it is refused."""
    path = Path(path)
    name = path.name
    try:
        with open_regular(path, MAX_PACK_BYTES, PackError) as f, zipfile.ZipFile(f) as z:
            return _verify(z, name, trusted, allow_unsigned)
    except zipfile.BadZipFile:
        raise PackError(f"{name}: not a zip file, or truncated; copy the pack again") from None
    except (zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, RuntimeError) as e:
        raise PackError(f"{name}: cannot be read ({e}); copy the pack again") from None


def _verify(z: zipfile.ZipFile, name: str, trusted: KeyLookup, allow_unsigned: bool) -> VerifiedPack:
    infos = z.infolist()
    _check_names(infos, name)
    by_name = {i.filename: i for i in infos}
    if MANIFEST not in by_name:
        raise PackError(f"{name}: no manifest.json; this is not a kit pack")
    manifest_bytes = _read_capped(z, by_name[MANIFEST], MAX_MANIFEST_BYTES, name)
    try:
        manifest = json.loads(manifest_bytes)
        members = {m["path"]: m for m in manifest["members"]}
        if not isinstance(manifest.get("id"), str) or not isinstance(manifest.get("version"), str):
            raise KeyError("id")
    except (ValueError, KeyError, TypeError):
        raise PackError(f"{name}: manifest.json is damaged") from None
    if manifest.get("kind") != "kit-pack":
        raise PackError(f"{name}: not a content pack")
    if manifest.get("format") != FORMAT:
        raise PackError(f"{name}: pack format {manifest.get('format')!r} is not known to this kit "
                        f"(it reads format {FORMAT}); update the kit")
    signed_by = _check_signature(z, by_name, manifest, manifest_bytes, name, trusted, allow_unsigned)

    listed, present = set(members), set(by_name) - {MANIFEST, SIGNATURE}
    if present - listed:
        raise PackError(f"{name}: member {sorted(present - listed)[0]!r} is not in the manifest; refused")
    if listed - present:
        raise PackError(f"{name}: member {sorted(listed - present)[0]!r} is missing")
    total = 0
    contents: dict[str, bytes] = {}
    for path, entry in sorted(members.items()):
        info = by_name[path]
        if info.file_size != entry.get("size"):
            raise PackError(f"{name}: {path} has the wrong size; the pack was altered or damaged")
        total += info.file_size
        if total > MAX_TOTAL_BYTES:
            raise PackError(f"{name}: unpacks to more than {MAX_TOTAL_BYTES // 2**30} GB; refused")
        data = _read_capped(z, info, MAX_MEMBER_BYTES, name)
        if len(data) != entry["size"] or hashlib.sha256(data).hexdigest() != entry.get("sha256"):
            raise PackError(f"{name}: {path} does not match its hash; the pack was altered or damaged")
        contents[path] = data
    return _parse_contents(contents, manifest, manifest_bytes, signed_by, name)


def _check_names(infos: list[zipfile.ZipInfo], name: str) -> None:
    if len(infos) > MAX_MEMBERS:
        raise PackError(f"{name}: more than {MAX_MEMBERS} members; refused")
    seen = set()
    for info in infos:
        member = info.filename
        parts = PurePosixPath(member).parts
        if (member.startswith(("/", "\\")) or "\\" in member or ".." in parts or re.match(r"^[A-Za-z]:", member)
                or not _SAFE_NAME.match(member) or member.endswith("/") or "" in member.split("/")):
            raise PackError(f"{name}: unsafe member name {member!r} (absolute, '..' or odd characters); refused")
        mode = info.external_attr >> 16
        if stat.S_IFMT(mode) not in (0, stat.S_IFREG):  # links, devices, folders (0: no type given)
            raise PackError(f"{name}: member {member!r} is a link or special file; refused")
        if member in seen:
            raise PackError(f"{name}: member {member!r} appears twice; refused")
        seen.add(member)
        if info.file_size > MAX_MEMBER_BYTES:
            raise PackError(f"{name}: member {member!r} is larger than {MAX_MEMBER_BYTES // 2**20} MB; refused")
        if info.file_size > 2**20 and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise PackError(f"{name}: member {member!r} is over-compressed (a zip bomb?); refused")


def _read_capped(z: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int, name: str) -> bytes:
    """Read a member, never more than its declared size and the cap (headers can lie)."""
    limit = min(info.file_size, cap)
    try:
        with z.open(info) as f:
            data = f.read(limit + 1)
    except zipfile.BadZipFile as e:
        raise PackError(f"{name}: {info.filename} is damaged ({e}); copy the pack again") from None
    except Exception as e:  # zlib.error and friends: a damaged stream
        if isinstance(e, PackError):
            raise
        raise PackError(f"{name}: {info.filename} does not decompress cleanly; copy the pack again") from None
    if len(data) > limit:
        raise PackError(f"{name}: {info.filename} is larger than declared; refused")
    return data


def _check_signature(z, by_name, manifest, manifest_bytes, name, trusted, allow_unsigned) -> "str | None":
    key_id = str(manifest.get("publisher", ""))
    key = trusted(key_id)
    sig = _read_capped(z, by_name[SIGNATURE], 1024, name) if SIGNATURE in by_name else b""
    if key is not None and sig and key.verify(sig, manifest_bytes):
        return key.key_id
    if key is not None and sig:
        reason = "its signature does not match (the pack was altered)"
    elif not sig:
        reason = "it is not signed"
    else:
        reason = f"its publisher key {key_id} is not trusted (add it with `kit keys trust FILE.pub`)"
    if allow_unsigned and not (key is not None and sig):
        return None
    raise PackError(f"{name}: refused: {reason}")


def _parse_contents(contents: dict, manifest: dict, manifest_bytes: bytes, signed_by, name: str) -> VerifiedPack:
    """Read the verified members, trusting nothing a signer could get wrong: ids that become
    folder names are checked, and lesson and quiz HTML is sanitized again (a publisher's key
    may have signed a pack made by another tool)."""
    try:
        course = json.loads(contents["course.json"])
        if course["id"] != manifest["id"] or course["version"] != manifest["version"]:
            raise PackError(f"{name}: course.json does not match the manifest")
        _check_ids(name, course)
        pack = VerifiedPack(manifest, hashlib.sha256(manifest_bytes).hexdigest(), signed_by, course)
        for path, data in contents.items():
            if path.startswith("lessons/"):
                pack.lessons.append(_lesson(name, path, json.loads(data)))
            elif path.startswith("quizzes/"):
                lid, lang = PurePosixPath(path).stem.rsplit(".", 1)
                pack.quizzes[(lid, lang)] = rendered_quiz(Quiz.from_dict(json.loads(data)), None).to_dict()
            elif path.startswith("media/"):
                pack.media[path[len("media/"):]] = _media(name, path, data)
    except KeyError as e:
        raise PackError(f"{name}: a member lacks {e}; the pack is malformed") from None
    except (ValueError, TypeError, QuizError):
        raise PackError(f"{name}: a member is not valid; the pack is malformed") from None
    pack.lessons.sort(key=lambda l: (l["order"], l["id"], l["lang"]))
    return pack


def _check_ids(name: str, course: dict) -> None:
    if not (isinstance(course["id"], str) and COURSE_ID.match(course["id"])):
        raise PackError(f"{name}: pack id {course['id']!r} is not lowercase letters, digits and dashes; refused")
    if not (isinstance(course["version"], str) and SEMVER.match(course["version"])):
        raise PackError(f"{name}: version {course['version']!r} is not like 1.0.0; refused")
    langs = course["languages"]
    if not (isinstance(langs, list) and langs and all(isinstance(x, str) and LANG.match(x) for x in langs)):
        raise PackError(f"{name}: languages must be codes like fr, ar; refused")


def _lesson(name: str, path: str, lesson: dict) -> dict:
    if not (isinstance(lesson["id"], str) and COURSE_ID.match(lesson["id"])
            and isinstance(lesson["lang"], str) and LANG.match(lesson["lang"])
            and isinstance(lesson["order"], int) and isinstance(lesson["title"], str)):
        raise PackError(f"{name}: {path} has a bad id, language, order or title; refused")
    return {**lesson, "html": sanitize(str(lesson["html"]))}


def _media(name: str, path: str, data: bytes) -> bytes:
    suffix = PurePosixPath(path).suffix.lower()
    if suffix not in MEDIA_TYPES:
        raise PackError(f"{name}: {path} is not an allowed media type")
    if suffix == ".svg" and UNSAFE_SVG.search(data):
        raise PackError(f"{name}: {path} is an SVG with scripts, event handlers or links; refused")
    return data

"""The read side of installed content: courses, their lessons, quizzes and media.

The web server asks these functions and never reads the content tables itself, so the
tables can change without touching a page. Everything returned is plain, immutable data.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import sqlite_utils

from ..core.config import DataDir
from .quiz import Quiz

QUIZ_DISPLAYS = ("one-per-page", "all")
_MEDIA_NAME = re.compile(r"^([0-9a-f]{64})(\.[a-z0-9]{1,8})$")


@dataclass(frozen=True)
class Course:
    id: str
    version: str
    title: dict                # {lang: text}
    description: dict          # {lang: text}
    languages: tuple[str, ...]
    settings: dict
    installed_at: str

    def lang_for(self, wanted: str) -> str:
        """The language to show this course in: the learner's if it has it, else its first."""
        return wanted if wanted in self.languages else (self.languages[0] if self.languages else wanted)

    def title_in(self, lang: str) -> str:
        return self.title.get(self.lang_for(lang)) or next(iter(self.title.values()), self.id)

    def description_in(self, lang: str) -> str:
        return self.description.get(self.lang_for(lang), "")

    @property
    def quiz_display(self) -> str:
        display = self.settings.get("quiz_display")
        return display if display in QUIZ_DISPLAYS else "one-per-page"

    @property
    def mastery(self) -> "tuple[int, int] | None":
        m = self.settings.get("mastery") or {}
        return (int(m["m"]), int(m["n"])) if "m" in m and "n" in m else None


@dataclass(frozen=True)
class LessonInfo:
    pack_id: str
    lesson_id: str
    lang: str
    position: int
    title: str
    minutes: "int | None"
    has_quiz: bool


@dataclass(frozen=True)
class Lesson(LessonInfo):
    objectives: tuple[str, ...]
    html: str                  # sanitized at build; media links point at /media/<pack>/<file>
    etag: str


@dataclass(frozen=True)
class Media:
    path: Path                 # the file on disk
    mime: str
    size: int


_COURSE_COLUMNS = "id, version, title, description, languages, settings, installed_at"


@lru_cache(maxsize=256)
def _course(row: tuple) -> Course:
    # Kept by the row itself: every learner page decodes the course it is in, and an install,
    # an upgrade or a removal changes the row, so a changed course is a new key, never stale.
    pack_id, version, title, description, languages, settings, installed_at = row
    return Course(pack_id, version, json.loads(title), json.loads(description),
                  tuple(json.loads(languages)), json.loads(settings), installed_at)


def list_courses(db: sqlite_utils.Database) -> list[Course]:
    return [_course(r) for r in db.execute(f"SELECT {_COURSE_COLUMNS} FROM packs ORDER BY id")]


def get_course(db: sqlite_utils.Database, pack_id: str) -> "Course | None":
    row = db.execute(f"SELECT {_COURSE_COLUMNS} FROM packs WHERE id = ?", [pack_id]).fetchone()
    return _course(row) if row else None


def lessons(db: sqlite_utils.Database, pack_id: str, lang: str) -> list[LessonInfo]:
    """A course's lessons in one language, in course order."""
    return [LessonInfo(r["pack_id"], r["lesson_id"], r["lang"], r["position"], r["title"], r["minutes"],
                       bool(r["has_quiz"]))
            for r in db.query("SELECT pack_id, lesson_id, lang, position, title, minutes, has_quiz "
                              "FROM lessons WHERE pack_id = ? AND lang = ? ORDER BY position, lesson_id",
                              [pack_id, lang])]


def lesson(db: sqlite_utils.Database, pack_id: str, lesson_id: str, lang: str) -> "Lesson | None":
    rows = list(db.query("SELECT * FROM lessons WHERE pack_id = ? AND lesson_id = ? AND lang = ?",
                         [pack_id, lesson_id, lang]))
    if not rows:
        return None
    r = rows[0]
    return Lesson(r["pack_id"], r["lesson_id"], r["lang"], r["position"], r["title"], r["minutes"],
                  bool(r["has_quiz"]), tuple(json.loads(r["objectives"])), r["html"], r["etag"])


def quiz(db: sqlite_utils.Database, pack_id: str, lesson_id: str, lang: str) -> "Quiz | None":
    """A lesson's quiz, with its texts already rendered to safe HTML at build time."""
    row = db.execute("SELECT quiz FROM quizzes WHERE pack_id = ? AND lesson_id = ? AND lang = ?",
                     [pack_id, lesson_id, lang]).fetchone()
    return Quiz.from_dict(json.loads(row[0])) if row else None


def quizzes(db: sqlite_utils.Database, pack_id: str, lang: str) -> "dict[str, Quiz]":
    """Every quiz of a course in one language, by lesson id (one query for a progress page)."""
    return {lid: Quiz.from_dict(json.loads(text)) for lid, text in db.execute(
        "SELECT lesson_id, quiz FROM quizzes WHERE pack_id = ? AND lang = ?", [pack_id, lang])}


def media(data: DataDir, db: sqlite_utils.Database, pack_id: str, name: str) -> "Media | None":
    """A media file by the name lesson pages link to (`<sha256><ext>`), if installed."""
    m = _MEDIA_NAME.match(name)
    if not m:
        return None
    row = db.execute("SELECT mime, size FROM media WHERE pack_id = ? AND sha256 = ?",
                     [pack_id, m.group(1)]).fetchone()
    path = data.media_dir / pack_id / name
    if not row or not path.is_file():
        return None
    return Media(path, row[0], row[1])

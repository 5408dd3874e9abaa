"""A lesson's quiz: its questions in order and its mastery rule, the checks of the whole, and
reading a quiz file in either source format.

Authors write quizzes in YAML (docs/course-format.md, `kit.content.quizyaml`) or Moodle GIFT
(`kit.content.gift`); both become a `Quiz` of questions (kit.content.questions, where each
type is graded and shown) and are checked, every problem reported with its line. A pack
stores `Quiz.to_dict()`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.errors import Problem, QuizError
from .gift import read_gift
from .questions import check_question
from .questions.model import Found, Question
from .quizyaml import read_quiz_yaml

_LANGUAGE = re.compile(r"\.([a-z]{2})\.(?:quiz\.ya?ml|gift)$")


@dataclass
class Quiz:
    """A lesson's quiz in one language, as a pack stores it."""

    questions: list[Question] = field(default_factory=list)
    mastery_m: int | None = None  # mastered with m fully correct of the last n attempts
    mastery_n: int | None = None

    def find(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def to_dict(self) -> dict:
        """A JSON-safe dict; the same quiz always gives the same dict (packs are hashed)."""
        d: dict[str, Any] = {"questions": [q.to_dict() for q in self.questions]}
        if self.mastery_m is not None and self.mastery_n is not None:
            d["mastery"] = {"m": self.mastery_m, "n": self.mastery_n}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Quiz":
        try:
            mastery = d.get("mastery") or {}
            return cls(questions=[Question.from_dict(q) for q in d["questions"]],
                       mastery_m=mastery.get("m"), mastery_n=mastery.get("n"))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise QuizError(f"stored quiz data is malformed ({e!r}); rebuild the pack") from e



def quiz_language(path: Path) -> "str | None":
    """The language a quiz file's name gives (`01-fractions.ar.quiz.yml`: ar), if any."""
    m = _LANGUAGE.search(Path(path).name)
    return m.group(1) if m else None


# ---------------------------------------------------------------------------------------- checks

def check_quiz(quiz: Quiz) -> list[Found]:
    """Every problem of a quiz, whatever its source format."""
    found = check_quiz_level(quiz)
    for q in quiz.questions:
        found.extend(check_question(q))
    return sorted(found, key=lambda f: f[0] or 0)


def check_quiz_level(quiz: Quiz) -> list[Found]:
    """Problems of the quiz as a whole: its mastery rule, and question ids used twice."""
    found: list[Found] = []
    if quiz.mastery_m is not None or quiz.mastery_n is not None:
        m, n = quiz.mastery_m, quiz.mastery_n
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (m, n)) or not 1 <= m <= n:
            found.append((None, "mastery needs whole numbers 1 <= m <= n, e.g. {m: 3, n: 5}"))
    seen: dict[str, int | None] = {}
    for q in quiz.questions:
        if q.id in seen:
            where = f" (first at line {seen[q.id]})" if seen[q.id] else ""
            found.append((q.line, f"question id {q.id!r} is used twice{where}; ids must be unique"))
        seen.setdefault(q.id, q.line)
    return found


# ------------------------------------------------------------------------------------ loading

def load_quiz(path: Path) -> Quiz:
    """Read and check a quiz file: `.yml`/`.yaml` (docs/course-format.md) or `.gift` (Moodle).

    Raises QuizError listing every problem with its line.
    """
    path = Path(path)
    text = read_source(path)
    suffix = path.suffix.lower()
    if suffix in (".yml", ".yaml"):
        return parse_quiz_yaml(text, str(path))
    if suffix == ".gift":
        return parse_gift(text, str(path))
    raise QuizError(f"{path}: not a quiz file; name it <lesson>.<lang>.quiz.yml or .gift")


def read_source(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise QuizError(f"cannot read {path}: {e.strerror}; check the path") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise QuizError(f"{path} is not UTF-8 text; save it as UTF-8",
                        [Problem(path, line, "bytes that are not UTF-8")]) from e


def _raise_problems(found: list[Found], path: str) -> None:
    """One QuizError carrying every problem found, each with the file's path."""
    if found:
        problems = [Problem(path, line, message) for line, message in found]
        raise QuizError(f"{path}: {len(problems)} problem(s) in the quiz; fix them and try again", problems)


def parse_quiz_yaml(text: str, path: str = "<yaml>") -> Quiz:
    """Parse and check a YAML quiz; raises QuizError listing every problem with its line."""
    questions, (m, n), found = read_quiz_yaml(text)
    quiz = Quiz(questions, m, n)
    found.extend(check_quiz_level(quiz))
    _raise_problems(found, path)
    return quiz


def parse_gift(text: str, path: str = "<gift>") -> Quiz:
    """Parse GIFT text into a checked Quiz; raises QuizError listing every problem with its line."""
    questions, found = read_gift(text)
    quiz = Quiz(questions)
    found.extend(check_quiz(quiz))
    _raise_problems(sorted(found, key=lambda f: f[0] or 0), path)
    return quiz

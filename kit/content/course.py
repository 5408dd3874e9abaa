"""Read a course folder (docs/course-format.md) and check all of it.

`load_course` returns a `Course` with every lesson rendered and every quiz parsed, or raises
ContentError listing every problem with file and line: authors fix a course in one pass,
not one error at a time. Its `warnings` (file and line too) say where a right-to-left
formula cannot be isolated for sure; they do not stop a build.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import yaml

from ..core.errors import ContentError, Problem, QuizError
from .bidi import doubts, is_rtl
from .quiz import Quiz, load_quiz
from .quizrender import quiz_warnings
from .render import local_links, render_lesson

LESSON_FILE = re.compile(r"^(?P<stem>(?P<num>\d+)-(?P<slug>[a-z0-9][a-z0-9-]*))\.(?P<lang>[a-z]{2})\.md$")
QUIZ_FILE = re.compile(r"^(?P<stem>\d+-[a-z0-9][a-z0-9-]*)\.(?P<lang>[a-z]{2})\.(?:quiz\.ya?ml|gift)$")
COURSE_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
MEDIA_TYPES = {
    ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".gif": "image/gif",
    ".webp": "image/webp", ".svg": "image/svg+xml",
    ".mp3": "audio/mpeg", ".ogg": "audio/ogg", ".oga": "audio/ogg", ".opus": "audio/ogg",
    ".m4a": "audio/mp4", ".wav": "audio/wav",
}
MAX_MEDIA_BYTES = 32 * 1024 * 1024
IGNORED = re.compile(r"^(readme|license|licence|notes?)(\..*)?$|^\.", re.I)
UNSAFE_SVG = re.compile(rb"<script|\son[a-z]+\s*=|javascript:|<foreignObject|xlink:href=\"(?!#)|href=\"(?!#)", re.I)


@dataclass
class Lesson:
    id: str
    lang: str
    order: int
    title: str
    minutes: "int | None"
    objectives: list[str]
    html: str
    source: str                     # file name, for messages


@dataclass
class Course:
    root: Path
    id: str
    version: str
    languages: list[str]
    title: dict
    description: dict
    license: str
    authors: list[str]
    quiz_display: str
    mastery: dict
    lessons: "dict[tuple[str, str], Lesson]" = field(default_factory=dict)   # by (lesson_id, lang)
    quizzes: "dict[tuple[str, str], Quiz]" = field(default_factory=dict)
    media: "dict[str, bytes]" = field(default_factory=dict)                 # by relative posix path
    warnings: "list[Problem]" = field(default_factory=list)                 # in source order

    def settings(self) -> dict:
        return {"license": self.license, "authors": self.authors,
                "quiz_display": self.quiz_display, "mastery": self.mastery}


def load_course(root: Path) -> Course:
    root = Path(root)
    problems: list[Problem] = []
    meta_path = root / "course.yml"
    if not meta_path.is_file():
        raise ContentError(f"{root}: no course.yml here; a course folder needs one (see docs/course-format.md)")
    course = _read_meta(root, meta_path, problems)
    stems: dict[str, str] = {}          # file stem "01-x" -> lesson id
    for path in sorted(root.iterdir()):
        name = path.name
        if path.is_dir() or name == "course.yml" or IGNORED.match(name) or QUIZ_FILE.match(name):
            continue
        m = LESSON_FILE.match(name)
        if not m:
            problems.append(Problem(path, None, "not a lesson file; name lessons <NN>-<slug>.<lang>.md "
                                                "and quizzes <NN>-<slug>.<lang>.quiz.yml or .gift"))
            continue
        lesson = _read_lesson(root, path, m, course, problems)
        if lesson is None:
            continue
        key = (lesson.id, lesson.lang)
        if key in course.lessons:
            problems.append(Problem(path, None, f"duplicate lesson id {lesson.id!r} in {lesson.lang} "
                                                f"(also {course.lessons[key].source})"))
            continue
        other = stems.setdefault(m["stem"], lesson.id)
        if other != lesson.id:
            problems.append(Problem(path, None, f"lesson id {lesson.id!r} differs from {other!r} in another "
                                                f"language of {m['stem']}"))
        course.lessons[key] = lesson
    _read_quizzes(root, course, stems, problems)
    _check_translations(course, problems)
    _check_media(root, course, problems)
    if not course.lessons and not problems:
        problems.append(Problem(root, None, "the course has no lessons"))
    if problems:
        raise ContentError(f"{root}: {len(problems)} problem(s); fix them and build again", problems)
    return course


def _read_meta(root: Path, path: Path, problems: list[Problem]) -> Course:
    try:
        meta = yaml.safe_load(path.read_text(encoding="utf-8-sig")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise ContentError(f"{path}: not valid YAML ({_yaml_reason(e)})") from None
    if not isinstance(meta, dict):
        raise ContentError(f"{path}: expected keys such as id, version, languages, title")
    langs = meta.get("languages")
    if not isinstance(langs, list) or not langs or not all(isinstance(x, str) and re.fullmatch(r"[a-z]{2}", x) for x in langs):
        problems.append(Problem(path, _line_of(path, "languages"), "languages must be a list of codes like [fr, ar, en]"))
        langs = []
    cid = str(meta.get("id", ""))
    if not COURSE_ID.match(cid):
        problems.append(Problem(path, _line_of(path, "id"), "id must be lowercase letters, digits and dashes"))
    version = str(meta.get("version", ""))
    if not SEMVER.match(version):
        problems.append(Problem(path, _line_of(path, "version"), f"version {version!r} is not like 1.0.0"))
    title = _per_language(meta.get("title"), "title", langs, path, problems, required=True)
    description = _per_language(meta.get("description") or {}, "description", langs, path, problems, required=False)
    display = meta.get("quiz_display", "one-per-page")
    if display not in ("one-per-page", "all"):
        problems.append(Problem(path, _line_of(path, "quiz_display"), "quiz_display must be one-per-page or all"))
    mastery = _mastery(meta.get("mastery"), path, problems)
    authors = meta.get("authors") or []
    return Course(root, cid, version, langs, title, description, str(meta.get("license", "")),
                  [str(a) for a in (authors if isinstance(authors, list) else [authors])],
                  display, mastery)


def _mastery(value, path: Path, problems: list[Problem]) -> dict:
    value = value or {"m": 3, "n": 5}
    try:
        m, n = int(value["m"]), int(value["n"])
        if not 1 <= m <= n <= 50:
            raise ValueError
    except (TypeError, KeyError, ValueError):
        problems.append(Problem(path, _line_of(path, "mastery"), "mastery must be {m: 3, n: 5} with 1 <= m <= n"))
        return {"m": 3, "n": 5}
    return {"m": m, "n": n}


def _per_language(value, key: str, langs: list[str], path: Path, problems: list[Problem], required: bool) -> dict:
    if not isinstance(value, dict):
        problems.append(Problem(path, _line_of(path, key), f"{key} must give one text per language, e.g. {{fr: ..., ar: ...}}"))
        return {}
    out = {str(k): str(v) for k, v in value.items()}
    for lang in langs:
        if required and not out.get(lang):
            problems.append(Problem(path, _line_of(path, key), f"{key} is missing in {lang}"))
    return out


def _read_lesson(root: Path, path: Path, m: "re.Match[str]", course: Course, problems: list[Problem]) -> "Lesson | None":
    try:
        text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    except UnicodeDecodeError:
        problems.append(Problem(path, None, "not UTF-8 text; save it as UTF-8"))
        return None
    front, body, body_line = _front_matter(text, path, problems)
    if front is None:
        return None
    lang = m["lang"]
    if course.languages and lang not in course.languages:
        problems.append(Problem(path, None, f"language {lang!r} is not in course.yml's languages"))
    title = front.get("title")
    if not title:
        problems.append(Problem(path, 2, "front matter needs a title"))
    lesson_id = str(front.get("id") or m["slug"])
    if not COURSE_ID.match(lesson_id):
        problems.append(Problem(path, 2, f"lesson id {lesson_id!r} must be lowercase letters, digits and dashes"))
    minutes = front.get("minutes")
    if minutes is not None and not isinstance(minutes, int):
        problems.append(Problem(path, 2, "minutes must be a whole number"))
        minutes = None
    objectives = front.get("objectives") or []
    if not isinstance(objectives, list):
        problems.append(Problem(path, 2, "objectives must be a list"))
        objectives = []
    order = front.get("order", int(m["num"]))
    if not isinstance(order, int):
        problems.append(Problem(path, 2, "order must be a whole number"))
        order = int(m["num"])
    html = render_lesson(body, str(title or ""), lang)
    if is_rtl(lang):
        course.warnings.extend(Problem(path, doubt.line_in(text, body_line), doubt.message) for doubt in doubts(html))
    for target in local_links(html):
        _check_link(root, path, body, body_line, target, problems)
    return Lesson(lesson_id, lang, order, str(title or ""), minutes, [str(o) for o in objectives], html, path.name)


def _front_matter(text: str, path: Path, problems: list[Problem]):
    if not text.startswith("---\n"):
        problems.append(Problem(path, 1, "a lesson starts with YAML front matter between --- lines (title, minutes, objectives)"))
        return None, "", 1
    end = text.find("\n---", 4)
    if end < 0:
        problems.append(Problem(path, 1, "front matter is not closed by a --- line"))
        return None, "", 1
    try:
        front = yaml.safe_load(text[4:end]) or {}
    except yaml.YAMLError as e:
        line = getattr(getattr(e, "problem_mark", None), "line", 0) + 2
        problems.append(Problem(path, line, f"front matter is not valid YAML ({_yaml_reason(e)})"))
        return None, "", 1
    if not isinstance(front, dict):
        problems.append(Problem(path, 2, "front matter must be keys and values (title: ...)"))
        return None, "", 1
    body_start = text.find("\n", end + 4) + 1
    return front, text[body_start:], text[:body_start].count("\n") + 1


def _check_link(root: Path, path: Path, body: str, body_line: int, target: str, problems: list[Problem]) -> None:
    line = _line_in(body, target, body_line)
    rel = PurePosixPath(target.split("?")[0])
    if rel.is_absolute() or ".." in rel.parts:
        problems.append(Problem(path, line, f"link {target!r} leaves the course folder; put the file in media/"))
    elif not (root / rel).is_file():
        problems.append(Problem(path, line, f"broken link: {target} does not exist"))
    elif rel.suffix.lower() not in MEDIA_TYPES:
        problems.append(Problem(path, line, f"{target}: unsupported media type; use one of "
                                            f"{', '.join(sorted(MEDIA_TYPES))}"))


def _read_quizzes(root: Path, course: Course, stems: dict, problems: list[Problem]) -> None:
    for path in sorted(root.iterdir()):
        m = QUIZ_FILE.match(path.name)
        if not m:
            continue
        lesson_id = stems.get(m["stem"])
        if lesson_id is None:
            problems.append(Problem(path, None, f"no lesson {m['stem']}.{m['lang']}.md for this quiz"))
            continue
        key = (lesson_id, m["lang"])
        if key in course.quizzes:
            problems.append(Problem(path, None, f"a second quiz for lesson {lesson_id} in {m['lang']}"))
            continue
        try:
            course.quizzes[key] = load_quiz(path)
            course.warnings.extend(quiz_warnings(path, course.quizzes[key]))
        except QuizError as e:
            problems.extend(e.problems or [Problem(path, None, str(e))])


def _check_translations(course: Course, problems: list[Problem]) -> None:
    lesson_ids = sorted({lid for lid, _ in course.lessons})
    for lid in lesson_ids:
        langs_with_quiz = [lang for lang in course.languages if (lid, lang) in course.quizzes]
        for lang in course.languages:
            if (lid, lang) not in course.lessons:
                problems.append(Problem(course.root, None, f"lesson {lid!r} has no {lang} translation"))
            if langs_with_quiz and lang not in langs_with_quiz:
                problems.append(Problem(course.root, None, f"the quiz of lesson {lid!r} has no {lang} translation"))
        # Mastery is counted across languages, so every language must ask the same questions
        # (ids and types) with the same m-of-n rule.
        shapes = {lang: _quiz_shape(course.quizzes[(lid, lang)]) for lang in langs_with_quiz}
        if len(set(shapes.values())) > 1:
            problems.append(Problem(course.root, None, f"the quiz of lesson {lid!r} differs between languages "
                                                       f"(question ids, types or mastery): {shapes}"))


def _quiz_shape(quiz: Quiz) -> tuple:
    return (quiz.mastery_m, quiz.mastery_n, tuple((q.id, q.type) for q in quiz.questions))


def _check_media(root: Path, course: Course, problems: list[Problem]) -> None:
    used = {PurePosixPath(t.split("?")[0]).as_posix()
            for lesson in course.lessons.values() for t in local_links(lesson.html)}
    for rel in sorted(used):
        path = root / rel
        if not path.is_file() or PurePosixPath(rel).suffix.lower() not in MEDIA_TYPES:
            continue  # already reported as a broken link
        data = path.read_bytes()
        if len(data) > MAX_MEDIA_BYTES:
            problems.append(Problem(path, None, f"{len(data) // 2**20} MB is too large for a phone; keep media under 32 MB"))
        elif rel.lower().endswith(".svg") and UNSAFE_SVG.search(data):
            problems.append(Problem(path, None, "SVG with scripts, event handlers or external links; use plain shapes"))
        else:
            course.media[rel] = data


def _line_of(path: Path, key: str) -> "int | None":
    try:
        for i, line in enumerate(path.read_text(encoding="utf-8-sig").splitlines(), 1):
            if line.startswith(f"{key}:"):
                return i
    except (OSError, UnicodeDecodeError):
        pass
    return None


def _line_in(body: str, needle: str, offset: int) -> int:
    idx = body.find(needle)
    return offset + body[:idx].count("\n") if idx >= 0 else offset


def _yaml_reason(e: Exception) -> str:
    return str(getattr(e, "problem", None) or e).splitlines()[0]

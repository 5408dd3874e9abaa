"""Who learned what: a class's progress grid, a learner's history and their essays, for teachers.

Computed on demand from the events (kit.core.events) by the same rules the learner's own pages use
(kit.core.progress), over the installed courses (kit.content.library); nothing here is stored, so a
report is right as soon as sync brings new events. Plain data in, plain data out: the coach
pages and the CSV export present it. Titles are given in the language asked for when the
course has it; a lesson or course no longer installed is named by its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import sqlite_utils

from .core import roster
from .content import library
from .content.questions import type_of
from .content.quiz import Quiz
from .learning import PROGRESS_KINDS, course_outline
from .core.clock import parse_hlc
from .core.eventlog import learner_events
from .core.events import AnswerRecorded, Event, LessonRead
from .core.progress import CourseProgress, course_progress, quiz_progress


def event_ms(event: Event) -> int:
    """When an event happened, in ms since the epoch (the wall-clock part of its clock)."""
    return parse_hlc(event.hlc)[0]


# --- a class ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ClassSummary:
    klass: roster.Klass
    learners: int


def class_summaries(db: sqlite_utils.Database, classes: Sequence[roster.Klass]) -> list[ClassSummary]:
    return [ClassSummary(k, len(roster.class_learners(db, k.id))) for k in classes]


@dataclass(frozen=True)
class Cell:
    """One learner and one lesson."""
    lesson_id: str
    started: bool
    read: bool
    has_quiz: bool
    mastered: bool
    last_score: "float | None"        # fraction (0..1) of the last complete quiz pass


@dataclass(frozen=True)
class GridRow:
    learner: roster.Learner
    cells: tuple[Cell, ...]
    done: int                         # lessons complete (read, or quiz mastered)
    total: int
    last_activity_ms: "int | None"

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass(frozen=True)
class Column:
    lesson_id: str
    title: str
    has_quiz: bool


@dataclass(frozen=True)
class ClassGrid:
    klass: roster.Klass
    course: library.Course
    lang: str                         # the language the lesson titles are in
    columns: tuple[Column, ...]       # the course's lessons in order; each row's cells match them
    rows: tuple[GridRow, ...]


def grid_row(learner: roster.Learner, progress: CourseProgress) -> GridRow:
    cells = []
    for lp in progress.lessons:
        last = lp.quiz.last_complete if lp.quiz else None
        cells.append(Cell(lp.lesson_id, lp.started, lp.read, lp.quiz is not None,
                          bool(lp.quiz and lp.quiz.mastered), last.fraction if last else None))
    return GridRow(learner, tuple(cells), progress.done, progress.total, progress.last_activity_ms)


def class_grid(db: sqlite_utils.Database, klass: roster.Klass, course: library.Course, lang: str,
               descending: bool = False) -> ClassGrid:
    """Every learner of the class × every lesson of the course, sorted by name."""
    outline = course_outline(db, course)
    learners = roster.class_learners(db, klass.id)
    if descending:
        learners.reverse()
    rows = tuple(grid_row(l, course_progress(learner_events(db, l.id, PROGRESS_KINDS), course.id, outline))
                 for l in learners)
    shown_lang = course.lang_for(lang)
    titles = {l.lesson_id: l.title for l in library.lessons(db, course.id, shown_lang)}
    columns = tuple(Column(lo.lesson_id, titles.get(lo.lesson_id, lo.lesson_id), lo.quiz is not None)
                    for lo in outline)
    return ClassGrid(klass, course, shown_lang, columns, rows)


# --- a learner --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Place:
    """A lesson, named for the teacher."""
    pack_id: str
    lesson_id: str
    course_title: str
    lesson_title: str


@dataclass(frozen=True)
class Read:
    place: Place
    at_ms: int


@dataclass(frozen=True)
class QuizAttempt:
    place: Place
    started_ms: int
    ended_ms: int
    score: float                      # credits earned on the auto-graded questions
    out_of: int
    complete: bool
    passed: bool

    @property
    def fraction(self) -> float:
        return self.score / self.out_of if self.out_of else 1.0


@dataclass(frozen=True)
class Essay:
    """An answer to an essay question: kept for the teacher to read, never auto-graded."""
    place: Place
    learner: roster.Learner
    question_html: str                # from the pack, sanitized when it was built
    question_name: str                # as the teacher named it ("" when unnamed): plain text
    response: str                     # as the learner typed it: escape it to show it
    lang: str                         # the language the learner answered in
    at_ms: int


@dataclass(frozen=True)
class CourseLine:
    course: library.Course
    done: int
    total: int

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0


@dataclass(frozen=True)
class LearnerHistory:
    learner: roster.Learner
    courses: tuple[CourseLine, ...]
    reads: tuple[Read, ...]           # newest first
    attempts: tuple[QuizAttempt, ...]  # newest first
    essays: tuple[Essay, ...]         # newest first


class _Names:
    """Course and lesson titles in one language, looked up once per course."""

    def __init__(self, db: sqlite_utils.Database, lang: str):
        self.db, self.lang = db, lang
        self._courses: dict[str, "library.Course | None"] = {}
        self._lessons: dict[str, dict[str, str]] = {}
        self._quizzes: dict[str, dict[str, Quiz]] = {}

    def course(self, pack_id: str) -> "library.Course | None":
        if pack_id not in self._courses:
            self._courses[pack_id] = library.get_course(self.db, pack_id)
        return self._courses[pack_id]

    def place(self, pack_id: str, lesson_id: str) -> Place:
        course = self.course(pack_id)
        if course is None:
            return Place(pack_id, lesson_id, pack_id, lesson_id)
        if pack_id not in self._lessons:
            self._lessons[pack_id] = {l.lesson_id: l.title for l in
                                      library.lessons(self.db, pack_id, course.lang_for(self.lang))}
        return Place(pack_id, lesson_id, course.title_in(self.lang), self._lessons[pack_id].get(lesson_id, lesson_id))

    def quizzes(self, pack_id: str) -> "dict[str, Quiz]":
        course = self.course(pack_id)
        if course is None:
            return {}
        if pack_id not in self._quizzes:
            self._quizzes[pack_id] = library.quizzes(self.db, pack_id, course.lang_for(self.lang))
        return self._quizzes[pack_id]


def essay_of(event: Event, learner: roster.Learner, names: _Names) -> "Essay | None":
    """The essay answer an event holds, or None if it holds something else."""
    a = event.payload()
    if not isinstance(a, AnswerRecorded) or not isinstance(a.response, str):
        return None
    quiz = names.quizzes(a.pack).get(a.lesson)
    question = quiz.find(a.question) if quiz else None
    if question is None or not type_of(question).read_by_teacher:
        return None
    return Essay(names.place(a.pack, a.lesson), learner, question.text, question.name, a.response, a.lang,
                 event_ms(event))


def attempts_of(events: Sequence[Event], names: _Names) -> list[QuizAttempt]:
    """Every pass through every quiz, cut as kit.core.progress cuts them, oldest first."""
    when = {e.uid: event_ms(e) for e in events}
    out = []
    packs = {p.pack for p in (e.payload() for e in events) if isinstance(p, (LessonRead, AnswerRecorded))}
    for course in (names.course(p) for p in sorted(packs)):
        if course is None:
            continue
        for lo in course_outline(names.db, course):
            if lo.quiz is None:
                continue
            for a in quiz_progress(events, course.id, lo.lesson_id, lo.quiz).attempts:
                times = [when[x.uid] for x in a.answers.values()]
                out.append(QuizAttempt(names.place(course.id, lo.lesson_id), min(times), max(times),
                                       a.score, a.out_of, a.complete, a.passed))
    return sorted(out, key=lambda a: a.started_ms)


def learner_history(db: sqlite_utils.Database, learner: roster.Learner, lang: str) -> LearnerHistory:
    """What one learner did: progress per installed course, lessons read, quiz passes with
    scores, and essay answers; newest first."""
    events = learner_events(db, learner.id, PROGRESS_KINDS)
    names = _Names(db, lang)
    courses = []
    for course in library.list_courses(db):
        progress = course_progress(events, course.id, course_outline(db, course))
        courses.append(CourseLine(course, progress.done, progress.total))
    reads = [Read(names.place(r.pack, r.lesson), event_ms(e))
             for e, r in ((e, e.payload()) for e in events) if isinstance(r, LessonRead)]
    essays = [essay for essay in (essay_of(e, learner, names) for e in events) if essay]
    return LearnerHistory(learner, tuple(courses), tuple(reversed(reads)),
                          tuple(reversed(attempts_of(events, names))), tuple(reversed(essays)))


def class_essays(db: sqlite_utils.Database, klass: roster.Klass, course: library.Course,
                 lang: str) -> list[Essay]:
    """Every essay answer of a class's learners in one course, newest first (in clock order,
    so every server lists them alike)."""
    names = _Names(db, lang)
    answers = [(e, learner) for learner in roster.class_learners(db, klass.id)
               for e in learner_events(db, learner.id, (AnswerRecorded.KIND,)) if e.payload().pack == course.id]
    answers.sort(key=lambda pair: (pair[0].hlc, pair[0].device_id, pair[0].seq), reverse=True)
    return [essay for essay in (essay_of(e, learner, names) for e, learner in answers) if essay]

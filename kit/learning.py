"""What a learner does, as verbs: find a lesson, read it, open its quiz, answer a question or a
whole quiz, see a course's progress. Every face calls these (the web's forms, the phone's
offline queue, the demo generator), so an answer counts the same whichever way it arrives.

Plain data in and out, no Flask: installed content comes from kit.content.library, answers
are graded by kit.content.questions, recorded as typed events (kit.core.events through
kit.core.eventlog) and turned into progress by the rules of kit.core.progress.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Hashable, Sequence

import sqlite_utils

from .content import library
from .content.questions import Grade, Question, grade, type_of
from .content.quiz import Quiz
from .core.db import transaction
from .core.eventlog import append, count_learner_events, learner_body_field, learner_events
from .core.events import AnswerRecorded, Event, LessonRead, SignedIn
from .core.progress import (DEFAULT_M, DEFAULT_N, CourseProgress, LessonOutline, PassState, QuizOutline,
                            QuizProgress, course_progress, pass_state, quiz_progress)

PROGRESS_KINDS = (LessonRead.KIND, AnswerRecorded.KIND)


def signed_in(db: sqlite_utils.Database, learner_id: str, class_id: str) -> None:
    """Note that a learner signed in (the teachers' pages show when each one last came)."""
    append(db, SignedIn(class_id), learner_id=learner_id)


# --- what mastery needs of a course -------------------------------------------------------------

def quiz_outline(quiz: "Quiz | None", course: library.Course) -> "QuizOutline | None":
    """A quiz's answerable and auto-graded questions and its m-of-n rule (the quiz's own,
    else the course's, else the kit's default); None when there is nothing to answer."""
    if quiz is None:
        return None
    answerable = tuple(q.id for q in quiz.questions if type_of(q).answerable)
    if not answerable:
        return None
    graded = tuple(q.id for q in quiz.questions if type_of(q).auto_graded)
    m, n = ((quiz.mastery_m, quiz.mastery_n) if quiz.mastery_m and quiz.mastery_n
            else course.mastery or (DEFAULT_M, DEFAULT_N))
    return QuizOutline(answerable, graded, m, n)


def course_outline(db: sqlite_utils.Database, course: library.Course) -> list[LessonOutline]:
    """The course's lessons in order with their quizzes. Question ids are the same in every
    language, so the course's first language speaks for all."""
    lang = course.languages[0]
    quizzes = library.quizzes(db, course.id, lang)
    return [LessonOutline(l.lesson_id, quiz_outline(quizzes.get(l.lesson_id), course))
            for l in library.lessons(db, course.id, lang)]


# --- courses and lessons ------------------------------------------------------------------------

# `cached(key, compute)`: a face may keep what a verb computes (kit.server.caches); the verb
# names the key, so the rule for when a value is stale lives beside the value.
Cached = Callable[[Hashable, Callable[[], Any]], Any]


def installed(course: library.Course) -> tuple:
    """What names one install of a course: an install, an upgrade or a removal and reinstall
    changes it (a version's content never changes: kit.content.install refuses that)."""
    return (course.id, course.version, course.installed_at)


def _kept(cached: "Cached | None", key: Hashable, compute: Callable[[], Any]) -> Any:
    return compute() if cached is None else cached(key, compute)


def progress_in(db: sqlite_utils.Database, learner_id: str, course: library.Course,
                cached: "Cached | None" = None) -> CourseProgress:
    """A learner's progress in a course, from their events. `cached(key, compute)` may keep it:
    the key changes when the learner's events or the installed course change."""
    def compute() -> CourseProgress:
        events = learner_events(db, learner_id, PROGRESS_KINDS, {"pack": course.id})
        return course_progress(events, course.id, course_outline(db, course))
    if cached is None:
        return compute()
    key = (learner_id, course.id, course.version, course.installed_at,
           count_learner_events(db, learner_id, PROGRESS_KINDS))
    return cached(key, compute)


@dataclass(frozen=True)
class CourseLine:
    course: library.Course
    progress: CourseProgress


def my_courses(db: sqlite_utils.Database, learner_id: str,
               cached: "Cached | None" = None) -> "tuple[list[CourseLine], CourseLine | None]":
    """Every installed course with the learner's progress, and the one to continue: the course
    studied last that is not finished yet (None when there is none)."""
    lines = [CourseLine(c, progress_in(db, learner_id, c, cached)) for c in library.list_courses(db)]
    ongoing = [l for l in lines if l.progress.resume() and l.progress.started]
    current = max(ongoing, key=lambda l: l.progress.last_activity_ms or 0, default=None)
    return lines, current


@dataclass(frozen=True)
class LessonPlace:
    """A lesson as a learner finds it, in the language shown."""
    course: library.Course
    lang: str
    lesson: library.Lesson


def find_lesson(db: sqlite_utils.Database, course: library.Course, lesson_id: str,
                wanted_lang: str, cached: "Cached | None" = None) -> "LessonPlace | None":
    """The lesson in the learner's language if the course has it, else in the course's first."""
    lang = course.lang_for(wanted_lang)
    found = _kept(cached, ("lesson", *installed(course), lesson_id, lang),
                  lambda: library.lesson(db, course.id, lesson_id, lang))
    return LessonPlace(course, lang, found) if found else None


def neighbours(db: sqlite_utils.Database, place: LessonPlace,
               cached: "Cached | None" = None) -> "tuple[library.LessonInfo | None, library.LessonInfo | None]":
    """The lessons before and after this one in the course, or None at either end."""
    ordered = _kept(cached, ("lessons", *installed(place.course), place.lang),
                    lambda: tuple(library.lessons(db, place.course.id, place.lang)))
    i = [l.lesson_id for l in ordered].index(place.lesson.lesson_id)
    return (ordered[i - 1] if i > 0 else None), (ordered[i + 1] if i + 1 < len(ordered) else None)


def times_read(db: sqlite_utils.Database, learner_id: str, place: LessonPlace) -> int:
    """How often the learner read this lesson to its end (it names the next read's token)."""
    return count_learner_events(db, learner_id, (LessonRead.KIND,),
                                {"pack": place.course.id, "lesson": place.lesson.lesson_id})


def read_lesson(db: sqlite_utils.Database, learner_id: str, place: LessonPlace, token: str) -> bool:
    """Record that the learner read the lesson to its end; once per token. True if new."""
    _event, created = append(db, LessonRead(place.course.id, place.lesson.lesson_id, place.lang, token),
                             learner_id=learner_id)
    return created


# --- quizzes ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class QuizPlace:
    """A lesson's quiz in the language shown, with what mastery needs of it."""
    lesson: LessonPlace
    quiz: Quiz
    outline: QuizOutline

    @property
    def course(self) -> library.Course:
        return self.lesson.course

    @property
    def answerable(self) -> list[Question]:
        return [q for q in self.quiz.questions if q.id in self.outline.answerable]

    def number(self, question: Question) -> int:
        """The question's place among the answerable ones, from 1."""
        return [q.id for q in self.answerable].index(question.id) + 1


def find_quiz(db: sqlite_utils.Database, course: library.Course, lesson_id: str,
              wanted_lang: str, cached: "Cached | None" = None) -> "QuizPlace | None":
    """A lesson's quiz in the language find_lesson chooses; None when the lesson has no quiz
    or nothing in it to answer."""
    place = find_lesson(db, course, lesson_id, wanted_lang, cached)
    if place is None:
        return None
    quiz = _kept(cached, ("quiz", *installed(course), lesson_id, place.lang),
                 lambda: library.quiz(db, course.id, lesson_id, place.lang))
    outline = quiz_outline(quiz, course)
    return QuizPlace(place, quiz, outline) if outline else None


def quiz_progress_of(db: sqlite_utils.Database, learner_id: str, place: QuizPlace) -> QuizProgress:
    """Every pass the learner made through this quiz, and whether it is mastered."""
    pack, lesson = place.course.id, place.lesson.lesson.lesson_id
    events = learner_events(db, learner_id, (AnswerRecorded.KIND,), {"pack": pack, "lesson": lesson})
    return quiz_progress(events, pack, lesson, place.outline)


def quiz_state(db: sqlite_utils.Database, learner_id: str, place: QuizPlace,
               cached: "Cached | None" = None) -> PassState:
    """Which questions the learner answered in the pass under way, and whether they ever
    finished one: all a quiz page needs to go on, read without decoding one answer.
    `cached(key, compute)` may keep it, by the number of the learner's answers in the lesson
    (counted from an index); answer_question then keeps it up to date as it records."""
    return _pass(db, learner_id, place, cached)[0].state


@dataclass(frozen=True)
class _Pass:
    state: PassState
    last: "tuple | None"      # (hlc, device_id, seq) of the last answer it counts (kit.core.eventlog)


def _pass(db: sqlite_utils.Database, learner_id: str, place: QuizPlace,
          cached: "Cached | None") -> "tuple[_Pass, tuple | None]":
    """The pass state, and the key it is kept under (None when not kept)."""
    def compute() -> _Pass:
        questions, last = learner_body_field(db, learner_id, AnswerRecorded.KIND, "question",
                                             {"pack": place.course.id, "lesson": place.lesson.lesson.lesson_id})
        return _Pass(pass_state(questions, place.outline), last)
    if cached is None:
        return compute(), None
    with transaction(db, immediate=False):    # the count and the answers it counts, one snapshot
        key = _pass_key(db, learner_id, place)
        return cached(key, compute), key


def _pass_key(db: sqlite_utils.Database, learner_id: str, place: QuizPlace) -> tuple:
    # Answers are only added (a learner's events leave a server all at once), so their number
    # is a version. Counted over the lesson in every pack: a superset changes when they do.
    lesson = place.lesson.lesson.lesson_id
    held = count_learner_events(db, learner_id, (AnswerRecorded.KIND,), {"lesson": lesson})
    return ("pass", learner_id, *installed(place.course), lesson, held)


@dataclass(frozen=True)
class Answered:
    """An answer as recorded: the response kept (the first one, for a repeated token), its
    grade, whether this call recorded it, and (when answer_question was given `cached`) where
    the learner stands in the quiz after it."""
    question: Question
    response: object
    grade: Grade
    recorded: bool
    state: "PassState | None" = None


def answer_event(place: QuizPlace, question: Question, response: object, token: str) -> AnswerRecorded:
    """The event a response makes: graded here, once, whoever records it."""
    return _graded(place, question, response, token)[0]


def _graded(place: QuizPlace, question: Question, response: object,
            token: str) -> "tuple[AnswerRecorded, Grade]":
    marked = grade(question, response)
    return AnswerRecorded(place.course.id, place.lesson.lesson.lesson_id, place.lesson.lang, question.id,
                          marked.credit, marked.correct, response, token), marked


def answer_question(db: sqlite_utils.Database, learner_id: str, place: QuizPlace, question: Question,
                    response: object, token: str, cached: "Cached | None" = None) -> Answered:
    """Grade a response and record it, once per token: a double tap, a reload or an answer
    queued on a phone and sent twice counts once, and gets back what was recorded first.
    With `cached`, the learner's pass state (quiz_state) is carried past the new answer and
    returned with it."""
    answered, marked = _graded(place, question, response, token)
    state = None
    with transaction(db):
        if cached is not None:
            before, key = _pass(db, learner_id, place, cached)
        event, created = append(db, answered, learner_id=learner_id)
        if cached is not None:
            state = _carry(db, learner_id, place, cached, before, key, event) if created else before.state
    if not created:
        response = event.payload().response
        marked = grade(question, response)
    return Answered(question, response, marked, created, state)


def _carry(db: sqlite_utils.Database, learner_id: str, place: QuizPlace, cached: Cached,
           before: _Pass, key: tuple, event: Event) -> PassState:
    """The pass state once `event`, just recorded in this transaction, is counted: carried one
    step and kept under the next count, unless the answer does not sort last (an event synced
    from a device whose clock runs far ahead): then read again."""
    here = (event.hlc, event.device_id, event.seq)
    if before.last is not None and here < before.last:
        return _pass(db, learner_id, place, cached)[0].state
    after = _Pass(before.state.after(event.body["question"], place.outline), here)
    return cached((*key[:-1], key[-1] + 1), lambda: after).state


def answer_quiz(db: sqlite_utils.Database, learner_id: str, place: QuizPlace,
                answers: Sequence["tuple[Question, object, str]"]) -> list[Answered]:
    """A whole quiz answered at once, (question, response, token) each: all recorded or none,
    even if the server stops midway."""
    with transaction(db):
        return [answer_question(db, learner_id, place, q, response, token) for q, response, token in answers]

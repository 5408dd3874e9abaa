"""Progress and mastery, derived from one learner's events; never stored as the only copy.

Plain data in, plain data out: the learner's `lesson.read` and `quiz.answer` events in
clock order, and outlines of the course (lesson ids in order, each quiz's question ids and
mastery rule). Because it is a pure function of the events, every server that holds the
same events shows the same progress, whatever order sync delivered them in.

Rules:
- A quiz attempt is one pass through the quiz. Answers carry no attempt id, so passes are
  found from the order of answers: a new pass starts when a question is answered again, or
  once every answerable question of the current pass has been answered.
- A complete pass is passed when its score (sum of credits over the auto-graded questions)
  reaches PASS_SCORE of the maximum. A quiz is mastered once m of the last n complete passes
  were passed (the pack's rule, default 3 of 5); mastery, once reached, stays.
- A lesson is complete when it was read to its end or its quiz is mastered; a course's
  progress is its complete lessons out of all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Sequence

from .clock import parse_hlc
from .events import AnswerRecorded, Event, LessonRead

DEFAULT_M, DEFAULT_N = 3, 5
PASS_SCORE = 0.8


@dataclass(frozen=True)
class QuizOutline:
    """What mastery needs to know of a quiz (the same in every language)."""
    answerable: tuple[str, ...]       # ids of questions a learner answers, in order
    graded: tuple[str, ...]           # those graded automatically (not essays)
    m: int = DEFAULT_M
    n: int = DEFAULT_N


@dataclass(frozen=True)
class LessonOutline:
    lesson_id: str
    quiz: "QuizOutline | None" = None


@dataclass(frozen=True)
class Answer:
    question: str
    credit: float
    correct: "bool | None"
    response: object
    lang: str
    uid: str


@dataclass(frozen=True)
class Attempt:
    answers: "dict[str, Answer]"      # question id -> answer, in answering order
    complete: bool
    score: float                      # sum of credits of the graded questions answered
    out_of: int                       # number of graded questions
    right: int = 0                    # graded questions answered fully right (no part credit)

    @property
    def fraction(self) -> float:
        return self.score / self.out_of if self.out_of else 1.0

    @property
    def passed(self) -> bool:
        return self.complete and self.fraction >= PASS_SCORE - 1e-9


@dataclass(frozen=True)
class QuizProgress:
    attempts: tuple[Attempt, ...]     # every pass, the last one possibly incomplete
    m: int
    n: int
    mastered: bool
    recent_passes: int                # passed among the last n complete passes

    @property
    def current(self) -> "Attempt | None":
        """The pass in progress, if the learner stopped in the middle of one."""
        return self.attempts[-1] if self.attempts and not self.attempts[-1].complete else None

    @property
    def last_complete(self) -> "Attempt | None":
        return next((a for a in reversed(self.attempts) if a.complete), None)


@dataclass(frozen=True)
class LessonProgress:
    lesson_id: str
    read: bool
    quiz: "QuizProgress | None"
    started: bool

    @property
    def complete(self) -> bool:
        return self.read or bool(self.quiz and self.quiz.mastered)


@dataclass(frozen=True)
class CourseProgress:
    pack_id: str
    lessons: tuple[LessonProgress, ...]
    last_activity_ms: "int | None"    # clock of the learner's latest event in this course

    @property
    def done(self) -> int:
        return sum(1 for l in self.lessons if l.complete)

    @property
    def total(self) -> int:
        return len(self.lessons)

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 0.0

    @property
    def started(self) -> bool:
        return any(l.started for l in self.lessons)

    def lesson(self, lesson_id: str) -> "LessonProgress | None":
        return next((l for l in self.lessons if l.lesson_id == lesson_id), None)

    def resume(self) -> "tuple[str, str] | None":
        """Where 'continue' goes: (lesson id, 'quiz' | 'lesson') for the first lesson not
        complete, its quiz if a pass is under way; None when the course is done."""
        for l in self.lessons:
            if not l.complete:
                return l.lesson_id, ("quiz" if l.quiz and l.quiz.current else "lesson")
        return None


def _answer(event: Event, recorded: AnswerRecorded) -> Answer:
    # Read tolerantly (AnswerRecorded.from_body): a malformed answer synced from elsewhere
    # counts as 0, since events are never deleted and one bad row must not break the pages.
    return Answer(recorded.question, float(recorded.credit or 0.0), recorded.correct, recorded.response,
                  recorded.lang, event.uid)


def _answers(events: Iterable[Event], pack: str, lesson: str) -> list[Answer]:
    out = []
    for e in events:
        if e.kind == AnswerRecorded.KIND:
            a = e.payload()
            if a.pack == pack and a.lesson == lesson:
                out.append(_answer(e, a))
    return out


@dataclass(frozen=True)
class PassState:
    """Where a learner stands in a quiz, from the question ids of their answers alone."""
    under_way: frozenset              # questions answered in the pass under way; empty if none is
    any_complete: bool                # some pass was completed

    def after(self, question: object, outline: QuizOutline) -> "PassState":
        """The state once one more answer (the latest in clock order) is counted, so a page
        can follow a learner without rereading."""
        return _state([question], outline, self)


NOT_STARTED = PassState(frozenset(), False)


def _walk(questions: Sequence[object], outline: QuizOutline,
          start: PassState = NOT_STARTED) -> "Iterator[tuple[int, bool, set]]":
    """The one rule that cuts a quiz's answers (in clock order) into passes. For each answer to
    a question the quiz still has (an older pack's are left out): its position, whether it opens
    a pass (none is under way: none yet, or the last one was completed; or the pass under way
    has answered that question already), and the questions answered in the pass under way
    after it, empty once that pass is complete. The set is the walk's own: read it, don't keep it."""
    wanted = frozenset(outline.answerable)
    seen = set(start.under_way)
    for i, question in enumerate(questions):
        if question not in wanted:
            continue
        opens = not seen or question in seen
        if opens:
            seen.clear()
        seen.add(question)
        if len(seen) == len(wanted):     # seen only holds wanted questions: the pass is complete
            seen.clear()
        yield i, opens, seen


def passes(questions: Sequence[object], outline: QuizOutline) -> list[list[int]]:
    """The passes of a quiz's answers (in clock order), as positions in `questions`."""
    cut: list[list[int]] = []
    for i, opens, _seen in _walk(questions, outline):
        if opens:
            cut.append([])
        cut[-1].append(i)
    return cut


def pass_state(questions: Sequence[object], outline: QuizOutline) -> PassState:
    return _state(questions, outline, NOT_STARTED)


def _state(questions: Sequence[object], outline: QuizOutline, start: PassState) -> PassState:
    seen, complete = start.under_way, start.any_complete
    for _i, _opens, seen in _walk(questions, outline, start):
        complete = complete or not seen
    return PassState(frozenset(seen), complete)


def attempts(answers: Sequence[Answer], outline: QuizOutline) -> list[Attempt]:
    """Cut a quiz's answers (in clock order) into passes."""
    wanted, graded = set(outline.answerable), set(outline.graded)
    found = [{answers[i].question: answers[i] for i in p} for p in passes([a.question for a in answers], outline)]
    return [Attempt(p, wanted <= p.keys(),
                    sum(max(0.0, min(1.0, a.credit)) for q, a in p.items() if q in graded),
                    len(graded), sum(1 for q, a in p.items() if q in graded and a.correct is True))
            for p in found]


def quiz_progress(events: Iterable[Event], pack: str, lesson: str, outline: QuizOutline) -> QuizProgress:
    return _mastery(_answers(events, pack, lesson), outline)


def _mastery(answers: Sequence[Answer], outline: QuizOutline) -> QuizProgress:
    found = attempts(answers, outline)
    m, n = max(1, outline.m), max(1, outline.n)
    outcomes: list[bool] = []
    mastered = False
    for a in found:
        if a.complete:
            outcomes.append(a.passed)
            mastered = mastered or sum(outcomes[-n:]) >= m
    return QuizProgress(tuple(found), m, n, mastered, sum(outcomes[-n:]))


def course_progress(events: Iterable[Event], pack: str, lessons: Sequence[LessonOutline]) -> CourseProgress:
    read: set[str] = set()
    answers: dict[str, list[Answer]] = {}     # lesson id -> its answers, in clock order
    last = None
    for e in events:
        if e.kind not in (LessonRead.KIND, AnswerRecorded.KIND):
            continue
        p = e.payload()
        if p.pack != pack:
            continue
        if isinstance(p, LessonRead):
            read.add(p.lesson)
        else:
            answers.setdefault(p.lesson, []).append(_answer(e, p))
        last = max(last or 0, parse_hlc(e.hlc)[0])
    out = []
    for lo in lessons:
        quiz = _mastery(answers.get(lo.lesson_id, []), lo.quiz) if lo.quiz else None
        out.append(LessonProgress(lo.lesson_id, lo.lesson_id in read, quiz,
                                  lo.lesson_id in read or lo.lesson_id in answers))
    return CourseProgress(pack, tuple(out), last)

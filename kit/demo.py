"""Made-up but realistic learner activity, for trying the reports, tests and benchmarks.

`generate_activity` goes through the same functions real use does: classes and learners by
kit.core.roster, sign-ins, lessons read and quiz answers by kit.core.eventlog.append with the events the
web views write (answers made by kit.learning.answer_event, graded against the installed packs' quizzes;
with no pack installed, against a small built-in course outline). Learners differ in how often
they come and how well they answer, and get better with practice; mistakes are plausible ones
(a neighbouring choice, a near number, a typo). Clocks are the real ones: a year of activity
generated in a minute carries a minute of timestamps.

`bulk_activity` makes the same kinds of events with the same bodies, but stamped over the
simulated days and inserted many at a time instead of one `append` each: the benchmarks need
a million events quickly. It is for benchmarks only; nothing else should write events so.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Callable, Iterator

import sqlite_utils

from . import learning
from .content import library
from .content.questions import type_of
from .core import records, roster
from .core.clock import format_hlc, observe
from .core.db import transaction
from .core.eventlog import append, device_id, max_seq
from .core.events import AnswerRecorded, LessonRead, Payload, RecordSet, SignedIn, canonical_json

FIRST_NAMES = ("Amina", "Youssef", "Fatima", "Omar", "Khadija", "Ibrahim", "Aïcha", "Moussa", "Mariam",
               "Hamza", "Salma", "Idriss", "Zineb", "Adama", "Awa", "Karim", "Nadia", "Bilal", "Leïla",
               "Souleymane", "Hawa", "Mehdi", "Rokia", "Ismaël", "Inès", "Cheikh", "Yasmine", "Oumar")
FAMILY_NAMES = ("Diallo", "Benali", "Traoré", "El Amrani", "Coulibaly", "Haddad", "Keita", "Ouédraogo",
                "Mansouri", "Sow", "Cissé", "Bouzid", "Diop", "Kaboré", "Toure", "Chraibi")
SCHOOL_DAYS_PER_WEEK = 5


@dataclass
class Demo:
    classes: int = 0
    learners: int = 0
    events: int = 0
    by_kind: dict = field(default_factory=dict)


@dataclass(frozen=True)
class DemoLesson:
    pack: str
    lesson: str
    lang: str
    questions: tuple  # the auto-graded Questions of its quiz, or question ids for the built-in outline
    quiz: "learning.QuizPlace | None" = None


@dataclass
class DemoLearner:
    id: str
    class_id: str
    presence: float        # chance to come on a school day
    skill: float           # chance to answer right at first
    next_lesson: int = 0


def course_outline(db: sqlite_utils.Database, rng: random.Random) -> list[DemoLesson]:
    """The installed packs' lessons and quizzes, or a built-in numeracy outline."""
    out = []
    for course in library.list_courses(db):
        for info in library.lessons(db, course.id, course.lang_for("fr")):
            place = learning.find_quiz(db, course, info.lesson_id, "fr")
            questions = tuple(q for q in place.quiz.questions if type_of(q).auto_graded) if place else ()
            out.append(DemoLesson(course.id, info.lesson_id, info.lang, questions, place))
    if out:
        return out
    return [DemoLesson("numeracy", f"{n:02d}-lesson", "fr", tuple(f"q{i}" for i in range(1, rng.randint(3, 7))))
            for n in range(1, 25)]


def answer(lesson: DemoLesson, question, knows: bool, rng: random.Random) -> AnswerRecorded:
    """The answer the web records, made by the same verb, with its form token. Each type says
    what a right answer is and which mistakes are plausible: the neighbouring choice, one box
    too many, a near number, a letter missing, two items swapped."""
    if lesson.quiz is None:  # the built-in outline: a 4-choice question, answer 0
        response = 0 if knows else rng.randint(1, 3)
        token = str(uuid.UUID(int=rng.getrandbits(128)))
        return AnswerRecorded(lesson.pack, lesson.lesson, lesson.lang, question, 1.0 if knows else 0.0, knows,
                              response, token)
    qtype = type_of(question)
    response = qtype.demo_right(question) if knows else qtype.demo_wrong(question, rng)
    token = str(uuid.UUID(int=rng.getrandbits(128)))  # drawn after the response: a seed makes the same days as ever
    return learning.answer_event(lesson.quiz, question, response, token)


# --- the simulation ---------------------------------------------------------------------------

def school_day_events(learner: DemoLearner, lessons: list[DemoLesson], rng: random.Random) -> Iterator[Payload]:
    """What one learner does on a day they come."""
    yield SignedIn(learner.class_id)
    for _ in range(rng.choice((1, 1, 1, 2))):
        lesson = lessons[learner.next_lesson % len(lessons)]
        yield LessonRead(lesson.pack, lesson.lesson, lesson.lang, str(uuid.UUID(int=rng.getrandbits(128))))
        passed = True
        for question in lesson.questions:
            knows = rng.random() < learner.skill
            passed &= knows
            yield answer(lesson, question, knows, rng)
        if passed or rng.random() < 0.3:  # move on when it went well, or sometimes anyway
            learner.next_lesson += 1
        learner.skill = min(0.97, learner.skill + 0.004)  # practice helps


def make_roster(db: sqlite_utils.Database, learners: int, rng: random.Random,
                class_size: int = 30) -> "tuple[int, list[DemoLearner]]":
    """Classes of about `class_size` and their learners, through kit.core.roster (PINs hashed)."""
    people: list[DemoLearner] = []
    classes = max(1, -(-learners // class_size))
    first = len(roster.classes_here(db))          # names go on after the classes already here
    for c in range(first, first + classes):
        klass = roster.create_class(db, f"Classe {c // 3 + 1}{'ABC'[c % 3]}")
        for _ in range(min(class_size, learners - len(people))):
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(FAMILY_NAMES)}"
            while roster.name_taken(db, klass.id, name):   # a class has no two learners of one name
                name = f"{rng.choice(FIRST_NAMES)} {rng.choice(FAMILY_NAMES)}"
            pin = f"{rng.randrange(10000):04d}"
            learner = roster.add_learner(db, klass.id, name, pin=pin)
            people.append(DemoLearner(learner.id, klass.id, presence=rng.uniform(0.6, 0.97),
                                      skill=rng.uniform(0.35, 0.9)))
    return classes, people


def school_days(days: int) -> Iterator[int]:
    for day in range(days):
        if day % 7 < SCHOOL_DAYS_PER_WEEK:
            yield day


def generate_activity(db: sqlite_utils.Database, learners: int, days: int, seed: int = 0,
                      progress: "Callable[[int, int], None] | None" = None) -> Demo:
    """Classes, learners and `days` days of their activity, through the domain functions."""
    rng = random.Random(seed)
    lessons = course_outline(db, rng)
    classes, people = make_roster(db, learners, rng)
    demo = Demo(classes, len(people), events=classes + len(people))
    total = len(list(school_days(days)))
    for n, _day in enumerate(school_days(days), start=1):
        with transaction(db):  # one day, one transaction: appends join it
            for learner in people:
                if rng.random() >= learner.presence:
                    continue
                for payload in school_day_events(learner, lessons, rng):
                    append(db, payload, learner_id=learner.id)
                    demo.events += 1
                    demo.by_kind[payload.KIND] = demo.by_kind.get(payload.KIND, 0) + 1
        if progress:
            progress(n, total)
    return demo


def generate_day(db: sqlite_utils.Database, seed: int = 0) -> Demo:
    """One more school day for the learners already here, through the domain functions."""
    rng = random.Random(seed)
    lessons = course_outline(db, rng)
    demo = Demo()
    with transaction(db):
        for rec in records.all_of(db, "learner"):
            learner = DemoLearner(rec["id"], rec.get("class_id", ""), rng.uniform(0.6, 0.97), rng.uniform(0.35, 0.9),
                                  next_lesson=rng.randrange(len(lessons)))
            if rng.random() >= learner.presence:
                continue
            demo.learners += 1
            for payload in school_day_events(learner, lessons, rng):
                append(db, payload, learner_id=learner.id)
                demo.events += 1
                demo.by_kind[payload.KIND] = demo.by_kind.get(payload.KIND, 0) + 1
    return demo


def bulk_activity(db: sqlite_utils.Database, learners: int, days: int, seed: int = 0,
                  start_ms: int = 1_700_000_000_000) -> Demo:
    """Benchmarks only: the same simulation, roster included (as record.set events without
    PIN hashing), stamped over the simulated days and inserted in bulk."""
    rng = random.Random(seed)
    lessons = course_outline(db, rng)
    dev = device_id(db)
    seq = max_seq(db, dev)
    rows: list[tuple] = []

    def add(payload: Payload, learner: "str | None", ms: int) -> None:
        rows.append((None, dev, 0, format_hlc(ms, 0), payload.KIND, learner, canonical_json(payload.to_body())))

    people: list[DemoLearner] = []
    classes = max(1, -(-learners // 30))
    for c in range(classes):
        cid = uuid.UUID(int=rng.getrandbits(128)).hex
        add(RecordSet("class", cid, {"name": f"Classe {c + 1}", "code": f"{1000 + c}", "login": "pin",
                                     "self_register": False}), None, start_ms)
        for _ in range(min(30, learners - len(people))):
            lid = uuid.UUID(int=rng.getrandbits(128)).hex
            add(RecordSet("learner", lid, {"name": f"{rng.choice(FIRST_NAMES)} {rng.choice(FAMILY_NAMES)}",
                                           "class_id": cid}), lid, start_ms)
            people.append(DemoLearner(lid, cid, rng.uniform(0.6, 0.97), rng.uniform(0.35, 0.9)))
    day_ms = 86_400_000
    for day in school_days(days):
        for learner in people:
            if rng.random() >= learner.presence:
                continue
            ms = start_ms + day * day_ms + rng.randrange(8 * 3_600_000, 16 * 3_600_000)
            for payload in school_day_events(learner, lessons, rng):
                ms += rng.randrange(5_000, 90_000)
                add(payload, learner.id, ms)
    rows.sort(key=lambda r: r[3])  # learners' days interleave: hand out seqs in clock order
    rows = [(f"{dev}:{i}", r[1], i, *r[3:]) for i, r in enumerate(rows, start=seq + 1)]
    with transaction(db):
        records.merge_rows(db, rows)
        observe(db, rows[-1][3])
    kinds: dict = {}
    for r in rows:
        kinds[r[4]] = kinds.get(r[4], 0) + 1
    return Demo(classes, len(people), len(rows), kinds)

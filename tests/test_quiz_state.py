"""The quiz page's pass state, kept in memory between requests (kit.learning.quiz_state with a
cache), is always what reading the whole history gives: as answers are recorded here, sent
twice, or synced from elsewhere with any clock."""

import random
import uuid

from kit import learning
from kit.content import library
from kit.content.questions import type_of
from kit.core.clock import format_hlc
from kit.core.db import transaction
from kit.core.eventlog import insert_rows
from kit.core.events import Event
from kit.server.caches import Cache

LEARNER = "L1"


def quiz_place(db) -> learning.QuizPlace:
    return learning.find_quiz(db, library.get_course(db, "mini"), "passwords", "fr")


def response(q):
    """A right answer; an essay (which the demo never writes) gets a line of text."""
    right = type_of(q).demo_right
    return right(q) if right else "Une réponse pour mon enseignant."


def answer(db, place, qid: str, cache: Cache, token: "str | None" = None) -> learning.Answered:
    q = place.quiz.find(qid)
    return learning.answer_question(db, LEARNER, place, q, response(q), token or str(uuid.uuid4()), cache.get)


def assert_kept_state_is_read_state(db, place, cache: Cache) -> None:
    assert learning.quiz_state(db, LEARNER, place, cache.get) == learning.quiz_state(db, LEARNER, place)


def synced_answer(db, place, qid: str, hlc: str, seq: int) -> None:
    """An answer made on another device, as sync inserts it."""
    q = place.quiz.find(qid)
    event = learning.answer_event(place, q, response(q), str(uuid.uuid4()))
    with transaction(db):
        insert_rows(db, [Event(f"other:{seq}", "other", seq, hlc, event.KIND, LEARNER, event.to_body()).to_row()])


def test_the_kept_state_follows_every_answer_of_random_passes(installed):
    db, place, cache = installed.db, quiz_place(installed.db), Cache(64)
    ids = list(place.outline.answerable)
    rng = random.Random(7)
    for _ in range(40):
        answered = answer(db, place, rng.choice(ids), cache)
        assert answered.state == learning.quiz_state(db, LEARNER, place)       # what the answer says
        assert_kept_state_is_read_state(db, place, cache)
    for qid in ids:                                       # one whole pass: the quiz is finished
        answer(db, place, qid, cache)
    kept = learning.quiz_state(db, LEARNER, place, cache.get)
    assert kept.any_complete and not kept.under_way
    assert_kept_state_is_read_state(db, place, cache)


def test_an_answer_sent_twice_moves_the_kept_state_once(installed):
    db, place, cache = installed.db, quiz_place(installed.db), Cache(64)
    first, second = place.outline.answerable[:2]
    answer(db, place, first, cache, token="t-1")
    answer(db, place, second, cache, token="t-2")
    again = answer(db, place, second, cache, token="t-2")
    assert not again.recorded and again.state.under_way == {first, second}
    assert learning.quiz_state(db, LEARNER, place, cache.get).under_way == {first, second}
    assert_kept_state_is_read_state(db, place, cache)


def test_an_answer_synced_between_two_of_ours_is_counted_in_its_place(installed):
    db, place, cache = installed.db, quiz_place(installed.db), Cache(64)
    first, second = place.outline.answerable[:2]
    answer(db, place, first, cache)
    synced_answer(db, place, first, format_hlc(1_000, 0), 1)     # long ago: it sorts first
    answer(db, place, second, cache)
    assert learning.quiz_state(db, LEARNER, place, cache.get).under_way == {first, second}
    assert_kept_state_is_read_state(db, place, cache)


def test_an_answer_from_a_device_whose_clock_runs_far_ahead_stays_last_in_the_kept_state(installed):
    """Our clock does not follow an implausible one, so our next answer sorts before it: the
    state is not carried past our answer as if it were the last one."""
    db, place, cache = installed.db, quiz_place(installed.db), Cache(64)
    first, second = place.outline.answerable[:2]
    answer(db, place, first, cache)
    synced_answer(db, place, first, format_hlc(99_999_999_999_999, 0), 1)   # year 5138
    learning.quiz_state(db, LEARNER, place, cache.get)                       # kept, that answer last
    answered = answer(db, place, second, cache)                              # sorts before it
    assert learning.quiz_state(db, LEARNER, place).under_way == {first}      # it started a new pass
    assert answered.state == learning.quiz_state(db, LEARNER, place)
    assert_kept_state_is_read_state(db, place, cache)

"""learner_events(..., about=...): a page about one lesson reads only that lesson's events,
picked by SQLite, in the same clock order as the whole history."""

import pytest

from kit.core.eventlog import append, learner_events
from kit.core.events import AnswerRecorded, LessonRead


def test_events_about_a_lesson_are_exactly_that_lessons_events_in_clock_order(inst):
    db = inst.db
    for n in range(3):
        for pack in ("numeracy", "digital-literacy"):
            for lesson in ("fractions", "budget"):
                append(db, LessonRead(pack, lesson, "fr"), learner_id="amina")
                append(db, AnswerRecorded(pack, lesson, "fr", f"q{n}", 1, True, 0), learner_id="amina")
        append(db, LessonRead("numeracy", "fractions", "fr"), learner_id="omar")
    everything = learner_events(db, "amina")

    picked = learner_events(db, "amina", ("quiz.answer",), {"pack": "numeracy", "lesson": "fractions"})
    assert picked == [e for e in everything if e.kind == "quiz.answer"
                      and e.body["pack"] == "numeracy" and e.body["lesson"] == "fractions"]
    assert [e.body["question"] for e in picked] == ["q0", "q1", "q2"]

    course = learner_events(db, "amina", about={"pack": "digital-literacy"})
    assert course == [e for e in everything if e.body["pack"] == "digital-literacy"] and len(course) == 12
    assert learner_events(db, "amina", about={"pack": "nowhere"}) == []


def test_a_body_field_that_is_not_a_plain_name_is_refused(inst):
    with pytest.raises(ValueError):
        learner_events(inst.db, "amina", about={"pack') OR 1=1 --": "x"})


def test_counting_a_learners_events_agrees_with_listing_them(inst):
    from kit.core.eventlog import count_learner_events
    for lesson in ("a", "b", "a"):
        append(inst.db, LessonRead("p", lesson, "fr"), learner_id="L1")
    append(inst.db, AnswerRecorded("p", "a", "fr", "q1", 1, True, 0), learner_id="L1")
    for kinds, about in ((None, None), (("lesson.read",), {"pack": "p", "lesson": "a"}), (("quiz.answer",), {"lesson": "b"})):
        assert count_learner_events(inst.db, "L1", kinds, about) == len(learner_events(inst.db, "L1", kinds, about))
    assert count_learner_events(inst.db, "L1", ("lesson.read",), {"pack": "p", "lesson": "a"}) == 2


def test_a_token_is_looked_up_in_the_index_not_in_every_earlier_answer(inst):
    """An answer's token check reads the index down to the token: its cost does not grow with
    the learner's earlier answers in the lesson (each pass of a quiz adds to them)."""
    db, seen = inst.db, []
    for n in range(3):
        append(db, AnswerRecorded("p", "a", "fr", f"q{n}", 1, True, 0, token=f"t{n}"), learner_id="L1")
    db.conn.set_trace_callback(seen.append)
    try:
        _event, created = append(db, AnswerRecorded("p", "a", "fr", "q0", 1, True, 0, token="t1"), learner_id="L1")
    finally:
        db.conn.set_trace_callback(None)
    assert not created
    lookup = next(sql for sql in seen if sql.startswith("SELECT") and "$.token" in sql)
    plan = " ".join(row[3] for row in db.execute("EXPLAIN QUERY PLAN " + lookup))
    assert "learner_id=? AND kind=? AND <expr>=? AND <expr>=?" in plan, plan

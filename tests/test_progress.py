"""Mastery and progress are computed from a learner's events alone."""

from hypothesis import given, settings, strategies as st

from kit.core.eventlog import append, learner_events
from kit.core.events import AnswerRecorded, Event, LessonRead
from kit.core.progress import (LessonOutline, QuizOutline, course_progress, quiz_progress)

QUIZ = QuizOutline(answerable=("q1", "q2", "q3"), graded=("q1", "q2"), m=2, n=3)
LESSONS = [LessonOutline("01-a", QUIZ), LessonOutline("02-b", None), LessonOutline("03-c", QUIZ)]

def answer(db, question, credit, lesson="01-a", learner="L1"):
    append(db, AnswerRecorded("p", lesson, "fr", question, credit, credit == 1, 0), learner_id=learner)

def one_pass(db, credits, lesson="01-a"):
    for q, c in zip(("q1", "q2", "q3"), credits):
        answer(db, q, c, lesson)

def test_a_pass_ends_when_every_answerable_question_is_answered(inst):
    one_pass(inst.db, [1, 1, 0])
    progress = quiz_progress(learner_events(inst.db, "L1"), "p", "01-a", QUIZ)
    assert len(progress.attempts) == 1 and progress.attempts[0].complete
    assert progress.attempts[0].score == 2 and progress.attempts[0].passed  # essay q3 not graded
    assert progress.current is None and not progress.mastered

def test_answering_a_question_again_starts_a_new_pass(inst):
    answer(inst.db, "q1", 1)
    answer(inst.db, "q2", 0)
    answer(inst.db, "q1", 1)           # the learner started over
    progress = quiz_progress(learner_events(inst.db, "L1"), "p", "01-a", QUIZ)
    assert [a.complete for a in progress.attempts] == [False, False]
    assert list(progress.current.answers) == ["q1"]

def test_mastery_is_m_passed_of_the_last_n_passes_and_it_stays(inst):
    one_pass(inst.db, [1, 0, 0])       # 50 %: not passed
    one_pass(inst.db, [1, 1, 0])
    events = learner_events(inst.db, "L1")
    assert not quiz_progress(events, "p", "01-a", QUIZ).mastered
    one_pass(inst.db, [1, 1, 0])
    progress = quiz_progress(learner_events(inst.db, "L1"), "p", "01-a", QUIZ)
    assert progress.mastered and progress.recent_passes == 2
    for _ in range(3):
        one_pass(inst.db, [0, 0, 0])
    after = quiz_progress(learner_events(inst.db, "L1"), "p", "01-a", QUIZ)
    assert after.mastered and after.recent_passes == 0

def test_old_passes_fall_out_of_the_window(inst):
    outline = QuizOutline(("q1", "q2", "q3"), ("q1", "q2"), m=2, n=2)
    one_pass(inst.db, [1, 1, 0])
    one_pass(inst.db, [0, 0, 0])
    one_pass(inst.db, [1, 1, 0])
    assert not quiz_progress(learner_events(inst.db, "L1"), "p", "01-a", outline).mastered

def test_questions_no_longer_in_the_quiz_are_ignored(inst):
    answer(inst.db, "gone", 1)
    one_pass(inst.db, [1, 1, 0])
    progress = quiz_progress(learner_events(inst.db, "L1"), "p", "01-a", QUIZ)
    assert len(progress.attempts) == 1

def test_a_lesson_is_complete_when_read_or_its_quiz_mastered(inst):
    append(inst.db, LessonRead("p", "02-b", "fr"), learner_id="L1")
    for _ in range(2):
        one_pass(inst.db, [1, 1, 1], lesson="03-c")
    course = course_progress(learner_events(inst.db, "L1"), "p", LESSONS)
    assert [l.complete for l in course.lessons] == [False, True, True]
    assert (course.done, course.total) == (2, 3)
    assert course.resume() == ("01-a", "lesson")

def test_continue_goes_to_a_quiz_left_in_the_middle(inst):
    answer(inst.db, "q1", 1)
    course = course_progress(learner_events(inst.db, "L1"), "p", LESSONS)
    assert course.resume() == ("01-a", "quiz") and course.started

def test_another_learners_events_do_not_count(inst):
    append(inst.db, LessonRead("p", "01-a", "fr"), learner_id="L2")
    course = course_progress(learner_events(inst.db, "L1"), "p", LESSONS)
    assert course.done == 0 and not course.started and course.last_activity_ms is None

def test_a_finished_course_has_nowhere_to_continue(inst):
    for lesson in ("01-a", "02-b", "03-c"):
        append(inst.db, LessonRead("p", lesson, "ar"), learner_id="L1")
    course = course_progress(learner_events(inst.db, "L1"), "p", LESSONS)
    assert course.resume() is None and course.fraction == 1.0

def _event(i, kind, body):
    return Event(f"d:{i}", "d", i, f"{i:013d}-00000", kind, "L1", body)

passes = st.lists(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=3, max_size=3), max_size=8)

@settings(max_examples=60, deadline=None)
@given(passes)
def test_mastery_matches_a_direct_count_of_the_pass_history(history):
    events, i = [], 0
    for credits in history:
        for q, c in zip(("q1", "q2", "q3"), credits):
            i += 1
            events.append(_event(i, "quiz.answer", {"pack": "p", "lesson": "01-a", "question": q,
                                                     "credit": c, "correct": c == 1, "lang": "fr"}))
    progress = quiz_progress(events, "p", "01-a", QUIZ)
    passed = [(c[0] + c[1]) / 2 >= 0.8 for c in history]
    expected = any(sum(passed[max(0, k - QUIZ.n + 1):k + 1]) >= QUIZ.m for k in range(len(passed)))
    assert progress.mastered == expected
    assert len(progress.attempts) == len(history)

@settings(max_examples=30, deadline=None)
@given(st.randoms())
def test_progress_is_the_same_whatever_order_other_courses_events_interleave(rnd):
    own = [_event(i, "lesson.read", {"pack": "p", "lesson": l, "lang": "fr"})
           for i, l in enumerate(["01-a", "02-b"], start=1)]
    noise = [_event(100 + i, "lesson.read", {"pack": "other", "lesson": "01-a", "lang": "fr"}) for i in range(5)]
    mixed = own + noise
    rnd.shuffle(mixed)
    a = course_progress(own, "p", LESSONS)
    b = course_progress(mixed, "p", LESSONS)
    assert [l.complete for l in a.lessons] == [l.complete for l in b.lessons]


def test_a_malformed_answer_synced_from_elsewhere_counts_as_wrong_instead_of_breaking_pages():
    from kit.core.progress import _answers
    bad = [Event(f"d:{i}", "d", i, f"{i:013d}-00000", "quiz.answer", "L",
                 {"pack": "p", "lesson": "l", "question": "q", "credit": credit, "correct": "yes"})
           for i, credit in enumerate(["half", None, float("nan"), 7, [1]], start=1)]
    answers = _answers(bad, "p", "l")
    assert [a.credit for a in answers] == [0.0, 0.0, 0.0, 1.0, 0.0]
    assert not any(a.correct for a in answers)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["q1", "q2", "q3", "gone", 7]), max_size=14))
def test_the_quiz_page_state_from_question_ids_agrees_with_full_progress(questions):
    """The quiz page reads only which questions were answered (kit.learning.quiz_state); it must
    see the same pass under way, and the same 'finished one already', as the whole computation."""
    from kit.core.progress import Answer, _mastery, pass_state
    answers = [Answer(q, 1.0, True, 0, "fr", f"d:{i}") for i, q in enumerate(questions)]
    full = _mastery(answers, QUIZ)
    state = pass_state(questions, QUIZ)
    assert state.under_way == (frozenset(full.current.answers) if full.current else frozenset())
    assert state.any_complete == (full.last_complete is not None)

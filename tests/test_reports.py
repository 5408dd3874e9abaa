"""kit.reports: what a teacher is shown is computed from the events, by the learner's own rules."""

import pytest

from kit.core import roster
from kit import learning
from kit import reports
from kit.content import library
from kit.core.progress import course_progress
from kit.core.eventlog import learner_events

from coach_support import answer, phone_pass, read


@pytest.fixture
def mini(installed):
    return library.get_course(installed.db, "mini")


@pytest.fixture
def cp1(installed):
    return roster.create_class(installed.db, "CP1")


def add(db, klass, name, pin="1234"):
    return roster.add_learner(db, klass.id, name, pin=pin)


def cells(grid, name):
    row = next(r for r in grid.rows if r.learner.name == name)
    return {c.lesson_id: c for c in row.cells}, row


def test_the_grid_has_a_row_per_learner_and_a_column_per_lesson_in_course_order(installed, cp1, mini):
    for name in ["Omar", "amina", "Ébène"]:
        add(installed.db, cp1, name)
    grid = reports.class_grid(installed.db, cp1, mini, "en")
    assert [c.lesson_id for c in grid.columns] == ["passwords", "phone"]
    assert [c.title for c in grid.columns] == ["Passwords", "Phone safety"]
    assert all(c.has_quiz for c in grid.columns)
    assert [r.learner.name for r in grid.rows] == ["amina", "Omar", "Ébène"]
    assert all(not c.started and r.done == 0 and r.total == 2 for r in grid.rows for c in r.cells)


def test_sorting_by_name_goes_both_ways(installed, cp1, mini):
    for name in ["Omar", "Amina", "Zineb"]:
        add(installed.db, cp1, name)
    down = reports.class_grid(installed.db, cp1, mini, "fr", descending=True)
    assert [r.learner.name for r in down.rows] == ["Zineb", "Omar", "Amina"]


def test_lesson_titles_follow_the_teachers_language(installed, cp1, mini):
    grid = reports.class_grid(installed.db, cp1, mini, "ar")
    assert grid.lang == "ar" and grid.columns[0].title == "كلمات المرور"


def test_reads_passes_and_mastery_come_from_the_events(installed, cp1, mini):
    db = installed.db
    amina, omar = add(db, cp1, "Amina"), add(db, cp1, "Omar")
    read(db, amina, "passwords")
    phone_pass(db, omar, right=True)
    phone_pass(db, omar, right=False)
    grid = reports.class_grid(db, cp1, mini, "fr")

    by_lesson, row = cells(grid, "Amina")
    assert by_lesson["passwords"].read and by_lesson["passwords"].started
    assert by_lesson["phone"].last_score is None and not by_lesson["phone"].started
    assert (row.done, row.total, row.fraction) == (1, 2, 0.5)

    by_lesson, row = cells(grid, "Omar")
    phone = by_lesson["phone"]
    assert not phone.read and not phone.mastered      # mini: 2 passed of the last 3 needed
    assert phone.last_score == 0.0                   # the last pass, not the best one
    assert row.done == 0 and row.last_activity_ms

    phone_pass(db, omar, right=True)
    by_lesson, row = cells(reports.class_grid(db, cp1, mini, "fr"), "Omar")
    assert by_lesson["phone"].mastered and by_lesson["phone"].last_score == 1.0
    assert row.done == 1


def test_the_grid_agrees_with_what_the_learner_is_shown(installed, cp1, mini):
    db = installed.db
    amina = add(db, cp1, "Amina")
    read(db, amina, "phone")
    phone_pass(db, amina)
    answer(db, amina, "passwords", "single", 1.0, 1)
    mine = course_progress(learner_events(db, amina.id), "mini", learning.course_outline(db, mini))
    _cells, row = cells(reports.class_grid(db, cp1, mini, "fr"), "Amina")
    assert (row.done, row.total) == (mine.done, mine.total) == (1, 2)


def test_an_unfinished_pass_has_no_score_yet(installed, cp1, mini):
    db = installed.db
    amina = add(db, cp1, "Amina")
    answer(db, amina, "phone", "lock", 1.0, True)
    by_lesson, _row = cells(reports.class_grid(db, cp1, mini, "fr"), "Amina")
    assert by_lesson["phone"].started and by_lesson["phone"].last_score is None


def test_only_the_classes_learners_are_in_its_grid_and_a_removed_one_leaves_it(installed, cp1, mini):
    db = installed.db
    other = roster.create_class(db, "CE1")
    add(db, other, "Elsewhere")
    amina, omar = add(db, cp1, "Amina"), add(db, cp1, "Omar")
    read(db, omar, "phone")
    roster.remove_learner(db, omar.id)
    grid = reports.class_grid(db, cp1, mini, "fr")
    assert [r.learner.id for r in grid.rows] == [amina.id]
    assert [s.learners for s in reports.class_summaries(db, [cp1, other])] == [1, 1]


def test_a_learners_history_lists_reads_and_passes_newest_first(installed, cp1):
    db = installed.db
    amina = add(db, cp1, "Amina")
    read(db, amina, "passwords")
    phone_pass(db, amina, right=False)
    read(db, amina, "phone")
    phone_pass(db, amina, right=True)
    answer(db, amina, "phone", "lock", 1.0, True)    # a third pass, left in the middle
    history = reports.learner_history(db, amina, "en")
    assert [r.place.lesson_title for r in history.reads] == ["Phone safety", "Passwords"]
    assert history.reads[0].at_ms >= history.reads[1].at_ms
    assert [(a.complete, a.score, a.out_of, a.passed) for a in history.attempts] == [
        (False, 1.0, 2, False), (True, 2.0, 2, True), (True, 0.0, 2, False)]
    assert history.attempts[0].place.course_title == "Mini course"
    line = history.courses[0]
    assert (line.course.id, line.done, line.total) == ("mini", 2, 2)


def test_essay_answers_are_kept_as_typed_for_the_teacher(installed, cp1, mini):
    db = installed.db
    amina, omar = add(db, cp1, "Amina"), add(db, cp1, "Omar")
    typed = "Je protège mon code.\n<script>alert(1)</script>"
    answer(db, amina, "passwords", "essay", None, typed, lang="fr")
    answer(db, amina, "passwords", "short", 1.0, "élève")      # not an essay: not listed
    answer(db, omar, "passwords", "essay", None, "كلمة سر قوية", lang="ar")
    essays = reports.learner_history(db, amina, "en").essays
    assert [(e.response, e.lang, e.place.lesson_title) for e in essays] == [(typed, "fr", "Passwords")]
    assert "Write" in essays[0].question_html
    in_class = reports.class_essays(db, cp1, mini, "en")
    assert [(e.learner.name, e.response) for e in in_class] == [("Omar", "كلمة سر قوية"), ("Amina", typed)]


def test_an_essay_carries_the_name_its_question_was_given_in_the_teachers_language(installed, cp1, mini):
    db = installed.db
    amina = add(db, cp1, "Amina")
    answer(db, amina, "passwords", "essay", None, "Long et secret", lang="fr")
    assert [e.question_name for e in reports.learner_history(db, amina, "fr").essays] == ["Mon mot de passe"]
    assert [e.question_name for e in reports.class_essays(db, cp1, mini, "ar")] == ["كلمة السر عندي"]


def test_events_of_a_course_no_longer_installed_are_named_by_their_ids(installed, cp1):
    db = installed.db
    amina = add(db, cp1, "Amina")
    read(db, amina, "lesson-x", pack="gone")
    history = reports.learner_history(db, amina, "fr")
    place = history.reads[0].place
    assert (place.course_title, place.lesson_title) == ("gone", "lesson-x")
    assert history.attempts == ()

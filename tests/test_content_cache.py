"""The server keeps decoded lessons and quizzes in memory (kit.server.caches): what a class sees
must still follow what is installed, at once and without a restart, even when `kit pack
install` or `kit pack remove` runs beside the running server."""

import shutil
from pathlib import Path

import pytest

from kit.content.install import install_pack, remove_pack
from kit.content.pack import build_pack
from kit.core.db import open_db

from server_support import csrf_of, hidden, text

MINI = Path(__file__).parent / "courses" / "mini"
QUIZ = "/c/mini/passwords/quiz"
LESSON = "/c/mini/passwords"


@pytest.fixture
def learner(installed, learner_client):
    """Amina, signed in, on a server with the mini course; its quiz and lesson already seen
    (so both are cached)."""
    assert "Pick B (fr)" in learner_client.get(QUIZ).text
    assert learner_client.get(LESSON).status_code == 200
    return learner_client


def new_version(tmp_path: Path, inst, version: str, edit, name: str = "01-passwords.fr.quiz.yml") -> Path:
    """The mini course at `version`, its French file `name` changed by `edit`, built and signed."""
    source = tmp_path / f"mini-{version}"
    shutil.copytree(MINI, source)
    course = source / "course.yml"
    course.write_text(course.read_text().replace("version: 1.0.0", f"version: {version}"))
    changed = source / name
    changed.write_text(edit(changed.read_text()))
    return build_pack(source, tmp_path / f"packs-{version}", inst.key())


def elsewhere(data):
    """Another connection to the data dir, as `kit pack install` in its own process has."""
    return open_db(data.db_path, migrate=False)


def test_a_new_version_of_a_pack_is_shown_at_once_without_a_restart(learner, inst, data, tmp_path):
    pack = new_version(tmp_path, inst, "1.1.0", lambda t: t.replace("Pick B (fr)", "Choisis B, version 2"))
    db = elsewhere(data)
    install_pack(data, db, pack)
    db.conn.close()
    page = learner.get(QUIZ).text
    assert "Choisis B, version 2" in page and "Pick B (fr)" not in page


def test_a_new_version_of_a_lesson_is_shown_at_once(learner, inst, data, tmp_path):
    pack = new_version(tmp_path, inst, "1.1.0", lambda t: t.replace("protège votre compte", "garde la porte"),
                       "01-passwords.fr.md")
    db = elsewhere(data)
    install_pack(data, db, pack)
    db.conn.close()
    page = text(learner.get(LESSON))
    assert "garde la porte" in page and "protège votre compte" not in page


def test_after_an_upgrade_an_answer_is_graded_by_the_new_key(learner, inst, data, tmp_path):
    swap = lambda t: t.replace('{text: A, feedback: "No"}', '{text: A, correct: true, feedback: "Now A"}', 1) \
        .replace('{text: B, correct: true, feedback: "Yes"}', '{text: B, feedback: "Not any more"}', 1)
    db = elsewhere(data)
    install_pack(data, db, new_version(tmp_path, inst, "1.1.0", swap))
    db.conn.close()
    page = learner.get(QUIZ + "?again=1").text
    assert hidden(page, "question") == "single"
    feedback = learner.post(QUIZ, data={"csrf": csrf_of(page), "question": "single",
                                        "t-single": hidden(page, "t-single"), "a-single": "0"})
    assert feedback.status_code == 200 and "Now A" in text(feedback) and "fb right" in feedback.text


def test_a_removed_packs_quiz_and_lessons_are_404_at_once(learner, data):
    page = learner.get(QUIZ + "?again=1").text
    db = elsewhere(data)
    remove_pack(data, db, "mini")
    db.conn.close()
    assert learner.get(QUIZ).status_code == 404
    assert learner.get(LESSON).status_code == 404
    posted = learner.post(QUIZ, data={"csrf": csrf_of(page), "question": "single",
                                      "t-single": hidden(page, "t-single"), "a-single": "1"})
    assert posted.status_code == 404


def test_a_pack_removed_then_reinstalled_at_another_version_shows_that_version(learner, inst, data, tmp_path):
    db = elsewhere(data)
    remove_pack(data, db, "mini")
    install_pack(data, db, new_version(tmp_path, inst, "0.9.0", lambda t: t.replace("Pick B (fr)", "Une version plus ancienne")))
    db.conn.close()
    assert "Une version plus ancienne" in learner.get(QUIZ).text


def test_a_pack_removed_and_reinstalled_at_the_same_version_with_other_content_shows_the_new_content(
        learner, inst, data, tmp_path):
    # A publisher who rebuilt 1.0.0 with a fix: same version, other content, installed within
    # the same second as the removal; what the cache keys on must still tell them apart.
    pack = new_version(tmp_path, inst, "1.0.0", lambda t: t.replace("Pick B (fr)", "Choisis B, corrigé"))
    db = elsewhere(data)
    remove_pack(data, db, "mini")
    install_pack(data, db, pack)
    db.conn.close()
    page = learner.get(QUIZ).text
    assert "Choisis B, corrigé" in page and "Pick B (fr)" not in page

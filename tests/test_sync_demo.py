"""`kit demo activity`: realistic activity through the real code paths, and its bulk twin."""

from __future__ import annotations

import json

from click.testing import CliRunner

from kit.core import records, roster
from kit.cli import main
from kit.content.install import install_pack
from kit.content.pack import build_pack
from kit.demo import bulk_activity, generate_activity
from kit.core.eventlog import version_vector
from conftest import MINI
from syncworld import server


def kinds(inst) -> dict:
    return dict(inst.db.execute("SELECT kind, COUNT(*) FROM events GROUP BY kind").fetchall())


def test_demo_makes_classes_learners_and_graded_answers_from_installed_packs(tmp_path):
    inst = server(tmp_path, "Demo School")
    install_pack(inst.data, inst.db, build_pack(MINI, tmp_path / "packs", inst.key()), update_search=False)
    demo = generate_activity(inst.db, learners=12, days=7, seed=1)
    assert (demo.classes, demo.learners) == (1, 12)
    assert len(roster.list_classes(inst.db)) == 1 and len(records.all_of(inst.db, "learner")) == 12
    assert demo.events == inst.db["events"].count == sum(kinds(inst).values())
    answers = [json.loads(b) for (b,) in inst.db.execute("SELECT body FROM events WHERE kind = 'quiz.answer'")]
    assert answers and {a["pack"] for a in answers} == {"mini"}
    right = sum(a["correct"] for a in answers)
    assert 0 < right < len(answers)  # plausible: mostly right, some mistakes
    assert all(set(a) == {"pack", "lesson", "lang", "question", "credit", "correct", "response", "token"} for a in answers)
    inst.close()


def test_the_same_seed_makes_the_same_activity(tmp_path):
    shapes = []
    for name in ("One", "Two"):
        inst = server(tmp_path, name)
        generate_activity(inst.db, learners=5, days=5, seed=3)
        rows = inst.db.execute("SELECT kind, body FROM events WHERE kind != 'record.set' ORDER BY seq").fetchall()
        # ids are UUIDs made by kit.core.roster; everything else follows from the seed
        shapes.append([(kind, {k: v for k, v in json.loads(body).items() if k != "class_id"}) for kind, body in rows])
        inst.close()
    assert shapes[0] == shapes[1] and shapes[0]


def test_bulk_activity_makes_the_same_kinds_of_events_with_gapless_seqs(tmp_path):
    a, b = server(tmp_path, "Real"), server(tmp_path, "Bulk")
    generate_activity(a.db, learners=8, days=14, seed=2)
    bulk = bulk_activity(b.db, learners=8, days=14, seed=2)
    assert set(kinds(a)) == set(kinds(b)) == {"record.set", "signin", "lesson.read", "quiz.answer"}
    assert version_vector(b.db) == {b.device_id: bulk.events}
    assert len(records.all_of(b.db, "learner")) == 8
    a.close(), b.close()


def test_kit_demo_activity_command(tmp_path):
    inst = server(tmp_path, "Cli School")
    inst.close()
    out = CliRunner().invoke(main, ["demo", "activity", "--learners", "4", "--days", "3", "--data", str(inst.data.root)])
    assert out.exit_code == 0 and "Made 1 classes, 4 learners" in out.output, out.output

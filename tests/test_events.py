"""Events are typed, stored in one text form, and kept by one module; the kit has no import circles."""

import ast
import json
import re
from pathlib import Path

import pytest

from kit.core.events import (PAYLOADS, AnswerRecorded, Event, LessonRead, RecordDelete, RecordSet, SignedIn,
                             canonical_json)

KIT = Path(__file__).resolve().parent.parent / "kit"

# Bodies as the kit has written them, byte for byte (canonical JSON).
BODIES = [
    (RecordSet, '{"fields":{"class_id":"c1","name":"Aïcha"},"id":"6d1c","kind":"learner"}'),
    (RecordSet, '{"fields":{"coaches":["prof"],"code":"1234","login":"pin","name":"CP1","self_register":false},'
                '"id":"c1","kind":"class"}'),
    (RecordDelete, '{"id":"6d1c","kind":"learner"}'),
    (SignedIn, '{"class_id":"c1"}'),
    (LessonRead, '{"lang":"fr","lesson":"01-fractions","pack":"numeracy"}'),
    (LessonRead, '{"lang":"ar","lesson":"01","pack":"numeracy","token":"5b0c6c1e-8a1f-4e57-9d1a-2f0e8d1c3b4a"}'),
    (AnswerRecorded, '{"correct":false,"credit":0.5,"lang":"fr","lesson":"01","pack":"numeracy","question":"q2",'
                     '"response":[0,2],"token":"9e41"}'),
    (AnswerRecorded, '{"correct":true,"credit":1,"lang":"fr","lesson":"01","pack":"p","question":"q1","response":0}'),
    (AnswerRecorded, '{"correct":false,"credit":null,"lang":"ar","lesson":"01","pack":"p","question":"essay",'
                     '"response":"نص المقال","token":"t"}'),
]


@pytest.mark.parametrize("kind, text", BODIES, ids=[f"{k.KIND}-{i}" for i, (k, _) in enumerate(BODIES)])
def test_a_body_reads_as_its_type_and_writes_back_to_the_same_bytes(kind, text):
    event = Event("d:1", "d", 1, "0000000000001-00000", kind.KIND, "L1", json.loads(text))
    typed = event.payload()
    assert type(typed) is kind and typed.VERSION == 1
    assert canonical_json(typed.to_body()) == text
    assert Event.from_row(event.to_row()) == event and event.to_row()[6] == text


def test_every_kind_has_its_own_type():
    assert sorted(PAYLOADS) == ["lesson.read", "quiz.answer", "record.delete", "record.set", "signin"]
    assert Event("d:1", "d", 1, "0000000000001-00000", "poll.vote", None, {"x": 1}).payload() is None


@pytest.mark.parametrize("credit", ["half", None, float("nan"), True, [1], {"a": 1}, -3])
def test_a_malformed_synced_answer_reads_as_credit_0_and_never_raises(credit):
    body = {"pack": 5, "lesson": None, "question": ["q"], "credit": credit, "correct": "yes", "response": {"x": 1}}
    answer = Event("d:1", "d", 1, "0000000000001-00000", "quiz.answer", "L", body).payload()
    assert (answer.credit or 0) == 0 and answer.correct is False
    assert (answer.pack, answer.lesson, answer.question, answer.lang, answer.token) == ("", "", "", "", None)


def test_a_credit_out_of_range_is_clamped():
    assert AnswerRecorded.from_body({"credit": 7}).credit == 1.0
    assert AnswerRecorded.from_body({"credit": 0.25}).credit == 0.25


def test_a_body_that_is_not_an_object_reads_as_an_empty_one():
    assert Event("d:1", "d", 1, "0000000000001-00000", "signin", "L", []).payload() == SignedIn("")


def test_canonical_json_is_sorted_compact_and_keeps_unicode():
    assert canonical_json({"b": 1, "a": ["é", 1.0, None]}) == '{"a":["é",1.0,null],"b":1}'


# --- one owner of the events table -------------------------------------------------------------

STORE = KIT / "core" / "eventlog.py"
MIGRATIONS = KIT / "core" / "db.py"
EVENTS_SQL = re.compile(r"\b(FROM|INTO|UPDATE|JOIN)\s+events\b")


def _strings(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node


def _migration_strings(tree: ast.AST) -> set:
    """String nodes inside `MIGRATIONS = [...]`: history, never edited, so allowed."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if any(isinstance(t, ast.Name) and t.id == "MIGRATIONS" for t in targets):
                return {id(n) for n in _strings(node)}
    return set()


def _is_db(node: ast.AST) -> bool:
    return (isinstance(node, ast.Name) and node.id == "db") or (isinstance(node, ast.Attribute) and node.attr == "db")


def test_only_the_event_log_runs_sql_on_the_events_table():
    offenders = []
    for path in sorted(KIT.rglob("*.py")):
        if path == STORE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        allowed = _migration_strings(tree) if path == MIGRATIONS else set()
        for node in _strings(tree):
            if id(node) not in allowed and EVENTS_SQL.search(node.value):
                offenders.append(f"{path.relative_to(KIT.parent)}:{node.lineno}")
        for node in ast.walk(tree):  # sqlite-utils' table API counts too: db["events"], inst.db["events"]
            if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) \
                    and node.slice.value == "events" and _is_db(node.value):
                offenders.append(f"{path.relative_to(KIT.parent)}:{node.lineno}")
    assert offenders == [], "SQL on `events` outside kit/core/eventlog.py: " + ", ".join(offenders)


# --- no import circles ----------------------------------------------------------------------------

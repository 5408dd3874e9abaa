"""Every registered question type is whole: stored, shown without its key, answered through a
form, graded, described, drawn by its own template, and named in the authors' docs."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest
from werkzeug.datastructures import MultiDict

from kit.content.questions import NAMES, TYPES, describe, grade, public_view, read_form, type_of
from kit.content.questions.model import Answer, Question, QuestionType

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "kit" / "content" / "questions"
TEMPLATES = ROOT / "kit" / "server" / "templates" / "learn" / "questions"
SEED = "a-form-token"

# One question of each type, its secrets marked "zz" so that a page showing one is caught.
EXAMPLES = {
    "single": Question("s", "single", "Pick one", hint="A hint", general_feedback="zz general", answers=[
        Answer("Paris", 1.0, "zz right"), Answer("Lyon", 0.0, "zz wrong")]),
    "multiple": Question("m", "multiple", "Pick two", answers=[
        Answer("a", 0.5, "zz a"), Answer("b", 0.5), Answer("c", -0.5, "zz c")]),
    "truefalse": Question("t", "truefalse", "The sea is salty", answer=True,
                          feedback_true="zz yes", feedback_false="zz no"),
    "short": Question("sh", "short", "Capital of Morocco?", answers=[Answer("zzrabat", 1.0, "zz ok")]),
    "numeric": Question("n", "numeric", "How much?", answers=[Answer(value=4242.0, tolerance=0.5, credit=1.0)]),
    "matching": Question("ma", "matching", "Match", pairs=[("Wi-Fi", "wireless"), ("USB", "cable")],
                         distractors=["paper"]),
    "ordering": Question("o", "ordering", "In order", items=["first", "second", "third", "fourth"]),
    "essay": Question("e", "essay", "Tell us", general_feedback="zz thanks"),
    "description": Question("d", "description", "Read this first."),
}


def right_form(q: Question) -> MultiDict:
    """The fields a learner posts for the right answer, as the type's template names them."""
    name, view = f"a-{q.id}", public_view(q, SEED)
    if q.type == "matching":
        return MultiDict({f"{name}-{i}": str(view["choices"].index(right)) for i, (_, right) in enumerate(q.pairs)})
    if q.type == "ordering":
        return MultiDict({f"{name}-{i}": str(view["items"].index(item)) for i, item in enumerate(q.items)})
    return MultiDict({"single": [(name, "0")], "multiple": [(name, "0"), (name, "1")],
                      "truefalse": [(name, "true")], "short": [(name, " ZZRABAT ")],
                      "numeric": [(name, "4 242,3")], "essay": [(name, "My text")]}[q.type])


def test_the_registry_lists_exactly_the_types_the_docs_name():
    docs = (ROOT / "docs" / "course-format.md").read_text(encoding="utf-8")
    yaml_block = docs.split("## Quizzes in YAML", 1)[1].split("```yaml", 1)[1].split("```", 1)[0]
    assert list(NAMES) == re.findall(r"^\s+type: (\w+)", yaml_block, re.M)


def test_every_type_module_is_registered():
    modules = {p.stem for p in PACKAGE.glob("*.py")} - {"__init__", "model", "answers"}
    assert modules == set(NAMES) == set(EXAMPLES)
    assert len(NAMES) == len(set(NAMES))


@pytest.mark.parametrize("qtype", TYPES, ids=NAMES)
def test_every_type_round_trips_through_a_pack(qtype: QuestionType):
    q = EXAMPLES[qtype.name]
    stored = json.loads(json.dumps(q.to_dict()))
    assert Question.from_dict(stored) == q
    assert Question.from_dict(stored).to_dict() == stored


@pytest.mark.parametrize("qtype", TYPES, ids=NAMES)
def test_every_example_passes_its_type_checks(qtype: QuestionType):
    from kit.content.questions import check_question
    assert check_question(EXAMPLES[qtype.name]) == []


@pytest.mark.parametrize("qtype", TYPES, ids=NAMES)
def test_every_public_view_keeps_the_key_hidden(qtype: QuestionType):
    q = EXAMPLES[qtype.name]
    view = public_view(q, SEED)
    shown = json.dumps(view, ensure_ascii=False)
    assert "zz" not in shown and "credit" not in shown and "4242" not in shown and "answer" not in view
    assert (view["id"], view["type"], view["text"]) == (q.id, q.type, q.text)
    if q.type == "ordering":
        assert view["items"] != q.items and sorted(view["items"]) == sorted(q.items)


@pytest.mark.parametrize("qtype", [t for t in TYPES if t.answerable], ids=lambda t: t.name)
def test_every_answerable_type_has_a_template(qtype: QuestionType):
    assert (TEMPLATES / f"{qtype.name}.html").is_file()


def test_templates_are_only_for_registered_answerable_types():
    assert {p.stem for p in TEMPLATES.glob("*.html")} == {t.name for t in TYPES if t.answerable}


@pytest.mark.parametrize("qtype", [t for t in TYPES if t.answerable], ids=lambda t: t.name)
def test_a_posted_form_reads_into_a_response_the_grader_takes(qtype: QuestionType):
    q = EXAMPLES[qtype.name]
    response, message = read_form(q, right_form(q), SEED)
    assert message == "" and response is not None
    marked = grade(q, json.loads(json.dumps(response)))  # as an event stores it
    assert marked.correct if qtype.auto_graded else marked.credit is None
    assert describe(q, response), "a recorded response is described to the learner"


@pytest.mark.parametrize("qtype", [t for t in TYPES if t.answerable], ids=lambda t: t.name)
def test_an_empty_form_asks_for_an_answer(qtype: QuestionType):
    response, message = read_form(EXAMPLES[qtype.name], MultiDict(), SEED)
    assert response is None and message.endswith(".")


def test_a_description_takes_no_answer_and_is_not_graded():
    q = EXAMPLES["description"]
    assert not type_of(q).answerable and not type_of(q).auto_graded
    with pytest.raises(ValueError):
        read_form(q, MultiDict({"a-d": "x"}), SEED)
    assert grade(q, None).credit is None


def test_only_essay_and_description_are_left_ungraded():
    assert [t.name for t in TYPES if not t.auto_graded] == ["essay", "description"]
    assert [t.name for t in TYPES if not t.answerable] == ["description"]


@pytest.mark.parametrize("qtype", [t for t in TYPES if t.auto_graded], ids=lambda t: t.name)
def test_demo_answers_are_right_and_wrong(qtype: QuestionType):
    q = EXAMPLES[qtype.name]
    assert grade(q, qtype.demo_right(q)).correct
    rng = random.Random(3)
    assert not all(grade(q, qtype.demo_wrong(q, rng)).correct for _ in range(5))


def test_truefalse_is_described_in_the_pages_language():
    assert describe(EXAMPLES["truefalse"], True, {"True": "Vrai"}.get) == ["Vrai"]


GIFT = {"single": "Q {=a ~b}", "multiple": "Q {~%50%a ~%50%b ~c}", "truefalse": "Q {T}", "short": "Q {=a =b}",
        "numeric": "Q {#3:1}", "matching": "Q {=a -> 1 =b -> 2}", "essay": "Q {}", "description": "Q"}


@pytest.mark.parametrize("name", sorted(GIFT))
def test_gift_writes_every_type_but_ordering(name: str):
    from kit.content.quiz import parse_gift
    assert [q.type for q in parse_gift(GIFT[name]).questions] == [name]
    assert set(NAMES) - set(GIFT) == {"ordering"}  # GIFT has no ordering questions

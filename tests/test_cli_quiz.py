"""`kit quiz check` through click's runner: summary, JSON, and every problem with its exit code."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner
from conftest import corpus

from kit.cli import main


def kit(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_a_good_gift_file_gets_a_one_line_summary():
    path = corpus("gift-moodle", "examples.gift")
    result = kit("quiz", "check", str(path))
    assert result.exit_code == 0
    assert result.output == (f"OK {path}: 43 questions (16 single, 2 multiple, 5 truefalse, 9 short, "
                             "8 numeric, 3 matching)\n")


def test_a_good_yaml_file_gets_a_one_line_summary(tmp_path: Path):
    path = write(tmp_path, "01-x.fr.quiz.yml", 'questions:\n  - {id: a, type: truefalse, text: "Vrai ?", answer: true}\n')
    result = kit("quiz", "check", path)
    assert (result.exit_code, result.output) == (0, f"OK {path}: 1 question (1 truefalse)\n")


def test_json_shows_answers_credits_feedback_tolerances_and_categories():
    result = kit("quiz", "check", str(corpus("gift-moodle", "questions.gift")), "--json")
    assert result.exit_code == 0
    questions = {q["id"]: q for q in json.loads(result.output)["questions"]}
    assert len(questions) == 9
    assert questions["q5"]["answers"] == [
        {"text": "", "credit": 1.0, "value": 3.0, "tolerance": 2.0},
        {"text": "*", "credit": 0.0, "feedback": "Completely wrong"}]
    assert questions["colours"]["answers"][1] == {"text": "red", "credit": -1.0, "feedback": "wrong"}
    assert questions["q1"]["general_feedback"].startswith("This is, of course")
    assert questions["shortanswer"]["line"] == 34


def test_json_keeps_the_category_and_non_latin_text(tmp_path: Path):
    path = write(tmp_path, "q.gift", "$CATEGORY: الحساب\n\nكم يساوي ٣ + ٤ ؟ {#7:0.5}\n")
    result = kit("quiz", "check", path, "--json")
    question = json.loads(result.output)["questions"][0]
    assert (question["category"], question["text"]) == ("الحساب", "كم يساوي ٣ + ٤ ؟")
    assert question["answers"] == [{"text": "", "credit": 1.0, "value": 7.0, "tolerance": 0.5}]
    assert "الحساب" in result.output  # readable, not \u escapes


def test_every_problem_is_listed_with_file_and_line_and_exits_1(tmp_path: Path):
    path = write(tmp_path, "bad.gift", "Q1 {=a ~b\n\nQ2 {foo}\n\nFine {T}\n")
    result = kit("quiz", "check", path)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"  {path}:1: question q1: the answer block {{ is not closed with }}",
        f"  {path}:3: question q2: 'foo' comes before the first answer; start each accepted answer with =, "
        "or use {T} / {F} for true-false",
        f"error: {path}: 2 problem(s) in the quiz; fix them and try again"]


def test_yaml_problems_are_listed_too_and_json_prints_nothing(tmp_path: Path):
    path = write(tmp_path, "bad.quiz.yml", "questions:\n  - {id: a, type: single, text: t, answers: [{text: x}]}\n")
    result = kit("quiz", "check", path, "--json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{path}:2: question a: a single question needs at least 2 answers, has 1" in result.stderr


def test_a_file_that_is_not_a_quiz_is_refused(tmp_path: Path):
    result = kit("quiz", "check", write(tmp_path, "notes.txt", "hello"))
    assert result.exit_code == 1
    assert "not a quiz file; name it <lesson>.<lang>.quiz.yml or .gift" in result.output


def test_a_missing_file_is_a_usage_error(tmp_path: Path):
    result = kit("quiz", "check", str(tmp_path / "absent.gift"))
    assert result.exit_code == 2
    assert "does not exist" in result.output


def test_an_arabic_quiz_warns_with_file_and_line_where_a_formula_is_unsure_and_still_passes(tmp_path: Path):
    path = write(tmp_path, "01-x.ar.quiz.yml", "questions:\n"
                 '  - {id: a, type: truefalse, text: "صحيح؟", answer: true}\n'
                 "  - id: b\n    type: truefalse\n"
                 '    text: "أرسل الرمز و200 درهم."\n'
                 "    answer: false\n"
                 '    feedback: {true: "لا.", false: "نعم: = 40 + 2."}\n')
    result = kit("quiz", "check", path)
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == (f"{path}:5: warning: the number in 'و200' touches an Arabic word; put a space between "
                        "them, or the number may be drawn on the wrong side")
    assert lines[1].startswith(f"{path}:7: warning: the '=' next to '40 + 2' has neutral characters on both sides")
    assert lines[2] == f"OK {path}: 2 questions (2 truefalse)"


def test_the_same_text_in_french_gets_no_warning(tmp_path: Path):
    path = write(tmp_path, "01-x.fr.quiz.yml", 'questions:\n  - {id: b, type: truefalse, text: "= 40 + 2 et x200", answer: true}\n')
    assert kit("quiz", "check", path).output == f"OK {path}: 1 question (1 truefalse)\n"

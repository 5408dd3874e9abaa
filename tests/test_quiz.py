"""The quiz model: YAML quizzes, their checks, grading of every type, and what a page may show."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from kit.content.questions import NAMES, grade, public_view
from kit.content.questions.matching import choices as match_choices
from kit.content.questions.model import Answer, Question
from kit.content.questions.numeric import parse_number
from kit.content.questions.ordering import shown_order, unshuffle
from kit.content.quiz import Quiz, QuizError, load_quiz, parse_quiz_yaml

SAMPLE = textwrap.dedent("""\
    mastery: {m: 3, n: 5}
    questions:
      - id: q1
        type: single
        text: Que faut-il faire quand une mise à jour est proposée ?
        hint: Pensez aux failles de sécurité.
        answers:
          - {text: L'installer rapidement, correct: true, feedback: "Oui, elle corrige des failles."}
          - {text: L'ignorer, feedback: Non.}
          - {text: La reporter, credit: 0.25, feedback: Pas trop longtemps.}
      - id: q2
        type: multiple
        text: Lesquels sont des mots de passe forts ?
        answers:
          - {text: "cheval-agrafe-batterie", credit: 0.5, feedback: "Oui, long."}
          - {text: "T7#kq!2z9", credit: 0.5}
          - {text: "123456", credit: -0.5, feedback: "Non !"}
      - id: q3
        type: truefalse
        text: Un antivirus suffit.
        answer: false
        feedback: {true: "Non, il faut aussi des mises à jour.", false: Exact.}
      - id: q4
        type: short
        text: Quel organisme protège les données au Maroc ?
        answers:
          - {text: CNDP, credit: 1, feedback: Oui.}
          - {text: Commission nationale, credit: 1}
          - {text: Commission, credit: 0.5, feedback: "Laquelle ?"}
          - {text: مدرسة, credit: 1}
          - {text: 1984}
      - id: q5
        type: numeric
        text: Combien font 25 % de 80 ?
        answers:
          - {value: 20, tolerance: 0, credit: 1, feedback: Bravo.}
          - {min: 19, max: 21, credit: 0.5, feedback: Presque.}
      - id: q6
        type: matching
        text: Associez.
        pairs:
          - {left: Wi-Fi, right: sans fil}
          - {left: USB, right: câble}
          - {left: Bluetooth, right: sans fil}
        distractors: [papier]
      - id: q7
        type: ordering
        text: Dans l'ordre.
        items: [allumer, déverrouiller, ouvrir l'application]
      - id: q8
        type: essay
        text: Racontez.
        feedback: Merci, votre enseignant lira votre réponse.
      - id: q9
        type: description
        text: Lisez ceci.
    """)


@pytest.fixture
def quiz(tmp_path: Path) -> Quiz:
    path = tmp_path / "01-smartphone.fr.quiz.yml"
    path.write_text(SAMPLE, encoding="utf-8")
    return load_quiz(path)


def q(quiz: Quiz, qid: str) -> Question:
    found = quiz.find(qid)
    assert found is not None
    return found


def problems_of(text: str) -> list[str]:
    with pytest.raises(QuizError) as e:
        parse_quiz_yaml(textwrap.dedent(text), "quiz.yml")
    return [str(p) for p in e.value.problems]


# ------------------------------------------------------------------------------------ reading

def test_sample_quiz_reads_every_type_with_its_source_line(quiz: Quiz):
    assert [x.type for x in quiz.questions] == list(NAMES)
    assert [x.line for x in quiz.questions] == [3, 11, 18, 23, 32, 38, 46, 50, 54]
    assert (quiz.mastery_m, quiz.mastery_n) == (3, 5)


def test_single_answer_marked_correct_gets_full_credit(quiz: Quiz):
    single = q(quiz, "q1")
    assert [a.credit for a in single.answers] == [1.0, 0.0, 0.25]
    assert single.answers[0].feedback == "Oui, elle corrige des failles."
    assert single.hint == "Pensez aux failles de sécurité."


def test_texts_that_look_like_numbers_stay_text(quiz: Quiz):
    assert q(quiz, "q4").answers[-1].text == "1984"
    assert q(quiz, "q4").answers[-1].credit == 1.0  # a listed short answer is accepted in full


def test_truefalse_feedback_is_kept_per_choice(quiz: Quiz):
    tf = q(quiz, "q3")
    assert tf.answer is False
    assert (tf.feedback_true, tf.feedback_false) == ("Non, il faut aussi des mises à jour.", "Exact.")


def test_multiple_correct_flags_without_credits_share_the_credit():
    quiz = parse_quiz_yaml(textwrap.dedent("""\
        questions:
          - {id: m, type: multiple, text: t, answers: [{text: a, correct: true}, {text: b, correct: true},
             {text: c, correct: true}, {text: d}]}
        """))
    assert [round(a.credit, 4) for a in quiz.questions[0].answers] == [0.3333, 0.3333, 0.3333, 0.0]


def test_questions_without_ids_are_numbered_by_position():
    quiz = parse_quiz_yaml("questions:\n  - {type: essay, text: a}\n  - {type: essay, text: b}\n")
    assert [x.id for x in quiz.questions] == ["q1", "q2"]


def test_load_quiz_refuses_an_unknown_suffix(tmp_path: Path):
    path = tmp_path / "quiz.txt"
    path.write_text(SAMPLE, encoding="utf-8")
    with pytest.raises(QuizError, match="not a quiz file"):
        load_quiz(path)


def test_load_quiz_reads_a_bom(tmp_path: Path):
    path = tmp_path / "q.quiz.yml"
    path.write_bytes(b"\xef\xbb\xbf" + SAMPLE.encode("utf-8"))
    assert len(load_quiz(path).questions) == 9


def test_load_quiz_names_the_line_of_bytes_that_are_not_utf8(tmp_path: Path):
    path = tmp_path / "q.quiz.yml"
    path.write_bytes(b"questions:\n  - {type: essay, text: \xe9t\xe9}\n")
    with pytest.raises(QuizError) as e:
        load_quiz(path)
    assert [p.line for p in e.value.problems] == [2]


def test_missing_file_is_a_quiz_error(tmp_path: Path):
    with pytest.raises(QuizError, match="cannot read"):
        load_quiz(tmp_path / "absent.quiz.yml")


# ------------------------------------------------------------------------------------ problems

def test_every_problem_is_reported_with_its_line():
    found = problems_of("""\
        questions:
          - id: a
            type: single
            text: no correct answer
            answers: [{text: x}, {text: y}]
          - id: b
            type: single
            text: two correct
            answers: [{text: x, correct: true}, {text: y, correct: true}]
          - id: c
            type: multiple
            text: credits sum to 0.8
            answers: [{text: x, credit: 0.4}, {text: y, credit: 0.4}, {text: z}]
          - id: a
            type: essay
            text: same id as the first
          - id: e
            type: riddle
            text: unknown type
          - id: f
            type: essay
          - id: g
            type: numeric
            text: no value
            answers: [{credit: 1}]
          - id: h
            type: matching
            text: one pair
            pairs: [{left: a, right: b}]
          - id: i
            type: ordering
            text: one item
            items: [only]
          - id: j
            type: truefalse
            text: no answer
        """)
    assert found == [
        "quiz.yml:2: question a: needs exactly one correct answer, has 0 (YAML: correct: true; GIFT: =answer)",
        "quiz.yml:6: question b: needs exactly one correct answer, has 2 (YAML: correct: true; GIFT: =answer)",
        "quiz.yml:10: question c: the credits of the correct answers sum to 0.8; they must sum to 1",
        "quiz.yml:18: question e: type 'riddle' is unknown; use one of " + ", ".join(NAMES),
        "quiz.yml:20: question f: has no text",
        "quiz.yml:25: question g: answer 1 needs either a value (with a tolerance) or a range min..max",
        "quiz.yml:26: question h: a matching question needs at least 2 pairs, has 1",
        "quiz.yml:30: question i: an ordering question needs at least 2 items, has 1",
        "quiz.yml:34: question j: needs its answer: true or false",
        "quiz.yml:14: question id 'a' is used twice (first at line 2); ids must be unique",
    ]


def test_unknown_keys_and_wrong_value_types_are_named():
    found = problems_of("""\
        questions:
          - id: a
            type: single
            text: t
            anwsers: []
          - id: b
            type: numeric
            text: t
            answers:
              - {value: twenty}
              - {value: 20, correct: true}
          - id: c
            type: truefalse
            text: t
            answer: maybe
        """)
    assert found == [
        "quiz.yml:5: question a: unknown key 'anwsers' for a single question",
        "quiz.yml:10: question b: answer 1: value must be a number, not 'twenty'",
        "quiz.yml:11: question b: answer 2 has unknown key 'correct'; use credit, feedback, max, min, tolerance, value",
        "quiz.yml:15: question c: answer must be true or false",
    ]


def test_a_comma_in_unquoted_flow_text_is_explained():
    found = problems_of("""\
        questions:
          - id: q1
            type: single
            text: t
            answers:
              - {text: L'installer, correct: true, feedback: Oui, elle corrige des failles.}
              - {text: L'ignorer}
        """)
    assert found == ["quiz.yml:6: question q1: answer 1 has unknown key 'elle corrige des failles.'; use correct, "
                     "credit, feedback, text (a comma in unquoted text starts a new key: quote the text)"]


def test_invalid_yaml_names_its_line():
    found = problems_of("questions:\n  - id: a\n    text: [unclosed\n")
    assert len(found) == 1 and found[0].startswith("quiz.yml:4: not valid YAML")


def test_broken_yaml_gets_a_line_and_a_quoting_hint():
    found = problems_of("questions:\n  - {type: truefalse, text: Vrai, answer: true\n")
    assert len(found) == 1 and found[0].startswith("quiz.yml:") and "not valid YAML" in found[0]
    assert found[0].endswith("(put texts with : ? # , [ ] { } in quotes)")


@pytest.mark.parametrize("text, expected", [
    ("", "quiz.yml:1: the file is empty; a quiz needs a `questions:` list"),
    ("- a\n- b\n", "quiz.yml:1: a quiz file is a mapping with a `questions:` list"),
    ("questions: []\n", "quiz.yml:1: a quiz needs a non-empty `questions:` list"),
    ("questions: [{type: essay, text: a}]\nmastery: {m: 6, n: 5}\n",
     "quiz.yml: mastery needs whole numbers 1 <= m <= n, e.g. {m: 3, n: 5}"),
    ("questions: [{type: essay, text: a}]\ntitle: x\n",
     "quiz.yml:2: unknown key 'title' (a quiz has questions and mastery)"),
    ("questions: [{type: short, text: a, answers: [{text: b, credit: 0.5}]}]\n",
     "quiz.yml:1: question q1: no answer gives full credit; give one credit 1"),
    ("questions: [{type: essay, text: a, id: 'x y'}]\n",
     "quiz.yml:1: question x y: id must be letters, digits, '-', '_' or '.' (at most 64)"),
    ("questions: [{type: ordering, text: a, items: [x, X]}]\n",
     "quiz.yml:1: question q1: two items have the same text, so their order cannot be graded"),
    ("questions: [{type: single, text: a, answers: [{text: x, credit: 2}, {text: y, correct: true}]}]\n",
     "quiz.yml:1: question q1: answer 1 has credit 2; credits go from -1 to 1"),
    ("questions: [{type: numeric, text: a, answers: [{min: 5, max: 1}]}]\n",
     "quiz.yml:1: question q1: answer 1 needs a range with min <= max"),
    ("questions: [{type: single, text: a, answers: [x, y]}]\n",
     "quiz.yml:1: question q1: answer 1 must be a mapping such as {text: ..., correct: true}"),
])
def test_each_mistake_is_explained(text: str, expected: str):
    assert expected in problems_of(text)


# ------------------------------------------------------------------------------------ grading

@pytest.mark.parametrize("response, credit, feedback", [
    (0, 1.0, ["Oui, elle corrige des failles."]),
    (1, 0.0, ["Non."]),
    (2, 0.25, ["Pas trop longtemps."]),
])
def test_single_scores_the_chosen_answer(quiz: Quiz, response, credit, feedback):
    g = grade(q(quiz, "q1"), response)
    assert (g.credit, g.correct, g.feedback) == (credit, credit == 1.0, feedback)


@pytest.mark.parametrize("response, credit", [
    ([0, 1], 1.0), ([1, 0], 1.0), ([0], 0.5), ([0, 1, 2], 0.5), ([2], 0.0), ([], 0.0), ([0, 0], 0.5),
])
def test_multiple_sums_chosen_credits_within_0_and_1(quiz: Quiz, response, credit):
    assert grade(q(quiz, "q2"), response).credit == credit


def test_multiple_shows_feedback_of_each_chosen_answer(quiz: Quiz):
    assert grade(q(quiz, "q2"), [0, 2]).feedback == ["Oui, long.", "Non !"]


def test_truefalse_gives_the_feedback_of_the_choice(quiz: Quiz):
    right, wrong = grade(q(quiz, "q3"), False), grade(q(quiz, "q3"), True)
    assert (right.credit, right.correct, right.feedback) == (1.0, True, ["Exact."])
    assert (wrong.credit, wrong.correct, wrong.feedback) == (0.0, False, ["Non, il faut aussi des mises à jour."])


@pytest.mark.parametrize("typed, credit", [
    ("CNDP", 1.0), ("  cndp ", 1.0), ("commission  NATIONALE", 1.0), ("Commission", 0.5),
    ("مَدْرَسَة", 1.0), ("1984", 1.0), ("CNIL", 0.0), ("", 0.0),
])
def test_short_answers_ignore_case_accents_and_diacritics(quiz: Quiz, typed, credit):
    assert grade(q(quiz, "q4"), typed).credit == credit


def test_short_answer_wildcard_matches_anything_in_its_place():
    question = Question("w", "short", "t", answers=[Answer("Frog", 1.0, "Good!"), Answer("*", 0.0, "Wrong")])
    assert grade(question, "frog").feedback == ["Good!"]
    assert grade(question, "toad").feedback == ["Wrong"]
    assert grade(question, "toad").credit == 0.0


def short(pattern: str) -> Question:
    return Question("w", "short", "t", answers=[Answer(pattern, 1.0, "")])


@given(st.text("ab*", max_size=7), st.text("ab", max_size=9))
def test_short_answer_stars_match_as_any_run_of_characters(pattern, typed):
    """The reference is the plain reading of "*": any run of characters, at every place."""
    expected = re.fullmatch(".*".join(re.escape(p) for p in pattern.split("*")), typed) is not None
    assert (grade(short(pattern), typed).credit == 1.0) == (expected and typed != "")


@pytest.mark.parametrize("pattern, typed, credit", [
    ("*a*a*b*", "a" * 2000, 0.0), ("*a*a*b*", "a" * 2000 + "b", 1.0), ("a*a", "a", 0.0),
    ("ab*ba", "aba", 0.0), ("ab*ba", "abba", 1.0), ("*cndp*", "la CNDP, au Maroc", 1.0),
])
def test_short_answer_stars_on_long_or_overlapping_text(pattern, typed, credit):
    assert grade(short(pattern), typed).credit == credit


def test_many_stars_against_a_long_answer_are_graded_at_once():
    # A regex of ".*" backtracked for minutes on "*a*a*a*b*" against 1,000 "a": a learner
    # could stall a server thread per submit. This would hang, not fail, if it came back.
    assert grade(short("*a*a*a*a*b*"), "a" * 200_000).credit == 0.0


@pytest.mark.parametrize("typed, credit", [
    ("20", 1.0), (" 20 ", 1.0), (20, 1.0), (20.0, 1.0), ("20,0", 1.0), ("٢٠", 1.0), ("20 %", 1.0),
    ("20,5", 0.5), ("19", 0.5), ("18.9", 0.0), ("vingt", 0.0), ("", 0.0), (None, 0.0), (True, 0.0),
])
def test_numeric_accepts_how_people_type_numbers(quiz: Quiz, typed, credit):
    assert grade(q(quiz, "q5"), typed).credit == credit


@pytest.mark.parametrize("typed, number", [
    ("0,25", 0.25), ("-3.5", -3.5), ("٣٫٥", 3.5), ("1 000", 1000.0), ("1,000.5", 1000.5),
    ("2e3", 2000.0), (".5", 0.5), ("−2", -2.0), ("nan", None), ("inf", None), ("1,2,3", 123.0),
    ("1.2.3", None), ("", None), ("%", None), (float("nan"), None), ([1], None), ("1e999", None),
    (10 ** 400, None), (7, 7.0), ("1,000,000", 1000000.0),
])
def test_parse_number(typed, number):
    assert parse_number(typed) == number


def test_numeric_tolerance_is_inclusive():
    question = Question("n", "numeric", "pi", answers=[Answer(value=3.14, tolerance=0.005, credit=1)])
    assert grade(question, "3.145").correct and grade(question, "3.135").correct
    assert not grade(question, "3.146").correct


def test_matching_gives_a_share_per_right_pair(quiz: Quiz):
    matching = q(quiz, "q6")
    choices = match_choices(matching)
    assert choices == ["câble", "papier", "sans fil"]
    right = [choices.index(r) for _, r in matching.pairs]
    assert grade(matching, right).credit == 1.0 and grade(matching, right).correct
    assert grade(matching, [choices.index("papier")] + right[1:]).credit == pytest.approx(2 / 3)
    assert grade(matching, right[:2]).credit == 0.0  # one select left empty: not a full response


def test_ordering_gives_a_share_per_item_in_place(quiz: Quiz):
    ordering = q(quiz, "q7")
    assert grade(ordering, [0, 1, 2]).correct
    assert grade(ordering, [1, 0, 2]).credit == pytest.approx(1 / 3)
    assert grade(ordering, [2, 0, 1]).credit == 0.0
    assert grade(ordering, [0, 0, 1]).credit == 0.0  # not a permutation


def test_essay_and_description_are_not_auto_graded(quiz: Quiz):
    essay = grade(q(quiz, "q8"), "Une longue réponse.")
    assert (essay.credit, essay.correct, essay.feedback) == (
        None, False, ["Merci, votre enseignant lira votre réponse."])
    assert grade(q(quiz, "q9"), None).credit is None


BAD_RESPONSES = [None, "", "x", -1, 99, True, 1.5, [], [99], ["0"], {"a": 1}, [None], (0, 0, 0, 0, 0)]


@pytest.mark.parametrize("qid", ["q1", "q2", "q3", "q4", "q5", "q6", "q7"])
def test_bad_responses_score_zero_without_raising(quiz: Quiz, qid: str):
    for response in BAD_RESPONSES:
        g = grade(q(quiz, qid), response)
        assert g.credit is not None and 0.0 <= g.credit <= 1.0 and not g.correct, (qid, response)


# ------------------------------------------------------------------------------------ display

def test_public_view_reveals_no_credit_flag_or_feedback(quiz: Quiz):
    for question in quiz.questions:
        shown = json.dumps(public_view(question), ensure_ascii=False)
        for secret in ("credit", "correct", "feedback", "Oui, elle corrige", "Exact.", "Bravo"):
            assert secret not in shown, (question.id, secret)


def test_public_view_shows_what_each_type_needs(quiz: Quiz):
    assert public_view(q(quiz, "q1"))["choices"] == ["L'installer rapidement", "L'ignorer", "La reporter"]
    assert public_view(q(quiz, "q1"))["hint"] == "Pensez aux failles de sécurité."
    view = public_view(q(quiz, "q6"))
    assert (view["lefts"], view["choices"]) == (["Wi-Fi", "USB", "Bluetooth"], ["câble", "papier", "sans fil"])
    assert sorted(public_view(q(quiz, "q7"), "alice")["items"]) == sorted(q(quiz, "q7").items)


def test_ordering_is_shown_shuffled_and_posts_back_through_unshuffle(quiz: Quiz):
    ordering = q(quiz, "q7")
    shown = public_view(ordering, "alice")["items"]
    assert shown != ordering.items
    positions_in_correct_order = [shown.index(item) for item in ordering.items]
    assert grade(ordering, unshuffle(ordering, "alice", positions_in_correct_order)).correct
    assert unshuffle(ordering, "alice", [0, 0, 1]) is None


@given(seed=st.text(max_size=8), size=st.integers(min_value=2, max_value=7))
def test_shuffled_items_are_a_stable_permutation_never_in_order(seed: str, size: int):
    question = Question("o", "ordering", "t", items=[f"item {i}" for i in range(size)])
    order = shown_order(question, seed)
    assert sorted(order) == list(range(size))
    assert order != list(range(size))
    assert order == shown_order(question, seed)


def test_match_choices_are_the_same_whatever_the_pair_order():
    pairs = [("a", "zèbre"), ("b", "âne"), ("c", "Cheval")]
    one = Question("m", "matching", "t", pairs=pairs, distractors=["bœuf"])
    other = Question("m", "matching", "t", pairs=pairs[::-1], distractors=["bœuf"])
    assert match_choices(one) == match_choices(other) == ["âne", "bœuf", "Cheval", "zèbre"]


# ------------------------------------------------------------------------------------ storage

def test_to_dict_round_trips_through_json(quiz: Quiz):
    stored = json.loads(json.dumps(quiz.to_dict()))
    again = Quiz.from_dict(stored)
    assert again == quiz
    assert again.to_dict() == quiz.to_dict()


def test_to_dict_is_deterministic(tmp_path: Path):
    path = tmp_path / "q.quiz.yml"
    path.write_text(SAMPLE, encoding="utf-8")
    first = json.dumps(load_quiz(path).to_dict(), sort_keys=False)
    assert first == json.dumps(load_quiz(path).to_dict(), sort_keys=False)


def test_to_dict_keeps_numeric_tolerances_and_ranges(quiz: Quiz):
    answers = q(quiz, "q5").to_dict()["answers"]
    assert answers == [{"text": "", "credit": 1.0, "feedback": "Bravo.", "value": 20.0},
                       {"text": "", "credit": 0.5, "feedback": "Presque.", "min": 19.0, "max": 21.0}]


def test_a_question_may_be_named_for_the_teacher_and_keeps_its_id():
    named = parse_quiz_yaml(textwrap.dedent("""\
        questions:
          - id: essay1
            name: "Mon avis : 2024"
            type: essay
            text: Pourquoi ?
    """)).questions[0]
    assert (named.id, named.name) == ("essay1", "Mon avis : 2024")
    assert Question.from_dict(json.loads(json.dumps(named.to_dict()))).name == "Mon avis : 2024"


def test_a_name_that_is_not_text_is_refused():
    assert problems_of("""\
        questions:
          - {id: a, name: [x], type: essay, text: Pourquoi ?}
    """) == ["quiz.yml:2: question a: name must be text"]


def test_an_unnamed_question_is_stored_as_before(quiz: Quiz):
    assert not {"name", "idnumber", "tags"} & {key for q in quiz.questions for key in q.to_dict()}


def test_from_dict_refuses_malformed_data():
    with pytest.raises(QuizError, match="rebuild the pack"):
        Quiz.from_dict({"questions": [{"type": "single"}]})


YAML_PIECES = st.sampled_from(["questions:", "\n", "  - ", "{", "}", "[", "]", ": ", ", ", "type", "single",
                               "text", "answers", "credit", "1", "-1", "true", "id", "a", "é", "&x ", "*x", "'"])


@given(st.lists(YAML_PIECES, max_size=30).map("".join))
def test_any_yaml_gives_a_quiz_or_a_quiz_error_never_a_crash(text: str):
    try:
        parse_quiz_yaml(text, "quiz.yml")
    except QuizError as e:
        assert e.problems


@pytest.mark.parametrize("typed", ["150 DH", "150dh", "150 درهم", "150 dirhams", " 150 € "])
def test_a_unit_typed_after_a_number_is_ignored(typed):
    assert parse_number(typed) == 150.0


def test_a_number_with_letters_before_it_is_not_a_number():
    assert parse_number("DH 150x") is None and parse_number("abc") is None

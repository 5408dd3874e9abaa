"""The GIFT parser: Moodle's own example files read question by question, then each rule and error.

Each expectation says what Moodle's GIFT documentation says the question means: its type, its
answers with their credit and feedback, tolerances, ranges, categories and escapes.
"""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st
from conftest import corpus

from kit.content.gift import BLANK
from kit.content.questions import grade
from kit.content.questions.matching import choices as match_choices
from kit.content.questions.model import CATCH_ALL, Question
from kit.content.quiz import Quiz, QuizError, load_quiz, parse_gift


def answers(q: Question) -> list[tuple]:
    """(text, credit, feedback) of each answer."""
    return [(a.text, a.credit, a.feedback) for a in q.answers]


def numbers(q: Question) -> list[tuple]:
    """(value, tolerance, min, max, credit, feedback) of each numeric answer."""
    return [(a.value, a.tolerance, a.min, a.max, a.credit, a.feedback) for a in q.answers]


def problems_of(text: str) -> list[str]:
    with pytest.raises(QuizError) as e:
        parse_gift(text, "t.gift")
    return [str(p) for p in e.value.problems]


# ------------------------------------------------------------------- Moodle's examples.gift

@pytest.fixture(scope="module")
def examples() -> Quiz:
    return load_quiz(corpus("gift-moodle", "examples.gift"))


def at(quiz: Quiz, line: int) -> Question:
    """The question that starts on a line of the file."""
    found = [q for q in quiz.questions if q.line == line]
    assert len(found) == 1, f"no question starts on line {line}"
    return found[0]


GRANT_MC = [("Grant", 0.0, ""), ("Jefferson", 0.0, ""), ("no one", 1.0, "")]
GRANT_FILL = [("buried", 0.0, ""), ("entombed", 1.0, ""), ("living", 0.0, "")]
NO_ONE = [("no one", 1.0, ""), ("nobody", 1.0, "")]
NO_ONE_FB = [("no one", 1.0, "excellent answer!"), ("nobody", 1.0, "excellent answer!")]
THIRD_THURSDAY = [("second", 0.0, ""), ("third", 0.0, ""), ("fourth", 1.0, "")]


def test_examples_every_question_is_read_and_starts_where_the_file_says(examples: Quiz):
    assert [q.line for q in examples.questions] == [
        8, 10, 12, 14, 16, 25, 27, 29, 35, 43, 45, 49, 51, 55, 61, 70, 72, 74, 76, 85, 90, 93, 98,
        103, 108, 113, 115, 117, 123, 130, 136, 143, 148, 167, 169, 171, 173, 175, 177, 184, 190,
        195, 202]
    assert len(examples.questions) == 43


def test_examples_untitled_questions_are_numbered_and_titles_become_ids(examples: Quiz):
    ids = [q.id for q in examples.questions]
    assert ids[:3] == ["q1", "q2", "q3"]
    assert at(examples, 90).id == "kanji-origins"
    assert at(examples, 93).id == "thanksgiving-date"
    # Two questions are both titled "Jesus' hometown": the second is told apart, not dropped.
    assert (at(examples, 117).id, at(examples, 123).id) == ("jesus-hometown", "jesus-hometown-2")
    assert at(examples, 148).id == "gift-control-characters"
    assert at(examples, 184).id == "grant-s-tomb"
    assert at(examples, 195).id == "jesus-hometown-short-answer-ex"
    assert at(examples, 202).id == "numerical-example"
    assert len(set(ids)) == len(ids)


def test_examples_no_question_has_a_category_and_all_default_to_moodle_format(examples: Quiz):
    assert {q.category for q in examples.questions} == {""}
    assert {q.format for q in examples.questions if q.line != 108} == {"moodle"}


@pytest.mark.parametrize("line", [8, 25, 167])
def test_examples_grant_multiple_choice(examples: Quiz, line: int):
    q = at(examples, line)
    assert (q.type, q.text, answers(q)) == ("single", "Who's buried in Grant's tomb?", GRANT_MC)


@pytest.mark.parametrize("line", [10, 27, 169])
def test_examples_missing_word_multiple_choice_keeps_a_blank(examples: Quiz, line: int):
    q = at(examples, line)
    assert (q.type, q.text, answers(q)) == ("single", f"Grant is {BLANK} in Grant's tomb.", GRANT_FILL)


@pytest.mark.parametrize("line", [12, 49, 171])
def test_examples_false_statements(examples: Quiz, line: int):
    q = at(examples, line)
    assert (q.type, q.text, q.answer) == ("truefalse", "Grant is buried in Grant's tomb.", False)
    assert (q.feedback_true, q.feedback_false, q.answers) == ("", "", [])


@pytest.mark.parametrize("line", [14, 43, 173])
def test_examples_several_equals_make_a_short_answer(examples: Quiz, line: int):
    q = at(examples, line)
    assert (q.type, q.text, answers(q)) == ("short", "Who's buried in Grant's tomb?", NO_ONE)


@pytest.mark.parametrize("line, tolerance", [(16, 1.0), (175, 5.0)])
def test_examples_numeric_with_tolerance(examples: Quiz, line: int, tolerance: float):
    q = at(examples, line)
    assert (q.type, q.text) == ("numeric", "When was Ulysses S. Grant born?")
    assert numbers(q) == [(1822.0, tolerance, None, None, 1.0, "")]


def test_examples_multiline_missing_word(examples: Quiz):
    q = at(examples, 29)
    assert q.type == "single"
    assert q.text == f"The American holiday of Thanksgiving is celebrated on the {BLANK} Thursday of November."
    assert answers(q) == THIRD_THURSDAY


def test_examples_answers_on_their_own_lines(examples: Quiz):
    q = at(examples, 35)
    assert (q.type, q.text) == ("single", "Japanese characters originally came from what country?")
    assert answers(q) == [("India", 0.0, ""), ("China", 1.0, ""), ("Korea", 0.0, ""), ("Egypt", 0.0, "")]
    assert [a.line for a in q.answers] == [36, 37, 38, 39]


def test_examples_short_answer_with_a_blank_at_the_end(examples: Quiz):
    q = at(examples, 45)
    assert (q.type, q.text, answers(q)) == ("short", f"Two plus two equals {BLANK}.",
                                            [("four", 1.0, ""), ("4", 1.0, "")])


def test_examples_true_statement(examples: Quiz):
    q = at(examples, 51)
    assert (q.type, q.text, q.answer) == ("truefalse", "The sun rises in the east.", True)


def test_examples_matching(examples: Quiz):
    q = at(examples, 55)
    assert (q.type, q.text) == ("matching", "Matching Question.")
    assert q.pairs == [("subquestion1", "subanswer1"), ("subquestion2", "subanswer2"),
                       ("subquestion3", "subanswer3")]
    assert q.distractors == []


def test_examples_matching_ignores_alignment_spaces(examples: Quiz):
    q = at(examples, 61)
    assert q.text == "Match the following countries with their corresponding capitals."
    assert q.pairs == [("Canada", "Ottawa"), ("Italy", "Rome"), ("Japan", "Tokyo"), ("India", "New Delhi")]


def test_examples_matching_without_spaces_around_the_arrow(examples: Quiz):
    q = at(examples, 177)
    assert q.text == "Match the following countries with their corresponding\ncapitals."
    assert q.pairs == [("Canada", "Ottawa"), ("Italy", "Rome"), ("Japan", "Tokyo")]


def test_examples_exact_number(examples: Quiz):
    q = at(examples, 70)
    assert numbers(q) == [(1822.0, 0.0, None, None, 1.0, "")]


def test_examples_pi_with_tolerance_and_text_after_the_braces(examples: Quiz):
    q = at(examples, 72)
    assert q.text == f"What is the value of pi (to 3 decimal places)? {BLANK}."
    assert numbers(q) == [(3.1415, 0.0005, None, None, 1.0, "")]
    assert grade(q, "3.141").correct and grade(q, "3,142").correct and not grade(q, "3.14").correct


def test_examples_pi_as_a_range(examples: Quiz):
    q = at(examples, 74)
    assert numbers(q) == [(None, 0.0, 3.141, 3.142, 1.0, "")]
    assert grade(q, "3.1415").correct and not grade(q, "3.143").correct


def test_examples_several_numeric_answers_with_weights(examples: Quiz):
    q = at(examples, 76)
    assert numbers(q) == [(1822.0, 0.0, None, None, 1.0, ""), (1822.0, 2.0, None, None, 0.5, "")]
    assert grade(q, "1822").credit == 1.0 and grade(q, "1824").credit == 0.5 and grade(q, "1825").credit == 0.0


def test_examples_comment_line_before_a_question_is_ignored(examples: Quiz):
    q = at(examples, 85)
    assert (q.type, q.text, numbers(q)) == ("numeric", "What's 2 plus 2?", [(4.0, 0.0, None, None, 1.0, "")])


def test_examples_titled_question_over_two_lines(examples: Quiz):
    q = at(examples, 90)
    # One = answer and no ~: Moodle reads it as a short answer.
    assert (q.type, q.text, answers(q)) == (
        "short", "Japanese characters originally\ncame from what country?", [("China", 1.0, "")])


def test_examples_titled_missing_word(examples: Quiz):
    q = at(examples, 93)
    assert q.text == f"The American holiday of Thanksgiving is\ncelebrated on the {BLANK} Thursday of November."
    assert (q.type, answers(q)) == ("single", THIRD_THURSDAY)


def test_examples_feedback_per_answer(examples: Quiz):
    q = at(examples, 98)
    assert (q.type, q.text) == ("single", "What's the answer to this multiple-choice question?")
    assert answers(q) == [("wrong answer", 0.0, "feedback comment on the wrong answer"),
                          ("another wrong answer", 0.0, "feedback comment on this wrong answer"),
                          ("right answer", 1.0, "Very good!")]
    assert grade(q, 2).feedback == ["Very good!"]


def test_examples_short_answer_feedback(examples: Quiz):
    q = at(examples, 103)
    assert (q.type, answers(q)) == ("short", NO_ONE_FB)
    assert grade(q, "NOBODY").feedback == ["excellent answer!"]


def test_examples_markdown_format(examples: Quiz):
    q = at(examples, 108)
    assert (q.format, q.text, answers(q)) == ("markdown", "Who's buried in **Grant's tomb**?", NO_ONE_FB)


def test_examples_false_with_feedback_for_the_wrong_choice(examples: Quiz):
    q = at(examples, 113)
    assert (q.type, q.answer) == ("truefalse", False)
    # The feedback after FALSE is for a wrong answer, that is for choosing true.
    assert (q.feedback_true, q.feedback_false) == ("No one is buried in Grant's tomb.", "")
    assert grade(q, True).feedback == ["No one is buried in Grant's tomb."]


@pytest.mark.parametrize("line, feedback", [
    (115, ["", "", ""]), (190, ["comment on wrong answer", "comment on answer", "well done!"])])
def test_examples_partial_credit_in_one_answer_choice(examples: Quiz, line: int, feedback: list):
    q = at(examples, line)
    assert q.type == "single"
    assert [(a.text, a.credit) for a in q.answers] == [
        ("wrong answer", 0.0), ("half credit answer", 0.5), ("full credit answer", 1.0)]
    assert [a.feedback for a in q.answers] == feedback
    assert grade(q, 1).credit == 0.5 and not grade(q, 1).correct


def test_examples_weighted_choice_missing_word(examples: Quiz):
    q = at(examples, 117)
    assert (q.type, q.text) == ("single", f"Jesus Christ was from {BLANK}.")
    assert answers(q) == [("Jerusalem", 0.0, "This was an important city, but the wrong answer."),
                          ("Bethlehem", 0.25, "He was born here, but not raised here."),
                          ("Galilee", 0.5, "You need to be more specific."),
                          ("Nazareth", 1.0, "Yes! That's right!")]


NAZARETH = [("Nazareth", 1.0, "Yes! That's right!"), ("Nazereth", 0.75, "Right, but misspelled."),
            ("Bethlehem", 0.25, "He was born here, but not raised here.")]


def test_examples_weighted_short_answer_without_text_after(examples: Quiz):
    q = at(examples, 123)
    assert (q.type, q.text, answers(q)) == ("short", "Jesus Christ was from", NAZARETH)
    assert grade(q, "nazereth").credit == 0.75


def test_examples_weighted_short_answer_with_blank(examples: Quiz):
    q = at(examples, 195)
    assert (q.type, q.text, answers(q)) == ("short", f"Jesus Christ was from {BLANK}.", NAZARETH)


def test_examples_multiple_answers_by_weights(examples: Quiz):
    q = at(examples, 130)
    assert (q.type, q.text) == ("multiple", "What two people are entombed in Grant's tomb?")
    assert answers(q) == [("No one", 0.0, ""), ("Grant", 0.5, ""), ("Grant's wife", 0.5, ""),
                          ("Grant's father", 0.0, "")]
    assert grade(q, [1, 2]).correct


def test_examples_multiple_answers_with_negative_weights(examples: Quiz):
    q = at(examples, 136)
    assert q.type == "multiple"
    assert [a.credit for a in q.answers] == [-0.5, 0.5, 0.5, -0.5]
    assert grade(q, [0, 1, 2, 3]).credit == 0.0  # ticking everything earns nothing


def test_examples_escaped_equals_signs_are_text(examples: Quiz):
    q = at(examples, 143)
    assert (q.type, q.text) == ("single", "Which answer equals 5?")
    assert answers(q) == [("= 2 + 2", 0.0, ""), ("= 2 + 3", 1.0, ""), ("= 2 + 4", 0.0, "")]


def test_examples_every_control_character_escaped(examples: Quiz):
    q = at(examples, 148)
    assert q.text == "Which of the following is NOT a control character for the GIFT import format?"
    assert [(a.text, a.credit) for a in q.answers] == [
        ("~", 0.0), ("=", 0.0), ("#", 0.0), ("{", 0.0), ("}", 0.0), ("\\", 1.0)]
    assert [a.feedback for a in q.answers[:5]] == [f"{c} is a control character." for c in "~=#{}"]
    assert q.answers[5].feedback == (
        "Correct! \\ (backslash) is not a control character. BUT,\n"
        "it is used to escape the control characters. So, to specify\n"
        "a literal backslash, you must escape it with a backslash\n"
        "(as shown in this example).")


def test_examples_missing_word_with_feedback(examples: Quiz):
    q = at(examples, 184)
    assert (q.type, q.text) == ("single", f"Grant is {BLANK} in Grant's tomb.")
    assert answers(q) == [("buried", 0.0, "No one is buried there."), ("entombed", 1.0, "Right answer!"),
                          ("living", 0.0, "We hope not!")]


def test_examples_numeric_feedback_over_two_lines(examples: Quiz):
    q = at(examples, 202)
    assert q.text == "When was Ulysses S. Grant born?"
    assert numbers(q) == [
        (1822.0, 0.0, None, None, 1.0, "Correct! 100% credit"),
        (1822.0, 2.0, None, None, 0.5, "He was born in 1822.\nYou get 50% credit for being close.")]
    assert [a.line for a in q.answers] == [204, 205]


# ------------------------------------------------------------------ Moodle's questions.gift

@pytest.fixture(scope="module")
def fixtures() -> Quiz:
    return load_quiz(corpus("gift-moodle", "questions.gift"))


def test_fixtures_every_question_is_read(fixtures: Quiz):
    assert [(q.id, q.type, q.line) for q in fixtures.questions] == [
        ("q8", "essay", 2), ("moodle-activities", "matching", 5), ("q2", "single", 14),
        ("colours", "multiple", 22), ("q5", "numeric", 31), ("shortanswer", "short", 34),
        ("q1", "truefalse", 41), ("2-08-tsl", "truefalse", 46), ("2-08-tsl-2", "truefalse", 49)]


def test_fixtures_essay(fixtures: Quiz):
    q = fixtures.find("q8")
    assert (q.text, q.answers, q.format) == ("How are you?", [], "moodle")
    assert grade(q, "Fine").credit is None


def test_fixtures_matching_with_formats_and_a_distractor(fixtures: Quiz):
    q = fixtures.find("moodle-activities")
    assert (q.format, q.text) == ("html", "Match the <b>activity</b> to the description.")
    assert q.pairs == [
        ("An activity supporting asynchronous discussions.", "Forum"),
        ("A teacher asks a question and specifies a choice of multiple responses.", "Choice"),
        ("A bank of record entries which participants can add to.", "Database"),
        ("A collection of web pages that anyone can add to or edit.", "Wiki")]
    assert q.distractors == ["Chat"]  # "= -> Chat": a choice that matches nothing
    assert match_choices(q) == ["Chat", "Choice", "Database", "Forum", "Wiki"]


def test_fixtures_choice_with_feedback_and_answer_formats(fixtures: Quiz):
    q = fixtures.find("q2")
    assert q.text == "What's between orange and green in the spectrum?"
    assert answers(q) == [("yellow", 1.0, "right; good!"), ("red", 0.0, "wrong, it's yellow"),
                          ("blue", 0.0, "wrong, it's yellow")]


def test_fixtures_multiple_response_with_negative_weights(fixtures: Quiz):
    q = fixtures.find("colours")
    assert answers(q) == [("yellow", 0.5, "right; good!"), ("red", -1.0, "wrong"),
                          ("off-beige", 0.5, "right; good!"), ("blue", -1.0, "wrong")]
    assert grade(q, [0, 2]).correct and grade(q, [0, 1, 2]).credit == 0.0


def test_fixtures_numeric_with_feedback_for_any_other_number(fixtures: Quiz):
    q = fixtures.find("q5")
    # The stray `";` after the braces stays as the question's tail, after the blank.
    assert q.text == f'What is a number from 1 to 5? {BLANK}";'
    assert numbers(q)[0] == (3.0, 2.0, None, None, 1.0, "")
    assert (q.answers[1].text, q.answers[1].credit, q.answers[1].feedback) == (CATCH_ALL, 0.0, "Completely wrong")
    assert grade(q, "5").correct and grade(q, "1").correct
    assert (grade(q, "6").credit, grade(q, "6").feedback) == (0.0, ["Completely wrong"])


def test_fixtures_short_answer_with_wildcard(fixtures: Quiz):
    q = fixtures.find("shortanswer")
    assert q.text == "Which is the best animal?"
    assert answers(q) == [("Frog", 1.0, "Good!"), ("Cat", 0.5, "What is it with Moodlers and cats?"),
                          ("*", 0.0, "Completely wrong")]
    assert (grade(q, "cat").credit, grade(q, "dog").feedback) == (0.5, ["Completely wrong"])


def test_fixtures_true_false_with_both_feedbacks_and_general_feedback(fixtures: Quiz):
    q = fixtures.find("q1")
    assert q.text == f'42 is the Absolute Answer to everything.{BLANK}";'
    assert q.answer is False
    assert q.feedback_true == "42 is the Ultimate Answer."  # the wrong choice
    assert q.feedback_false == "You gave the right answer."
    assert q.general_feedback == "This is, of course, a Hitchiker's Guide to the Galaxy reference."
    assert grade(q, False).feedback == [
        "You gave the right answer.", "This is, of course, a Hitchiker's Guide to the Galaxy reference."]


def test_fixtures_t_and_true_are_the_same(fixtures: Quiz):
    short, long = fixtures.find("2-08-tsl"), fixtures.find("2-08-tsl-2")
    assert (short.text, short.answer) == (long.text, long.answer) == ("TSL is blablabla.", True)


# -------------------------------------------------------- Moodle's questions_in_category.gift

@pytest.fixture(scope="module")
def in_category() -> Quiz:
    return load_quiz(corpus("gift-moodle", "questions_in_category.gift"))


def test_category_applies_to_every_later_question(in_category: Quiz):
    assert [(q.id, q.type, q.line) for q in in_category.questions] == [
        ("moodle-activities", "matching", 5), ("greeting", "single", 14),
        ("moodle-user", "short", 22), ("moodle-acronym", "truefalse", 27)]
    assert {q.category for q in in_category.questions} == {"$course$/Default for New Features"}
    assert {q.format for q in in_category.questions} == {"html"}


def test_category_file_matching(in_category: Quiz):
    q = in_category.find("moodle-activities")
    assert q.text == "Match the activity to the description."
    assert [left for left, _ in q.pairs][0] == "An activity supporting asynchronous discussions."
    assert [right for _, right in q.pairs] == ["Forum", "Choice", "Database", "Wiki"]
    assert q.distractors == ["Chat"]


def test_category_file_escaped_html(in_category: Quiz):
    q = in_category.find("greeting")
    assert q.text == ('<a href="http://demo.moodle.net/file.php/5/media/bonjour.mp3">Listen to this '
                      'greeting:</a><br /><br />What language is being spoken?')
    assert answers(q) == [("English", 0.0, "Sorry, listen again."), ("French", 1.0, "Yes, well done!"),
                          ("German", 0.0, "Sorry, listen again."), ("Spanish", 0.0, "Sorry, listen again.")]


def test_category_file_explicit_full_weight_and_empty_feedback(in_category: Quiz):
    q = in_category.find("moodle-user")
    assert (q.text, answers(q)) == ("Anyone who uses Moodle is a ...", [("Moodler", 1.0, "")])


def test_category_file_true_with_escaped_colon(in_category: Quiz):
    q = in_category.find("moodle-acronym")
    assert q.text == ('Moodle is an acronym for <span style="font-style: italic;">Modular '
                      'Object-Oriented Dynamic Learning Environment</span>.')
    assert q.answer is True


def test_corpus_quizzes_round_trip_through_to_dict(examples: Quiz, fixtures: Quiz, in_category: Quiz):
    for quiz in (examples, fixtures, in_category):
        assert Quiz.from_dict(quiz.to_dict()) == quiz


# --------------------------------------------------------------------------- rules, one by one

FRENCH = """\
// Quiz de français
$CATEGORY: numératie/fractions

::Moitié:: Quelle est la moitié de 10 ? {#5}

::Élève:: Le pluriel d'« œil » est {=yeux =%50%oeils#Presque !}.

::Vrai ou faux:: La Terre tourne autour du Soleil. {VRAI}
"""


def test_french_text_titles_and_categories():
    quiz = parse_gift(FRENCH.replace("{VRAI}", "{T#Non.#Oui !}"))
    half, plural, earth = quiz.questions
    assert (half.id, half.category, half.text) == ("moitie", "numératie/fractions", "Quelle est la moitié de 10 ?")
    assert plural.id == "eleve"
    assert plural.text == f"Le pluriel d'« œil » est {BLANK}."
    assert answers(plural) == [("yeux", 1.0, ""), ("oeils", 0.5, "Presque !")]
    assert grade(plural, "YEUX").correct and grade(plural, "œils").credit == 0.5
    assert (earth.answer, earth.feedback_true, earth.feedback_false) == (True, "Oui !", "Non.")


def test_french_word_for_true_is_not_true_false():
    assert problems_of(FRENCH) == [
        "t.gift:8: question vrai-ou-faux: 'VRAI' comes before the first answer; start each accepted "
        "answer with =, or use {T} / {F} for true-false"]


ARABIC = """\
$CATEGORY: الحساب

::س١:: كم يساوي ٣ + ٤ ؟ {#7}

ما هي عاصمة المغرب ؟ {
  =الرباط#أحسنت!
  ~الدار البيضاء#لا، هي أكبر مدينة.
}
"""


def test_arabic_questions_keep_their_text_and_number_by_position():
    quiz = parse_gift(ARABIC)
    sum_, capital = quiz.questions
    # An Arabic title would lose its letters in an id: the question is numbered instead.
    assert (sum_.id, sum_.category, sum_.text) == ("q1", "الحساب", "كم يساوي ٣ + ٤ ؟")
    assert grade(sum_, "٧").correct
    assert capital.id == "q2"
    assert answers(capital) == [("الرباط", 1.0, "أحسنت!"), ("الدار البيضاء", 0.0, "لا، هي أكبر مدينة.")]


def test_byte_order_mark_and_crlf_line_ends():
    text = "\ufeff::A:: One?{T}\r\n\r\n// comment\r\n::B:: Two?{\r\n=x\r\n~y\r\n}\r\n"
    quiz = parse_gift(text)
    assert [(q.id, q.type, q.line) for q in quiz.questions] == [("a", "truefalse", 1), ("b", "single", 4)]
    assert answers(quiz.questions[1]) == [("x", 1.0, ""), ("y", 0.0, "")]


def test_load_quiz_reads_a_gift_file_with_bom_and_crlf(tmp_path):
    path = tmp_path / "01-x.fr.gift"
    path.write_bytes("\ufeff::A:: Un ?{T}\r\n".encode("utf-8"))
    assert load_quiz(path).questions[0].text == "Un ?"


def test_old_mac_line_ends_separate_questions_too():
    assert len(parse_gift("One?{T}\r\rTwo?{F}\r").questions) == 2


def test_description_has_no_answer_block():
    q = parse_gift("::Intro:: Read this first.\nIt has two lines.").questions[0]
    assert (q.id, q.type, q.text) == ("intro", "description", "Read this first.\nIt has two lines.")


def test_essay_may_have_general_feedback():
    q = parse_gift("Tell us. {####Your teacher will read it.}").questions[0]
    assert (q.type, q.general_feedback) == ("essay", "Your teacher will read it.")


@pytest.mark.parametrize("block, expected", [("T", True), ("TRUE", True), ("F", False), ("FALSE", False),
                                             ("true", True), ("f", False)])
def test_true_false_spellings(block: str, expected: bool):
    assert parse_gift(f"Q? {{{block}}}").questions[0].answer is expected


def test_format_prefixes_on_text_answers_and_feedback():
    q = parse_gift("[plain]Pick <one>. {=[html]<b>a</b>#[markdown]**yes** ~[moodle]b#[plain]no}").questions[0]
    assert (q.format, q.text) == ("plain", "Pick <one>.")
    assert answers(q) == [("<b>a</b>", 1.0, "**yes**"), ("b", 0.0, "no")]


def test_escapes_in_title_text_and_answers():
    q = parse_gift("::a\\:b:: 2 \\{x\\} 1\\n2 \\\\ \\# {=\\=\\~\\#\\{\\}\\: \\\\n}").questions[0]
    assert q.id == "a-b"
    assert q.text == "2 {x} 1\n2 \\ #"
    assert q.answers[0].text == "=~#{}: \\n"  # "\\\\n" is a backslash then the letter n


def test_escaped_backslash_before_a_marker_leaves_the_marker_active():
    q = parse_gift("Q {=a\\\\ ~b}").questions[0]
    assert answers(q) == [("a\\", 1.0, ""), ("b", 0.0, "")]


def test_numeric_ranges_may_be_negative():
    q = parse_gift("Q {#-5..-1}").questions[0]
    assert (q.answers[0].min, q.answers[0].max) == (-5.0, -1.0)
    assert grade(q, "-3").correct and not grade(q, "3").correct


def test_numeric_answer_before_the_first_equals_is_kept_as_moodle_does():
    q = parse_gift("Q {#5 =%50%6}").questions[0]
    assert [(a.value, a.credit) for a in q.answers] == [(5.0, 1.0), (6.0, 0.5)]


def test_comments_inside_a_question_are_dropped():
    q = parse_gift("Q {\n// the right one:\n=a\n~b\n}").questions[0]
    assert answers(q) == [("a", 1.0, ""), ("b", 0.0, "")]


def test_a_category_may_lead_a_question_directly():
    quiz = parse_gift("$CATEGORY: a\nQ1 {T}\n\n$CATEGORY: b\n\nQ2 {F}\n\nQ3 {T}")
    assert [(q.text, q.category) for q in quiz.questions] == [("Q1", "a"), ("Q2", "b"), ("Q3", "b")]


def test_a_title_equal_to_a_position_id_is_told_apart():
    quiz = parse_gift("::Q2:: A {T}\n\nB {T}")
    assert [q.id for q in quiz.questions] == ["q2", "q2-2"]


# ------------------------------------------------------------------------------------ errors

@pytest.mark.parametrize("text, problem", [
    ("Q1 {=a ~b\n\nQ2 {T}\n", "t.gift:1: question q1: the answer block { is not closed with }"),
    ("Q1 } x {T}", "t.gift:1: question q1: a } with no { before it; write a literal brace as \\}"),
    ("Q {=a\n{b} ~c}", "t.gift:2: question q1: a { inside the answer block; write a literal brace as \\{"),
    ("Q {T}\nQ2 {F}", "t.gift:2: question q1: a second answer block; put each question in its own paragraph"),
    ("::A:: Q {T}\n::B:: Q2 {F}",
     "t.gift:2: question a: a new question starts here; separate questions with a blank line"),
    ("::A Q {T}", "t.gift:1: question q1: the title is not closed: write ::title:: before the question"),
    ("Q {foo}", "t.gift:1: question q1: 'foo' comes before the first answer; start each accepted answer "
                "with =, or use {T} / {F} for true-false"),
    ("Q {foo ~a =b}", "t.gift:1: question q1: 'foo' comes before the first answer; start each answer "
                      "with = (right) or ~ (wrong)"),
    ("Q {\n=a -> 1\n~b}", "t.gift:2: question q1: matching answers (a -> b) mixed with ~ answers; "
                          "a matching question has only =left -> right"),
    ("Q {\n=a -> 1\n=b -> 2\n=c}", "t.gift:4: question q1: 'c' has no ->; in a matching question every "
                                   "answer is =left -> right"),
    ("Q {~%abc%a =b}", "t.gift:1: question q1: '%abc%a': a weight is a percentage such as %50% or %-100%"),
    ("Q {#\n=abc}", "t.gift:2: question q1: 'abc' is not a number; numerical answers are like 3.14:0.01 or 1..5"),
    ("Q {#3:x}", "t.gift:1: question q1: '3:x' is not a number; numerical answers are like 3.14:0.01 or 1..5"),
    ("Q {#3 ~4}", "t.gift:1: question q1: '~4': in a numerical question ~ only gives feedback for every "
                  "other number, as in ~#Sorry"),
    ("$CATEGORY:\n\nQ {T}", "t.gift:1: $CATEGORY: needs a category path, e.g. $CATEGORY: fractions/easy"),
    ("Q {=a =b ~c}", "t.gift:1: question q1: needs exactly one correct answer, has 2 (YAML: correct: true; "
                     "GIFT: =answer)"),
    ("Q {~%50%a ~%40%b ~c}", "t.gift:1: question q1: the credits of the correct answers sum to 0.9; "
                             "they must sum to 1"),
    ("Q {=a -> b}", "t.gift:1: question q1: a matching question needs at least 2 pairs, has 1"),
    ("Q {#}", "t.gift:1: question q1: needs at least one accepted number"),
    ("Q {=a ~%150%b}", "t.gift:1: question q1: answer 2 has credit 1.5; credits go from -1 to 1"),
    ("::T::", "t.gift:1: question t: has no text"),
])
def test_each_error_names_file_line_and_fix(text: str, problem: str):
    assert problem in problems_of(text)


def test_every_broken_question_is_reported_and_none_is_merged():
    found = problems_of("Q1 {foo}\n\nQ2 {=a ~b\n\nQ3 {#x}\n\nFine {T}\n")
    assert [p.split(": question ")[0] for p in found] == ["t.gift:1", "t.gift:3", "t.gift:5"]
    assert [p.split(": ")[1] for p in found] == ["question q1", "question q2", "question q3"]


GIFT_PIECES = st.sampled_from(["{", "}", "=", "~", "#", "->", "::", "%50%", "%-100%", "\\", "\n", "\n\n", "T",
                               "#3:1", "..", "$CATEGORY: a", "//", "[html]", " ", "a", "é", "ع", "####"])


@given(st.lists(GIFT_PIECES, max_size=30).map("".join))
def test_any_text_gives_a_quiz_or_a_quiz_error_never_a_crash(text: str):
    try:
        quiz = parse_gift(text)
    except QuizError as e:
        assert e.problems and all(p.line is None or p.line >= 1 for p in e.problems)
    else:
        assert Quiz.from_dict(quiz.to_dict()) == quiz


# ------------------------------------------------------- what a teacher's bank keeps (names, tags)

def test_a_title_is_kept_as_the_teachers_name_and_the_id_is_made_as_before():
    titled, arabic, untitled = parse_gift(
        "::Jesus' hometown::Jesus was from {=Nazareth ~Jerusalem}\n\n"
        "::سؤال الكسور:: نصف 10 هو {#5}\n\n"
        "Two and two make {#4}").questions
    assert (titled.id, titled.name) == ("jesus-hometown", "Jesus' hometown")
    assert (arabic.id, arabic.name) == ("q2", "سؤال الكسور")
    assert (untitled.id, untitled.name) == ("q3", "")
    assert "name" not in untitled.to_dict()


def test_corpus_titles_are_the_names_of_their_questions(examples: Quiz):
    assert examples.find("jesus-hometown").name == examples.find("jesus-hometown-2").name == "Jesus' hometown"
    assert examples.find("jesus-hometown-short-answer-ex").name == "Jesus' hometown (Short answer ex.)"
    untitled = [q for q in examples.questions if q.id.startswith("q")]
    assert all(q.name == "" for q in untitled) and all(q.name for q in examples.questions if q not in untitled)


CODE = """\
::loop::[html]What does this print?
<pre>
for i in range(2):
    print(i)
</pre>
{=0 1 ~1 2}
"""


def test_html_text_keeps_the_indentation_of_its_lines():
    q = parse_gift(CODE).questions[0]
    assert q.text == "What does this print?\n<pre>\nfor i in range(2):\n    print(i)\n</pre>"


def test_text_inside_pre_keeps_its_indentation_in_any_format_and_other_lines_are_trimmed():
    q = parse_gift("[markdown]Read:\n   indented\n<pre>\nif x:\n    go()\n</pre>\n   after {}").questions[0]
    assert q.text == "Read:\nindented\n<pre>\nif x:\n    go()\n</pre>\nafter"


def test_an_indented_first_line_and_answers_are_trimmed_as_before():
    q = parse_gift("   ::t::[html]Pick\n    {=yes#  good\n        still good\n    ~no}").questions[0]
    assert (q.id, q.text) == ("t", "Pick")
    assert answers(q) == [("yes", 1.0, "good\n        still good"), ("no", 0.0, "")]
    assert answers(parse_gift("::t::Pick\n    {=yes#  good\n        still good\n    ~no}").questions[0]) == [
        ("yes", 1.0, "good\nstill good"), ("no", 0.0, "")]


def test_a_pre_question_is_rendered_into_the_pack_with_its_indentation():
    from kit.content.quizrender import rendered_quiz
    q = rendered_quiz(parse_gift(CODE), "fr").questions[0]
    # HTML drops a newline right after <pre>, so the sanitizer writes none
    assert "<pre>for i in range(2):\n    print(i)\n</pre>" in q.text


MOODLE_BANK = """\
// question: 1234  name: Half of ten
// [id:Q42] [tag:fractions]
// [tag:grade5] [tag:a\\]b] [tag:fractions]
::Half of ten::Half of 10 is {#5}

// [id:lost] [tag:lost] a comment of its own: it names no question

::Double::Double of 4 is {#8}
"""


def test_moodle_idnumber_and_tags_in_a_questions_comments_are_kept():
    half, double = parse_gift(MOODLE_BANK).questions
    assert (half.idnumber, half.tags) == ("Q42", ["fractions", "grade5", "a]b"])
    assert (double.idnumber, double.tags) == ("", [])


def test_names_idnumbers_and_tags_round_trip_through_to_dict_and_only_when_present():
    half, double = parse_gift(MOODLE_BANK).questions
    stored = half.to_dict()
    assert (stored["name"], stored["idnumber"]) == ("Half of ten", "Q42")
    assert stored["tags"] == ["fractions", "grade5", "a]b"]
    assert Question.from_dict(stored) == half
    assert not {"idnumber", "tags"} & set(double.to_dict())


def test_indented_titles_are_read_and_refused_as_before():
    q = parse_gift("$CATEGORY: a\n   ::Half::Half of 10 {#5}").questions[0]
    assert (q.id, q.name, q.category) == ("half", "Half", "a")
    assert problems_of("::a:: A {T}\n   ::b:: B {T}") == [
        "t.gift:2: question a: a new question starts here; separate questions with a blank line"]

"""Quizzes: the model every quiz source becomes, the checks it must pass, and grading.

Authors write quizzes in YAML (docs/course-format.md) or Moodle GIFT (`kit.content.gift`); both
become a `Quiz` of `Question`s and go through `check_quiz`, which reports every problem with its
line. A pack stores `Quiz.to_dict()`; the server shows `public_view()` and scores with `grade()`.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..core.errors import Problem, QuizError
from ..core.textfold import fold

QUESTION_TYPES = ("single", "multiple", "truefalse", "short", "numeric", "matching", "ordering",
                  "essay", "description")
FORMATS = ("markdown", "html", "plain", "moodle")
# Credit at or above this is full marks: GIFT weights such as 3 × 33.333% never sum to exactly 1.
FULL = 0.999
# "*" as a short or numeric answer accepts anything (Moodle's catch-all, used for "wrong" feedback).
CATCH_ALL = "*"
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


# ---------------------------------------------------------------------------------------- model

@dataclass
class Answer:
    """One answer of a single, multiple, short or numeric question.

    Numeric answers accept `value ± tolerance`, or anything in `min..max`.
    """

    text: str = ""
    credit: float = 0.0
    feedback: str = ""
    value: float | None = None
    tolerance: float = 0.0
    min: float | None = None
    max: float | None = None
    line: int | None = field(default=None, compare=False, repr=False)  # source line, not stored

    def accepts(self, number: float) -> bool:
        """Whether a numeric response falls within this answer."""
        if self.text == CATCH_ALL:
            return True
        if self.value is not None:
            # A hair of slack so that 0.1 + 0.2 still equals 0.3.
            return abs(number - self.value) <= self.tolerance + 1e-9 * max(1.0, abs(self.value))
        return self.min is not None and self.max is not None and self.min <= number <= self.max


@dataclass
class Question:
    """One question of any type in QUESTION_TYPES; only the fields of its type are filled."""

    id: str
    type: str
    text: str
    hint: str = ""
    answers: list[Answer] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)  # matching: (left, right)
    distractors: list[str] = field(default_factory=list)  # matching: extra right-hand choices
    items: list[str] = field(default_factory=list)  # ordering: in the correct order
    answer: bool | None = None  # truefalse
    feedback_true: str = ""  # truefalse: shown to whoever answers "true"
    feedback_false: str = ""
    general_feedback: str = ""  # shown after any answer
    category: str = ""
    format: str = "markdown"  # of text, hint, answers and feedback: one of FORMATS
    line: int | None = field(default=None, compare=False, repr=False)  # source line, not stored

    def match_choices(self) -> list[str]:
        """The right-hand texts a matching question offers, in an order that gives nothing away."""
        texts = {right for _, right in self.pairs} | set(self.distractors)
        return sorted(texts, key=lambda t: (fold(t), t))

    def shuffled_items(self, seed: str) -> list[int]:
        """Ordering: indices into `items` in the order to show them; never the correct order."""
        def key(i: int) -> str:
            return hashlib.sha256(f"{seed}\0{self.id}\0{i}".encode()).hexdigest()
        order = sorted(range(len(self.items)), key=key)
        if len(order) >= 2 and order == sorted(order):
            order = order[1:] + order[:1]
        return order

    def unshuffle(self, seed: str, positions: Any) -> list[int] | None:
        """Turn positions in the shown (shuffled) list into indices into `items`.

        A page posts positions, not item indices, so its source never reveals the correct order.
        """
        shown = self.shuffled_items(seed)
        if not _is_permutation(positions, len(shown)):
            return None
        return [shown[p] for p in positions]

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"id": self.id, "type": self.type, "text": self.text, "format": self.format}
        for name in ("hint", "general_feedback", "category", "feedback_true", "feedback_false"):
            if getattr(self, name):
                d[name] = getattr(self, name)
        if self.answer is not None:
            d["answer"] = self.answer
        if self.answers:
            d["answers"] = [_answer_to_dict(a) for a in self.answers]
        if self.pairs:
            d["pairs"] = [[left, right] for left, right in self.pairs]
        if self.distractors:
            d["distractors"] = list(self.distractors)
        if self.items:
            d["items"] = list(self.items)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Question":
        return cls(
            id=str(d["id"]), type=str(d["type"]), text=str(d["text"]), format=str(d.get("format", "markdown")),
            hint=d.get("hint", ""), general_feedback=d.get("general_feedback", ""),
            category=d.get("category", ""), feedback_true=d.get("feedback_true", ""),
            feedback_false=d.get("feedback_false", ""), answer=d.get("answer"),
            answers=[_answer_from_dict(a) for a in d.get("answers", [])],
            pairs=[(str(left), str(right)) for left, right in d.get("pairs", [])],
            distractors=[str(t) for t in d.get("distractors", [])],
            items=[str(t) for t in d.get("items", [])])


def _answer_to_dict(a: Answer) -> dict:
    d: dict[str, Any] = {"text": a.text, "credit": float(a.credit)}
    if a.feedback:
        d["feedback"] = a.feedback
    for name in ("value", "min", "max"):
        if getattr(a, name) is not None:
            d[name] = float(getattr(a, name))
    if a.tolerance:
        d["tolerance"] = float(a.tolerance)
    return d


def _answer_from_dict(d: dict) -> Answer:
    def number(name: str) -> float | None:
        return None if d.get(name) is None else float(d[name])
    return Answer(text=str(d.get("text", "")), credit=float(d.get("credit", 0.0)),
                  feedback=str(d.get("feedback", "")), value=number("value"),
                  tolerance=float(d.get("tolerance", 0.0)), min=number("min"), max=number("max"))


@dataclass
class Quiz:
    """A lesson's quiz in one language, as a pack stores it."""

    questions: list[Question] = field(default_factory=list)
    mastery_m: int | None = None  # mastered with m fully correct of the last n attempts
    mastery_n: int | None = None

    def find(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)

    def to_dict(self) -> dict:
        """A JSON-safe dict; the same quiz always gives the same dict (packs are hashed)."""
        d: dict[str, Any] = {"questions": [q.to_dict() for q in self.questions]}
        if self.mastery_m is not None and self.mastery_n is not None:
            d["mastery"] = {"m": self.mastery_m, "n": self.mastery_n}
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "Quiz":
        try:
            mastery = d.get("mastery") or {}
            return cls(questions=[Question.from_dict(q) for q in d["questions"]],
                       mastery_m=mastery.get("m"), mastery_n=mastery.get("n"))
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise QuizError(f"stored quiz data is malformed ({e!r}); rebuild the pack") from e


# -------------------------------------------------------------------------------------- grading

@dataclass
class Grade:
    """The outcome of one answer: what it earns and what the learner is told."""

    credit: float | None  # 0..1; None when not auto-graded (essay, description)
    correct: bool
    feedback: list[str] = field(default_factory=list)


def grade(question: Question, response: Any) -> Grade:
    """Score a learner's response, shaped as the web form sends it once parsed:

    single: int (index into answers)      multiple: list[int] (indices into answers)
    truefalse: bool                       short, essay: str      numeric: str or float
    matching: list[int], for each pair in order, an index into `match_choices()`
    ordering: list[int], the learner's order as indices into `items` (see `Question.unshuffle`)

    A missing or malformed response scores 0; it never raises.
    """
    general = [question.general_feedback] if question.general_feedback else []
    scorer = _SCORERS.get(question.type)
    if scorer is None:  # essay, description: kept for the teacher
        return Grade(None, False, general)
    credit, feedback = scorer(question, response)
    credit = min(1.0, max(0.0, credit))
    return Grade(credit, credit >= FULL, [f for f in feedback if f] + general)


def _is_index(value: Any, size: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < size


def _is_index_list(value: Any, size: int) -> bool:
    return isinstance(value, (list, tuple)) and all(_is_index(v, size) for v in value)


def _is_permutation(value: Any, size: int) -> bool:
    return _is_index_list(value, size) and sorted(value) == list(range(size))


def _score_single(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: the index of the chosen answer."""
    if not _is_index(response, len(q.answers)):
        return 0.0, []
    chosen = q.answers[response]
    return chosen.credit, [chosen.feedback]


def _score_multiple(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: the indices of the chosen answers; wrong choices may take credit away."""
    if not _is_index_list(response, len(q.answers)):
        return 0.0, []
    chosen = [q.answers[i] for i in sorted(set(response))]
    return sum(a.credit for a in chosen), [a.feedback for a in chosen]


def _score_truefalse(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: True or False."""
    if not isinstance(response, bool):
        return 0.0, []
    feedback = q.feedback_true if response else q.feedback_false
    return (1.0 if response == q.answer else 0.0), [feedback]


def _score_short(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: the typed text; case, accents and Arabic diacritics don't matter."""
    if not isinstance(response, str) or not fold(response):
        return 0.0, []
    typed = fold(response)
    return _best([a for a in q.answers if _short_matches(a.text, typed)])


def _short_matches(text: str, typed: str) -> bool:
    """Whether folded `typed` is the answer `text`, where (as in Moodle) each "*" stands for
    any run of characters. The pieces between stars are found in order, each as early as
    possible: a regex of ".*" would backtrack for minutes on "*a*a*a*b*" against a long text."""
    pieces = fold(text).split("*")
    if len(pieces) == 1:
        return typed == pieces[0]
    first, *middle, last = pieces
    if len(typed) < len(first) + len(last) or not typed.startswith(first) or not typed.endswith(last):
        return False
    at, end = len(first), len(typed) - len(last)
    for piece in middle:
        found = typed.find(piece, at, end)
        if found < 0:
            return False
        at = found + len(piece)
    return True


def _score_numeric(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: the typed text (or a number)."""
    number = parse_number(response)
    if number is None:
        return 0.0, []
    return _best([a for a in q.answers if a.accepts(number)])


def _best(matching: list[Answer]) -> tuple[float, list[str]]:
    if not matching:
        return 0.0, []
    best = max(matching, key=lambda a: a.credit)  # first of the best, in the author's order
    return best.credit, [best.feedback]


def _score_matching(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: for each pair in order, the index of the chosen text in `match_choices()`."""
    choices = q.match_choices()
    if not q.pairs or not _is_index_list(response, len(choices)) or len(response) != len(q.pairs):
        return 0.0, []
    right = sum(choices[i] == r for i, (_, r) in zip(response, q.pairs))
    return right / len(q.pairs), []


def _score_ordering(q: Question, response: Any) -> tuple[float, list[str]]:
    """response: the learner's order, as indices into `items`; each item in place earns its share."""
    if not q.items or not _is_permutation(response, len(q.items)):
        return 0.0, []
    in_place = sum(i == position for position, i in enumerate(response))
    return in_place / len(q.items), []


_SCORERS = {"single": _score_single, "multiple": _score_multiple, "truefalse": _score_truefalse,
            "short": _score_short, "numeric": _score_numeric, "matching": _score_matching,
            "ordering": _score_ordering}

# Arabic decimal separator and thousands separator, then the spaces people put between thousands.
_NUMBER_MARKS = str.maketrans({"\u066b": ".", "\u066c": None, " ": None, "\u00a0": None,
                               "\u202f": None, "'": None})
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$")


def parse_number(response: Any) -> float | None:
    """Read a typed number: "0,25", " 25 % ", "٣٫٥", "1 000" and "-2e3" all work; None if not a number.

    A lone comma is a decimal comma, as in French and Arabic: "1,5" is one and a half.
    """
    if isinstance(response, bool) or not isinstance(response, (int, float, str)):
        return None
    if isinstance(response, str):
        response = _number_text(response)
        if response is None:
            return None
    try:
        number = float(response)
    except OverflowError:  # an int too large for a float
        return None
    return number if math.isfinite(number) else None


# A unit typed after the number ("150 DH", "150 درهم", "3 kg", "20 €") is not part of the answer.
_UNIT = re.compile(r"(?<=[\d\s.,])\s*(?:[^\W\d_]{1,12}\.?|[€$£])$")


def _number_text(typed: str) -> str | None:
    text = _UNIT.sub("", fold(typed).strip())
    text = text.translate(_NUMBER_MARKS).replace("\u2212", "-").removesuffix("%")
    if "," in text:
        # With a dot as well ("1,000.5"), or several ("1,000,000"), commas group thousands.
        text = text.replace(",", "") if "." in text or text.count(",") > 1 else text.replace(",", ".")
    return text if _NUMBER.match(text) else None


# ------------------------------------------------------------------------------------ public view

def public_view(question: Question, seed: str = "") -> dict:
    """What a page may show before the learner answers: no credits, no correct flags, no feedback.

    Ordering items come shuffled by `seed`; the page posts positions in this list, which
    `Question.unshuffle(seed, positions)` turns back into a response for `grade`.
    """
    view: dict[str, Any] = {"id": question.id, "type": question.type, "text": question.text,
                            "format": question.format}
    if question.hint:
        view["hint"] = question.hint
    if question.type in ("single", "multiple"):
        view["choices"] = [a.text for a in question.answers]
    elif question.type == "matching":
        view["lefts"] = [left for left, _ in question.pairs]
        view["choices"] = question.match_choices()
    elif question.type == "ordering":
        view["items"] = [question.items[i] for i in question.shuffled_items(seed)]
    return view


# ---------------------------------------------------------------------------------------- checks

Found = tuple["int | None", str]  # (line, message) of one problem, before a path is attached


def check_quiz(quiz: Quiz) -> list[Found]:
    """Every problem of a quiz, whatever its source format."""
    found = check_quiz_level(quiz)
    for q in quiz.questions:
        found.extend(check_question(q))
    return sorted(found, key=lambda f: f[0] or 0)


def check_quiz_level(quiz: Quiz) -> list[Found]:
    """Problems of the quiz as a whole: its mastery rule, and question ids used twice."""
    found: list[Found] = []
    if quiz.mastery_m is not None or quiz.mastery_n is not None:
        m, n = quiz.mastery_m, quiz.mastery_n
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (m, n)) or not 1 <= m <= n:
            found.append((None, "mastery needs whole numbers 1 <= m <= n, e.g. {m: 3, n: 5}"))
    seen: dict[str, int | None] = {}
    for q in quiz.questions:
        if q.id in seen:
            where = f" (first at line {seen[q.id]})" if seen[q.id] else ""
            found.append((q.line, f"question id {q.id!r} is used twice{where}; ids must be unique"))
        seen.setdefault(q.id, q.line)
    return found


def check_question(q: Question) -> list[Found]:
    """The problems of one question: what it needs to be answerable and gradable."""
    found: list[Found] = []

    def say(message: str, line: int | None = None) -> None:
        found.append((line or q.line, f"question {q.id}: {message}"))

    if not _ID.match(q.id):
        say("id must be letters, digits, '-', '_' or '.' (at most 64)")
    if q.type not in QUESTION_TYPES:
        say(f"unknown type {q.type!r}; use one of {', '.join(QUESTION_TYPES)}")
        return found
    if q.format not in FORMATS:
        say(f"unknown text format {q.format!r}; use one of {', '.join(FORMATS)}")
    if not q.text.strip():
        say("has no text")
    _TYPE_CHECKS.get(q.type, _check_nothing)(q, say)
    return found


def _check_nothing(q: Question, say) -> None:
    pass


def _check_credits(q: Question, say, low: float) -> None:
    for n, a in enumerate(q.answers, 1):
        if not low <= a.credit <= 1:
            say(f"answer {n} has credit {a.credit:g}; credits go from {low:g} to 1", a.line)


def _check_choice_texts(q: Question, say) -> None:
    if len(q.answers) < 2:
        say(f"a {q.type} question needs at least 2 answers, has {len(q.answers)}")
    for n, a in enumerate(q.answers, 1):
        if not a.text.strip():
            say(f"answer {n} has no text", a.line)


def _check_single(q: Question, say) -> None:
    _check_choice_texts(q, say)
    _check_credits(q, say, -1)
    correct = sum(a.credit >= FULL for a in q.answers)
    if correct != 1:
        say(f"needs exactly one correct answer, has {correct} (YAML: correct: true; GIFT: =answer)")


def _check_multiple(q: Question, say) -> None:
    _check_choice_texts(q, say)
    _check_credits(q, say, -1)
    total = sum(a.credit for a in q.answers if a.credit > 0)
    if abs(total - 1) > 0.01:
        say(f"the credits of the correct answers sum to {total:g}; they must sum to 1")


def _check_truefalse(q: Question, say) -> None:
    if not isinstance(q.answer, bool):
        say("needs its answer: true or false")


def _check_short(q: Question, say) -> None:
    if not q.answers:
        say("needs at least one accepted answer")
    _check_credits(q, say, 0)
    for n, a in enumerate(q.answers, 1):
        if not fold(a.text):
            say(f"answer {n} has no text", a.line)
    _check_full_credit(q, say)


def _check_full_credit(q: Question, say) -> None:
    if q.answers and not any(a.credit >= FULL for a in q.answers):
        say("no answer gives full credit; give one credit 1")


def _check_numeric(q: Question, say) -> None:
    if not q.answers:
        say("needs at least one accepted number")
    _check_credits(q, say, 0)
    for n, a in enumerate(q.answers, 1):
        _check_numeric_answer(a, n, say)
    _check_full_credit(q, say)


def _check_numeric_answer(a: Answer, n: int, say) -> None:
    has_value = a.value is not None
    has_range = a.min is not None or a.max is not None
    if a.text == CATCH_ALL:
        return
    if has_value == has_range:
        say(f"answer {n} needs either a value (with a tolerance) or a range min..max", a.line)
    elif has_range and (a.min is None or a.max is None or a.min > a.max):
        say(f"answer {n} needs a range with min <= max", a.line)
    if a.tolerance < 0:
        say(f"answer {n} has a negative tolerance", a.line)


def _check_matching(q: Question, say) -> None:
    if len(q.pairs) < 2:
        say(f"a matching question needs at least 2 pairs, has {len(q.pairs)}")
    lefts = [fold(left) for left, _ in q.pairs]
    if any(not left for left in lefts) or any(not fold(right) for _, right in q.pairs):
        say("every pair needs text on both sides")
    if len(set(lefts)) != len(lefts):
        say("two pairs have the same left-hand text")


def _check_ordering(q: Question, say) -> None:
    if len(q.items) < 2:
        say(f"an ordering question needs at least 2 items, has {len(q.items)}")
    folded = [fold(item) for item in q.items]
    if any(not item for item in folded):
        say("an item has no text")
    if len(set(folded)) != len(folded):
        say("two items have the same text, so their order cannot be graded")


def _check_no_answers(q: Question, say) -> None:
    if q.answers or q.pairs or q.items or q.answer is not None:
        say(f"a {q.type} question takes no answers")


_TYPE_CHECKS = {"single": _check_single, "multiple": _check_multiple, "truefalse": _check_truefalse,
                "short": _check_short, "numeric": _check_numeric, "matching": _check_matching,
                "ordering": _check_ordering, "essay": _check_no_answers, "description": _check_no_answers}


# ------------------------------------------------------------------------------------ loading

def load_quiz(path: Path) -> Quiz:
    """Read and check a quiz file: `.yml`/`.yaml` (docs/course-format.md) or `.gift` (Moodle).

    Raises QuizError listing every problem with its line.
    """
    path = Path(path)
    text = _read_text(path)
    suffix = path.suffix.lower()
    if suffix in (".yml", ".yaml"):
        return parse_quiz_yaml(text, str(path))
    if suffix == ".gift":
        from .gift import parse_gift  # gift builds on this module's model, so it imports us
        return parse_gift(text, str(path))
    raise QuizError(f"{path}: not a quiz file; name it <lesson>.<lang>.quiz.yml or .gift")


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise QuizError(f"cannot read {path}: {e.strerror}; check the path") from e
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = data[:e.start].count(b"\n") + 1
        raise QuizError(f"{path} is not UTF-8 text; save it as UTF-8",
                        [Problem(path, line, "bytes that are not UTF-8")]) from e


def quiz_error(found: list[Found], path: str) -> QuizError:
    """One QuizError carrying every problem found, each with the file's path."""
    problems = [Problem(path, line, message) for line, message in found]
    return QuizError(f"{path}: {len(problems)} problem(s) in the quiz; fix them and try again", problems)


def raise_problems(found: list[Found], path: str) -> None:
    if found:
        raise quiz_error(found, path)


# ---------------------------------------------------------------------------------- YAML reader

# Keys whose values are always text, even when YAML would read them as a number, date or boolean
# ("text: 1984" is the answer "1984", not the integer).
_TEXT_KEYS = {"id", "text", "hint", "feedback", "left", "right", "items", "distractors"}
_TOP_KEYS = {"questions", "mastery"}
_COMMON_KEYS = {"id", "type", "text", "hint", "feedback"}
_TYPE_KEYS = {"single": {"answers"}, "multiple": {"answers"}, "short": {"answers"},
              "numeric": {"answers"}, "truefalse": {"answer"}, "matching": {"pairs", "distractors"},
              "ordering": {"items"}, "essay": set(), "description": set()}
_CHOICE_ANSWER_KEYS = {"text", "correct", "credit", "feedback"}
_NUMERIC_ANSWER_KEYS = {"value", "tolerance", "min", "max", "credit", "feedback"}


def parse_quiz_yaml(text: str, path: str = "<yaml>") -> Quiz:
    """Parse and check a YAML quiz; raises QuizError listing every problem with its line."""
    root, data = _compose(text, path)
    found: list[Found] = []
    if not isinstance(data, dict):
        raise quiz_error([(1, "a quiz file is a mapping with a `questions:` list")], path)
    for key in sorted(set(data) - _TOP_KEYS, key=str):
        found.append((_key_line(root, key), f"unknown key {key!r} (a quiz has questions and mastery)"))
    quiz = Quiz(questions=_yaml_questions(data.get("questions"), root, found))
    _yaml_mastery(data.get("mastery"), quiz, _key_line(root, "mastery"), found)
    found.extend(check_quiz_level(quiz))
    raise_problems(found, path)
    return quiz


# libyaml's C parser when present: ten times faster on a 5,000-lesson library, same nodes.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str, path: str) -> tuple[yaml.Node, Any]:
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        if root is not None:
            _text_as_strings(root, set())
            return root, loader.construct_document(root)
        error: Found = (1, "the file is empty; a quiz needs a `questions:` list")
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        # French punctuation ("Vrai ?", "Note :") is what usually trips YAML up.
        error = (mark.line + 1 if mark else None,
                 f"not valid YAML: {e.problem or e} (put texts with : ? # , [ ] {{ }} in quotes)")
    except yaml.YAMLError as e:
        error = (None, f"not valid YAML: {e}")
    finally:
        loader.dispose()
    raise quiz_error([error], path)


def _text_as_strings(node: yaml.Node, seen: set[int]) -> None:
    """Retag the plain scalars under text keys as strings, before YAML resolves their types."""
    if id(node) in seen:  # aliases share nodes; visit each once
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value in _TEXT_KEYS:
                _retag_strings(value)
            _text_as_strings(value, seen)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _text_as_strings(item, seen)


def _retag_strings(node: yaml.Node) -> None:
    if isinstance(node, yaml.ScalarNode):
        node.tag = "tag:yaml.org,2002:str"
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _retag_strings(item)
    elif isinstance(node, yaml.MappingNode):  # truefalse feedback: {true: ..., false: ...}
        for _, value in node.value:
            _retag_strings(value)


def _line(node: yaml.Node | None) -> int | None:
    return node.start_mark.line + 1 if node is not None else None


def _value_node(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            if isinstance(k, yaml.ScalarNode) and k.value == key:
                return v
    return None


def _key_line(node: yaml.Node | None, key: str) -> int | None:
    return _line(_value_node(node, key)) or _line(node)


def _item_nodes(node: yaml.Node | None) -> list[yaml.Node]:
    return list(node.value) if isinstance(node, yaml.SequenceNode) else []


def _yaml_mastery(raw: Any, quiz: Quiz, line: int | None, found: list[Found]) -> None:
    if raw is None:
        return
    if not isinstance(raw, dict) or set(raw) != {"m", "n"}:
        found.append((line, "mastery is written {m: 3, n: 5} (m correct of the last n attempts)"))
        return
    quiz.mastery_m, quiz.mastery_n = raw["m"], raw["n"]


def _yaml_questions(raw: Any, root: yaml.Node, found: list[Found]) -> list[Question]:
    seq = _value_node(root, "questions")
    if not isinstance(raw, list) or not raw:
        found.append((_line(seq) or 1, "a quiz needs a non-empty `questions:` list"))
        return []
    questions = []
    for position, (item, node) in enumerate(zip(raw, _item_nodes(seq)), 1):
        mine: list[Found] = []
        question = _yaml_question(item, node, position, mine)
        if question is not None:
            questions.append(question)
            # A question whose shape is wrong would only repeat its problems here.
            mine = mine or check_question(question)
        found.extend(mine)
    return questions


def _yaml_question(raw: Any, node: yaml.Node, position: int, found: list[Found]) -> Question | None:
    line = _line(node)
    if not isinstance(raw, dict):
        found.append((line, f"question {position} must be a mapping with id, type and text"))
        return None
    qid = str(raw.get("id", f"q{position}"))
    qtype = raw.get("type")

    def say(message: str, at: int | None = None) -> None:
        found.append((at or line, f"question {qid}: {message}"))

    if qtype not in QUESTION_TYPES:
        say(f"type {qtype!r} is unknown; use one of {', '.join(QUESTION_TYPES)}" if qtype
            else f"needs a type: one of {', '.join(QUESTION_TYPES)}", _key_line(node, "type"))
        return None
    for key in sorted(set(raw) - _COMMON_KEYS - _TYPE_KEYS[qtype], key=str):
        say(f"unknown key {key!r} for a {qtype} question{_comma_hint(raw[key])}", _key_line(node, str(key)))
    q = Question(id=qid, type=qtype, text=_text(raw, "text", say), hint=_text(raw, "hint", say), line=line)
    _yaml_feedback(raw.get("feedback"), q, say)
    _yaml_answers(raw.get("answers"), _item_nodes(_value_node(node, "answers")), q, say)
    _yaml_type_fields(raw, node, q, say)
    return q


def _comma_hint(value: Any) -> str:
    # In {text: a, b} the comma ends the text and makes "b" a key with no value.
    return " (a comma in unquoted text starts a new key: quote the text)" if value is None else ""


def _text(raw: dict, key: str, say) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        say(f"{key} must be text")
        return ""
    return value.strip()


def _yaml_feedback(raw: Any, q: Question, say) -> None:
    if raw is None:
        return
    if q.type == "truefalse" and isinstance(raw, dict):
        # YAML reads the keys true/false as booleans; "true"/"false" in quotes work too.
        by_choice = {str(k).lower(): v for k, v in raw.items()}
        unknown = set(by_choice) - {"true", "false"}
        if unknown:
            say("truefalse feedback is written {true: ..., false: ...}")
        q.feedback_true, q.feedback_false = by_choice.get("true", ""), by_choice.get("false", "")
    elif isinstance(raw, str):
        q.general_feedback = raw.strip()
    else:
        say("feedback must be text" + (" or {true: ..., false: ...}" if q.type == "truefalse" else ""))


def _yaml_type_fields(raw: dict, node: yaml.Node, q: Question, say) -> None:
    if "answer" in raw:
        if not isinstance(raw["answer"], bool):
            say("answer must be true or false", _key_line(node, "answer"))
        else:
            q.answer = raw["answer"]
    if "pairs" in raw:
        q.pairs = _yaml_pairs(raw["pairs"], _item_nodes(_value_node(node, "pairs")), say)
    for key in ("items", "distractors"):
        if key in raw:
            texts = raw[key]
            if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
                say(f"{key} must be a list of texts", _key_line(node, key))
            else:
                setattr(q, key, [t.strip() for t in texts])


def _yaml_pairs(raw: Any, nodes: list[yaml.Node], say) -> list[tuple[str, str]]:
    if not isinstance(raw, list):
        say("pairs must be a list of {left: ..., right: ...}")
        return []
    pairs = []
    for n, (item, node) in enumerate(zip(raw, nodes), 1):
        if not isinstance(item, dict) or set(item) != {"left", "right"} \
                or not all(isinstance(v, str) for v in item.values()):
            say(f"pair {n} must be written {{left: ..., right: ...}}", _line(node))
            continue
        pairs.append((item["left"].strip(), item["right"].strip()))
    return pairs


def _yaml_answers(raw: Any, nodes: list[yaml.Node], q: Question, say) -> None:
    if raw is None:
        return
    if not isinstance(raw, list):
        say("answers must be a list")
        return
    flagged = []  # answers marked correct: true without a credit of their own
    for n, (item, node) in enumerate(zip(raw, nodes), 1):
        answer = _yaml_answer(item, n, _line(node), q.type, say)
        if answer is not None:
            q.answers.append(answer)
            if isinstance(item, dict) and item.get("correct") is True and "credit" not in item:
                flagged.append(answer)
    if q.type == "multiple" and flagged:
        # Correct answers without credits share the credit equally.
        for answer in flagged:
            answer.credit = 1 / len(flagged)


def _yaml_answer(raw: Any, n: int, line: int | None, qtype: str, say) -> Answer | None:
    allowed = _NUMERIC_ANSWER_KEYS if qtype == "numeric" else _CHOICE_ANSWER_KEYS
    if not isinstance(raw, dict):
        example = "{value: 20, credit: 1}" if qtype == "numeric" else "{text: ..., correct: true}"
        say(f"answer {n} must be a mapping such as {example}", line)
        return None
    for key in sorted(set(raw) - allowed, key=str):
        say(f"answer {n} has unknown key {key!r}; use {', '.join(sorted(allowed))}{_comma_hint(raw[key])}", line)
    if "correct" in raw and not isinstance(raw["correct"], bool):
        say(f"answer {n}: correct must be true or false", line)
    # A listed short or numeric answer is accepted in full unless it says otherwise.
    default = 1.0 if qtype in ("short", "numeric") or raw.get("correct") is True else 0.0
    numbers = {key: _number(raw, key, n, line, say) for key in ("credit", "value", "tolerance", "min", "max")}
    return Answer(text=_answer_text(raw, n, line, say), feedback=_answer_text(raw, n, line, say, "feedback"),
                  credit=default if numbers["credit"] is None else numbers["credit"],
                  value=numbers["value"], tolerance=numbers["tolerance"] or 0.0,
                  min=numbers["min"], max=numbers["max"], line=line)


def _answer_text(raw: dict, n: int, line: int | None, say, key: str = "text") -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        say(f"answer {n}: {key} must be text", line)
        return ""
    return value.strip()


def _number(raw: dict, key: str, n: int, line: int | None, say) -> float | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        say(f"answer {n}: {key} must be a number, not {value!r}", line)
        return None
    return float(value)

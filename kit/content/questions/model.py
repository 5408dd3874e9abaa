"""What every question type shares: the Question record a pack stores, its answers, a grade,
and `QuestionType`, the record of what one type does (read, check, grade, show, read a form).
Each type module fills one QuestionType; the package's `TYPES` lists them.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from markupsafe import Markup

# Credit at or above this is full marks: GIFT weights such as 3 × 33.333% never sum to exactly 1.
FULL = 0.999
# "*" as a short or numeric answer accepts anything (Moodle's catch-all, used for "wrong" feedback).
CATCH_ALL = "*"
FORMATS = ("markdown", "html", "plain", "moodle")
MAX_TEXT = 2000  # a typed answer is cut here: one learner cannot fill the events table

Found = tuple["int | None", str]  # (line, message) of one problem, before a path is attached
Say = Callable[..., None]  # say(message, line=None): report one problem of a question


def N_(message: str) -> str:
    """Marks a message id for the server's catalogs (kit/server/translations); the web
    translates it where it shows it. Content never translates: it knows no request."""
    return message


MISSING = N_("Answer this question to go on.")
LIST_MISSING = N_("Choose an answer in every list.")
RIGHT_ORDER = N_("The right order:")
RIGHT_PAIRS = N_("The right pairs:")


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


@dataclass
class Question:
    """One question of any registered type; only the fields of its type are filled."""

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
    # What the teacher called it (GIFT's ::title::, YAML's name:), shown on the teachers' pages;
    # the id stays what progress is keyed by. Moodle's [id:...] and [tag:...] come with a bank.
    name: str = ""
    idnumber: str = ""
    tags: list[str] = field(default_factory=list)
    line: int | None = field(default=None, compare=False, repr=False)  # source line, not stored

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"id": self.id, "type": self.type, "text": self.text, "format": self.format}
        # Fields left empty are not written, so a pack built before they existed reads the same.
        for name in ("hint", "general_feedback", "category", "feedback_true", "feedback_false",
                     "name", "idnumber"):
            if getattr(self, name):
                d[name] = getattr(self, name)
        if self.tags:
            d["tags"] = list(self.tags)
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
            name=str(d.get("name", "")), idnumber=str(d.get("idnumber", "")),
            tags=[str(t) for t in d.get("tags", [])],
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


@dataclass(frozen=True)
class Solution:
    """The right answer, shown after a wrong one: a heading (a message id the web translates)
    and the lines under it, as plain text, numbered when their order is the answer."""

    title: str
    lines: list[str]
    numbered: bool = False


@dataclass
class Grade:
    """The outcome of one answer: what it earns and what the learner is told."""

    credit: float | None  # 0..1; None when not auto-graded (essay, description)
    correct: bool
    feedback: list[str] = field(default_factory=list)


# Responses are posted by anyone: these tell a well-formed one from the rest.

def is_index(value: Any, size: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < size


def is_index_list(value: Any, size: int) -> bool:
    return isinstance(value, (list, tuple)) and all(is_index(v, size) for v in value)


def is_permutation(value: Any, size: int) -> bool:
    return is_index_list(value, size) and sorted(value) == list(range(size))


# ---------------------------------------------------------------------------- what types read

@dataclass
class Fields:
    """One question's mapping as a YAML file wrote it: its values, and lines to point at."""

    raw: dict
    line: int | None  # the question's own line
    key_lines: dict[str, "int | None"] = field(default_factory=dict)  # line of each key's value
    item_lines: dict[str, "list[int | None]"] = field(default_factory=dict)  # of each list item

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key) or self.line

    def items(self, key: str) -> list[tuple[Any, "int | None"]]:
        """(item, its line) for each item of a list value."""
        return list(zip(self.raw[key], self.item_lines.get(key, [])))

    def texts(self, key: str, say: "Say") -> "list[str] | None":
        """A list of texts (ordering's items, matching's distractors), trimmed; None, and a
        problem said, when it is something else."""
        texts = self.raw[key]
        if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
            say(f"{key} must be a list of texts", self.line_of(key))
            return None
        return [t.strip() for t in texts]


class FormData(Protocol):
    """A posted form as werkzeug's MultiDict gives it (content imports no web framework)."""

    def get(self, key: str, default: Any = None) -> Any: ...

    def getlist(self, key: str) -> list: ...


def field_name(q: Question) -> str:
    """The form field of a question's answer (`<name>-<i>` for one of several lists)."""
    return f"a-{q.id}"


def plain_text(html: str) -> str:
    """A rendered text (a choice, an item) as plain text, to describe what a learner chose."""
    return Markup(html).striptags()


_POSITION = re.compile(r"[0-9]{1,4}")


def form_position(value: str) -> int | None:
    """A choice's position as a page posts it, or None: ASCII digits only, and few of them
    (int() also reads "٣", str.isdigit() also passes "¹", and int() of 5,000 digits raises)."""
    return int(value) if _POSITION.fullmatch(value) else None


def read_typed(q: Question, form: FormData, seed: str = "") -> tuple[Any, str]:
    """A typed answer (short, numeric, essay), or MISSING when the box was left empty."""
    text = form.get(field_name(q), "").strip()[:MAX_TEXT]
    return (text, "") if text else (None, MISSING)


def read_lists(q: Question, form: FormData, count: int) -> list[int] | None:
    """The index chosen in each of `count` lists of choices (matching, ordering); None if one is
    left empty (then say LIST_MISSING)."""
    values = [form_position(form.get(f"{field_name(q)}-{i}", "")) for i in range(count)]
    return values if None not in values else None


def swap_neighbours(order: list, rng: random.Random) -> list:
    """A learner's likely slip in a list of picks (matching, ordering): two neighbours swapped."""
    swapped = list(order)
    if len(swapped) > 1:
        i = rng.randrange(len(swapped) - 1)
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
    return swapped


class GiftPart(Protocol):
    """One answer of a GIFT answer block, as kit.content.gift cut it: `=` or `~`, its text and
    line. GIFT's notation inside it (escapes, `%50%`, `#feedback`, `[format]`) is gift's to read."""

    marker: str
    text: str
    line: int

    def weighted(self) -> tuple[float | None, str]: ...  # (the %50% weight as 0.5 or None, the rest)

    def answer(self, credit: float, text: str) -> Answer: ...  # "text#feedback" as an Answer

    def piece(self, text: str) -> str: ...  # a piece of the text as the question keeps it

    def shown(self) -> str: ...  # the whole part as written, for messages

    def error(self, message: str) -> Exception: ...  # to raise: the question cannot be read


# ------------------------------------------------------------------------------- one type

Translate = Callable[[str], str]


def _takes_nothing(q: Question, fields: Fields, say: Say) -> None:
    pass


def _nothing_to_describe(q: Question, response: Any, translate: Translate) -> list[str]:
    return []


def _shows_nothing_more(q: Question, seed: str) -> dict:
    return {}


@dataclass(frozen=True)
class QuestionType:
    """Everything the kit does with questions of one type; `name` is their `type` field.

    The hooks take plain data: a Question, a parsed response (see `grade`), a mapping posted
    by a form. A type with no `grade` is not auto-graded (kept for the teacher, or nothing to
    grade); a type with no `read_form` is not answered at all (text shown between questions).
    """

    name: str
    check: Callable[[Question, Say], None]
    # YAML: the keys this type takes beside id, type, text, hint and feedback, those of them
    # whose values are always text (never numbers or dates), and how they are read. A type
    # that lists "feedback" reads a feedback that is not plain text itself.
    yaml_keys: frozenset = frozenset()
    yaml_text_keys: frozenset = frozenset()
    read_yaml: Callable[[Question, Fields, Say], None] = _takes_nothing
    # GIFT: the fields of a question from the answers of its block, once kit.content.gift has
    # told its type by GIFT's syntax; None for the types GIFT writes without answers of this
    # kind (truefalse, numeric: GIFT's own notation, read by gift; essay, description)
    from_gift: "Callable[[Question, list[GiftPart]], None] | None" = None
    # response -> (credit before clamping, feedback of what was chosen)
    grade: "Callable[[Question, Any], tuple[float, list[str]]] | None" = None
    # what a page may show beside id, type, text, format and hint: never a key
    view: Callable[[Question, str], dict] = _shows_nothing_more
    # posted form -> (response as `grade` takes it, "") or (None, message id of what to fix)
    read_form: "Callable[[Question, FormData, str], tuple[Any, str]] | None" = None
    # plausible responses for made-up activity (kit.demo): a right one, and a learner's mistake
    demo_right: "Callable[[Question], Any] | None" = None
    demo_wrong: "Callable[[Question, random.Random], Any] | None" = None
    # a recorded response that is not typed text, as lines of plain text ("True", "Wi-Fi: sans fil")
    describe: Callable[[Question, Any, Translate], "list[str]"] = _nothing_to_describe
    renders_answer_texts: bool = False  # its answers' texts are shown, so a pack renders them
    # the right answer as a list, for the feedback after a wrong one (never on a question page)
    solution: "Callable[[Question], Solution] | None" = None

    @property
    def answerable(self) -> bool:
        return self.read_form is not None

    @property
    def auto_graded(self) -> bool:
        return self.grade is not None

    @property
    def read_by_teacher(self) -> bool:
        """Answered, but graded by a person (an essay): the teachers' pages list these answers."""
        return self.answerable and not self.auto_graded

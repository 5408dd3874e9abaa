r"""Moodle's GIFT quiz format, read into the kit's questions (`kit.content.questions`);
`kit.content.quiz.parse_gift` makes and checks the Quiz.

Follows Moodle's own importer (question/format/gift) and its user documentation: questions are
separated by blank lines, `//` lines are comments, `$CATEGORY:` sets the category of the
questions after it, `::title::` names a question, and the answer block `{...}` decides its type:

    {}                      essay               {T} {FALSE#wrong#right}  truefalse
    {=a ~b ~%50%c}          single (one `=`)    {~%50%a ~%50%b ~c}       multiple (weights only)
    {=a =%50%b =%0%*}       short               {#3.14:0.01} {#1..5}     numeric
    {=a -> 1 =b -> 2 = -> 3} matching (an empty left side is a distractor)
    no braces               description         text after the braces     missing word: "_____"

`#` starts an answer's feedback, `####` the question's general feedback; `[html]`, `[markdown]`,
`[plain]` and `[moodle]` set the text format (`[html]` text keeps its lines' indentation, and so
does any text inside `<pre>`; elsewhere continuation lines are trimmed); `::title::` is kept as
the question's name, and `[id:...]` and `[tag:...]` in the comment lines of a question (as Moodle
exports them) as its idnumber and tags; `\\ \~ \= \# \{ \} \:` are literal characters and
`\n` a new line. Unlike Moodle, anything ambiguous (an unclosed brace, text before the first
answer, `->` mixed with plain answers, two answer blocks in one question) is reported with its
line instead of being guessed at.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field

from .questions import type_named
from .questions.model import CATCH_ALL, Answer, Found, Question
from ..core.textfold import fold

BLANK = "_____"  # where the answer goes in a missing-word question (as Moodle writes it)
DEFAULT_FORMAT = "moodle"  # Moodle's default for GIFT: plain text with line breaks kept

# Escaped characters stand in as private-use characters while the structure is parsed, as
# in Moodle's importer, so that `\=` is never taken for an answer marker.
_ESCAPES = {"\\": "\ue000", "~": "\ue001", "=": "\ue002", "#": "\ue003", "{": "\ue004",
            "}": "\ue005", ":": "\ue006", "n": "\ue007"}
_ESCAPE = re.compile(r"\\([\\~=#{}:n])")
_UNESCAPE = str.maketrans({v: ("\n" if k == "n" else k) for k, v in _ESCAPES.items()})
_FORMAT = re.compile(r"\s*\[(html|markdown|plain|moodle)\]")
_WEIGHT = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
_BAD_WEIGHT = re.compile(r"^\s*%[^%\s]*%")
_TRUE_FALSE = {"T": True, "TRUE": True, "F": False, "FALSE": False}
_PRE_TAG = re.compile(r"<(/?)pre\b", re.I)
# As Moodle's importer reads them: the first [id:...] of a question's comments, every [tag:...];
# `\]` is a literal bracket inside either.
_IDNUMBER = re.compile(r"\[id:((?:\\\]|[^\]\x00-\x1f])+)\]")
_TAG = re.compile(r"\[tag:((?:\\\]|[^\]<>`\x00-\x1f])+)\]")


class _Syntax(Exception):
    """A problem that stops one question from being read: at a line, or an offset in its text."""

    def __init__(self, message: str, at: int = 0, line: int | None = None):
        super().__init__(message)
        self.at, self.line = at, line


@dataclass
class _Chunk:
    """The lines of one question (blank-line separated, comments set apart), escapes replaced.

    Lines keep their indentation (code in `<pre>` needs it) but the first, where the question
    starts; trailing spaces are dropped.
    """

    numbers: list[int]  # the file's line number of each line
    lines: list[str]
    comments: list[str] = field(default_factory=list)  # the `//` lines among them, as written

    @property
    def text(self) -> str:
        return "\n".join(self.lines)

    def line_at(self, offset: int) -> int:
        starts, position = [], 0
        for line in self.lines:
            starts.append(position)
            position += len(line) + 1
        return self.numbers[bisect.bisect_right(starts, offset) - 1]


def read_gift(text: str) -> tuple[list[Question], list[Found]]:
    """The questions of GIFT text, and the problems that kept some from being read, with their
    lines (the questions are checked by the caller, with the quiz)."""
    found: list[Found] = []
    questions: list[Question] = []
    category, position = "", 0
    for chunk in _chunks(text):
        category, chunk = _take_category(chunk, category, found)
        if chunk is None:
            continue
        position += 1
        question = _read_question(chunk, position, category, found)
        if question is not None:
            questions.append(question)
    _make_ids_unique(questions)
    return questions, found


def _chunks(text: str):
    """Yield each question's lines: blank lines separate questions, `//` lines are comments."""
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    chunk = _Chunk([], [])
    for number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip()
        if not line.strip():
            if chunk.lines:
                yield chunk
            chunk = _Chunk([], [])
        elif line.lstrip().startswith("//"):
            chunk.comments.append(line.strip())
        else:
            chunk.numbers.append(number)
            line = line if chunk.lines else line.lstrip()
            chunk.lines.append(_ESCAPE.sub(lambda m: _ESCAPES[m.group(1)], line))
    if chunk.lines:
        yield chunk


def _take_category(chunk: _Chunk, category: str, found: list[Found]) -> tuple[str, _Chunk | None]:
    """A `$CATEGORY: path` line sets the category of the questions after it."""
    if not chunk.lines[0].startswith("$CATEGORY:"):
        return category, chunk
    path = _plain(chunk.lines[0][len("$CATEGORY:"):])
    if not path:
        found.append((chunk.numbers[0], "$CATEGORY: needs a category path, e.g. $CATEGORY: fractions/easy"))
        path = category
    lines = chunk.lines[1:]
    if not lines:
        return path, None
    return path, _Chunk(chunk.numbers[1:], [lines[0].lstrip()] + lines[1:], chunk.comments)


def _plain(text: str, fmt: str = "") -> str:
    """Escapes restored, the whole trimmed, and each line's indentation dropped (continuation
    lines of feedback, answers aligned under each other), except in a question in [html] `fmt`
    and inside `<pre>`, where indentation is what the author shows (code, a poem)."""
    kept, in_pre = [], False
    for line in text.translate(_UNESCAPE).strip().split("\n"):
        kept.append(line.rstrip() if fmt == "html" or in_pre else line.strip())
        tags = _PRE_TAG.findall(line)
        in_pre = tags[-1] == "" if tags else in_pre
    return "\n".join(kept)


def _slug(title: str) -> str:
    """A title in Latin letters as an id ("Jesus' hometown" -> "jesus-hometown"); else ''."""
    folded = fold(title)
    if any(c.isalpha() and not c.isascii() for c in folded):
        return ""  # an Arabic title would lose its letters: number the question instead
    return re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:56].strip("-")  # room for a "-2" suffix


def _make_ids_unique(questions: list[Question]) -> None:
    # Moodle's titles are names, not keys: two questions may share one, so the second gets "-2".
    taken: set[str] = set()
    for q in questions:
        base, n = q.id, 1
        while q.id in taken:
            n += 1
            q.id = f"{base}-{n}"
        taken.add(q.id)


# ------------------------------------------------------------------------------- one question

def _read_question(chunk: _Chunk, position: int, category: str, found: list[Found]) -> Question | None:
    text = chunk.text
    title, start = _title(text)
    qid = _slug(title or "") or f"q{position}"
    try:
        _refuse_merged_questions(chunk)
        if title is None and text.startswith("::"):
            raise _Syntax("the title is not closed: write ::title:: before the question")
        question = _question(text, start, qid, chunk)
    except _Syntax as e:
        found.append((e.line or chunk.line_at(e.at), f"question {qid}: {e}"))
        return None
    question.category, question.line = category, chunk.numbers[0]
    question.name = title or ""
    question.idnumber, question.tags = _idnumber_and_tags(chunk.comments)
    return question


def _idnumber_and_tags(comments: list[str]) -> tuple[str, list[str]]:
    """Moodle's `// [id:Q42] [tag:fractions]`: the question's idnumber and tags, kept so a bank
    goes back to Moodle as it came (the kit's own id is still made from the title)."""
    text = "\n".join(comments)
    found = _IDNUMBER.search(text)
    idnumber = found.group(1).replace("\\]", "]").strip() if found else ""
    tags = [t.replace("\\]", "]").strip() for t in _TAG.findall(text)]
    return idnumber, list(dict.fromkeys(t for t in tags if t))


def _title(text: str) -> tuple[str | None, int]:
    """The `::title::` at the start, and where the question proper begins."""
    if not text.startswith("::"):
        return None, 0
    end = text.find("::", 2)
    if end < 0:
        return None, 0
    return _plain(text[2:end]), end + 2


def _refuse_merged_questions(chunk: _Chunk) -> None:
    for i, line in enumerate(chunk.lines[1:], 1):
        if line.lstrip().startswith("::"):
            offset = sum(len(x) + 1 for x in chunk.lines[:i])
            raise _Syntax("a new question starts here; separate questions with a blank line", offset)


def _question(text: str, start: int, qid: str, chunk: _Chunk) -> Question:
    fmt = _FORMAT.match(text, start)
    if fmt:
        start = fmt.end()
    body_format = fmt.group(1) if fmt else DEFAULT_FORMAT
    block = _answer_block(text, start)
    if block is None:
        return Question(qid, "description", _plain(text[start:], body_format), format=body_format)
    opening, closing = block
    before, after = text[start:opening], text[closing + 1:]
    # As in Moodle: text after the block makes it a missing-word question with a blank.
    question_text = _plain(before + (BLANK + after if after.strip() else ""), body_format)
    question = Question(qid, "essay", question_text, format=body_format)  # an empty block stays an essay
    _read_answers(question, text, opening + 1, closing, chunk)
    return question


def _answer_block(text: str, start: int) -> tuple[int, int] | None:
    """Offsets of the one `{` and its `}`; None for a description. Refuses anything else."""
    opens = [i for i in range(start, len(text)) if text[i] == "{"]
    closes = [i for i in range(start, len(text)) if text[i] == "}"]
    if not opens and not closes:
        return None
    if closes and (not opens or closes[0] < opens[0]):
        raise _Syntax("a } with no { before it; write a literal brace as \\}", closes[0])
    opening = opens[0]
    closing = next((i for i in closes if i > opening), None)
    if closing is None:
        raise _Syntax("the answer block { is not closed with }", opening)
    if len(opens) > 1 and opens[1] < closing:
        raise _Syntax("a { inside the answer block; write a literal brace as \\{", opens[1])
    extra = [i for i in opens + closes if i > closing]
    if extra:
        raise _Syntax("a second answer block; put each question in its own paragraph", min(extra))
    return opening, closing


# ------------------------------------------------------------------------------------ answers

@dataclass
class _Part:
    """One answer of a block: its marker (`=`, `~` or '' for text before any), text and line.

    Question types build themselves from parts (`QuestionType.from_gift`) through the methods
    below, which keep GIFT's own notation (escapes, `%50%` weights, `#feedback`, `[format]`) here.
    """

    marker: str
    text: str
    line: int
    fmt: str = ""  # the question's text format

    def weighted(self) -> tuple[float | None, str]:
        """The `%50%` weight as a credit (None when it has none), and the text after it."""
        match = _WEIGHT.match(self.text)
        if match:
            return float(match.group(1)) / 100, self.text[match.end():]
        if _BAD_WEIGHT.match(self.text):
            raise self.error(f"{self.shown()!r}: a weight is a percentage such as %50% or %-100%")
        return None, self.text

    def answer(self, credit: float, text: str) -> Answer:
        """`text#feedback` as an Answer with this credit."""
        answer, _, feedback = text.partition("#")
        return Answer(text=self.piece(answer), credit=credit, feedback=self.piece(feedback), line=self.line)

    def piece(self, text: str) -> str:
        """A piece of this part's text as the question keeps it: escapes restored, and any
        [format] of its own dropped (the kit keeps one format per question)."""
        return _plain(_strip_format(text), self.fmt)

    def shown(self) -> str:
        """The whole part as the author wrote it, for messages."""
        return _plain(self.text)

    def error(self, message: str) -> Exception:
        return _Syntax(message, line=self.line)


def _read_answers(q: Question, text: str, start: int, end: int, chunk: _Chunk) -> None:
    block = text[start:end]
    general = block.rfind("####")
    if general >= 0:
        q.general_feedback = _feedback_text(block[general + 4:], q.format)
        end, block = start + general, block[:general]
    if not block.strip():
        return  # an essay
    stripped = block.lstrip()
    if stripped.startswith("#"):
        at = start + len(block) - len(stripped) + 1
        _read_numeric(q, text, at, end, chunk)
    elif "~" in block:
        parts = _refuse_leading_text(_parts(text, start, end, "=~", chunk, q.format),
                                     "start each answer with = (right) or ~ (wrong)")
        # Moodle: an answer marked = makes it one-answer; weights alone allow several.
        _build(q, "single" if any(p.marker == "=" for p in parts) else "multiple", parts)
    elif "=" in block and "->" in block:
        _build(q, "matching", _refuse_leading_text(_parts(text, start, end, "=", chunk, q.format),
                                                   "start each pair with =, as in =left -> right"))
    elif block.split("#", 1)[0].strip().upper() in _TRUE_FALSE:
        _read_true_false(q, block)
    else:
        _build(q, "short", _refuse_leading_text(
            _parts(text, start, end, "=", chunk, q.format),
            "start each accepted answer with =, or use {T} / {F} for true-false"))


def _build(q: Question, name: str, parts: list[_Part]) -> None:
    qtype = type_named(name)
    assert qtype is not None and qtype.from_gift is not None, name  # the kit's own types
    q.type = name
    qtype.from_gift(q, parts)


def _parts(text: str, start: int, end: int, markers: str, chunk: _Chunk, fmt: str) -> list[_Part]:
    """Cut a block at its answer markers; text before the first marker is a part marked ''."""
    cuts = [i for i in range(start, end) if text[i] in markers]
    parts = []
    if text[start:cuts[0] if cuts else end].strip():
        parts.append(_Part("", text[start:cuts[0] if cuts else end], chunk.line_at(start), fmt))
    for i, cut in enumerate(cuts):
        stop = cuts[i + 1] if i + 1 < len(cuts) else end
        parts.append(_Part(text[cut], text[cut + 1:stop], chunk.line_at(cut), fmt))
    return parts


def _refuse_leading_text(parts: list[_Part], what: str) -> list[_Part]:
    if parts and parts[0].marker == "":
        raise _Syntax(f"{_plain(parts[0].text)!r} comes before the first answer; {what}",
                      line=parts[0].line)
    return parts


def _strip_format(text: str) -> str:
    # Answers and feedback may carry their own [format]; the kit keeps one format per question.
    prefix = _FORMAT.match(text)
    return text[prefix.end():] if prefix else text


def _feedback_text(text: str, fmt: str) -> str:
    return _plain(_strip_format(text), fmt)


def _read_true_false(q: Question, block: str) -> None:
    word, wrong, right = (block.split("#", 2) + ["", ""])[:3]
    q.type, q.answer = "truefalse", _TRUE_FALSE[word.strip().upper()]
    wrong, right = _feedback_text(wrong, q.format), _feedback_text(right, q.format)
    # The first feedback is for a wrong choice, the second for the right one.
    q.feedback_true, q.feedback_false = (right, wrong) if q.answer else (wrong, right)


def _read_numeric(q: Question, text: str, start: int, end: int, chunk: _Chunk) -> None:
    q.type = "numeric"
    tilde = text.find("~", start, end)
    for part in _parts(text, start, end if tilde < 0 else tilde, "=", chunk, q.format):
        weight, rest = part.weighted()
        number, _, feedback = rest.partition("#")
        answer = Answer(credit=1.0 if weight is None else weight, feedback=_feedback_text(feedback, q.format),
                        line=part.line)
        _read_number(answer, _plain(number), part.line)
        q.answers.append(answer)
    if tilde >= 0:
        q.answers.append(_numeric_catch_all(text[tilde + 1:end], chunk.line_at(tilde), q.format))


def _read_number(answer: Answer, text: str, line: int) -> None:
    """`3.14:0.01` (value and tolerance), `1..5` (a range) or `1822` (exactly)."""
    low, dots, high = text.partition("..")
    if dots and low.strip():
        answer.min, answer.max = _float(low), _float(high)
        read = [answer.min, answer.max]
    elif ":" in text:
        value, _, tolerance = text.partition(":")
        read = [_float(value), _float(tolerance)]
        answer.value, answer.tolerance = read[0], abs(read[1] or 0.0)
    else:
        answer.value = _float(text)
        read = [answer.value]
    if None in read:
        raise _Syntax(f"{text!r} is not a number; numerical answers are like 3.14:0.01 or 1..5", line=line)


def _float(text: str) -> float | None:
    try:
        number = float(text.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def _numeric_catch_all(text: str, line: int, fmt: str) -> Answer:
    # Moodle: `~#feedback` after the numbers is the feedback for any other number.
    if text.strip() and not text.lstrip().startswith("#"):
        raise _Syntax(f"{'~' + _plain(text)!r}: in a numerical question ~ only gives feedback for "
                      "every other number, as in ~#Sorry", line=line)
    return Answer(text=CATCH_ALL, credit=0.0, feedback=_feedback_text(text.lstrip()[1:], fmt), line=line)

"""Formulas inside right-to-left text: isolate them at pack build, and say where that is unsure.

In an Arabic sentence the browser's bidi algorithm lets the digits of "400 = 40" pull the
space and the "=" between them to the right-to-left side, and draws "40 = 400"; "1/2 = ?/8"
comes out as "8/? = 1/2". So, once, on a lesson's or a quiz text's sanitized HTML, each
left-to-right run is wrapped in `<bdi dir="ltr">`: the formula keeps its written order while
the sentence around it reads right to left, and no phone runs a script for it.

A run is what an author writes left to right: numbers (European digits) and Latin words, the
operators and spaces between them, signs, brackets, "%" and a "?" placeholder:
"10%", "400 = 40", "1/2 = ?/8", "(3 + 4) × 2", "tax-gov.ma", "150 DH". Arabic words, Arabic
punctuation (، ؛ ؟), a sentence's own "." "," ":" and Arabic-Indic digits (which read right to
left in an Arabic formula) stay outside. A run of letters and digits alone ("8", "DH") is
left bare: nothing in it can move. Code (`<code>`, `<pre>`, `<kbd>`) and anything already
given a direction (`dir=`, `<bdi>`) are left alone.

`doubts` lists what this rule cannot place for sure; `kit pack build` and `kit quiz check`
print each as a warning with file and line.
"""

from __future__ import annotations

import html as htmlib
import re
from dataclasses import dataclass

RTL_LANGUAGES = frozenset({"ar", "dv", "fa", "he", "ps", "sd", "ug", "ur", "yi"})

# Inline formatting a formula may run through; any other element ends the run.
INLINE = frozenset({"a", "abbr", "b", "del", "em", "i", "ins", "mark", "q", "s", "small", "span",
                    "strong", "sub", "sup", "u"})
LEFT_ALONE = frozenset({"code", "kbd", "pre", "samp", "bdo", "bdi"})
VOID = frozenset({"br", "hr", "img", "source", "wbr"})
OPEN, CLOSE = '<bdi dir="ltr">', "</bdi>"
_TAG = re.compile(r"""<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_CHAR = re.compile(r"&(?:#[0-9]+|#x[0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);|.", re.S)
# an author's direction, and a footnote's number and back link (drawn apart from the text)
_KEPT = re.compile(r"""\sdir\s*=|class\s*=\s*["']?footnote-(?:back)?ref|id\s*=\s*["']?fnref""")
BREAK = "\n"  # stands for a block edge, a <br> or a piece left alone: no run crosses it

_LATIN = "A-Za-z\u00c0-\u024f0-9"
_WORD = rf"[{_LATIN}]+(?:[.,:/@_'\-]+[{_LATIN}]+)*"  # 1/2, 0,25, 17,50, tax-gov.ma, Wi-Fi
_ATOM = rf"[(\[]*[−+\-]?(?:{_WORD}|\?)%?[)\]]*"  # with its sign, brackets, "%"; or a "?" to find
_OPERATOR_CHARS = "+-−×÷=/*^<>≤≥≠≈"
_OPERATOR = re.escape(_OPERATOR_CHARS)
_GAP = rf"[ \u00a0]*(?:[{_OPERATOR}][ \u00a0]*)+|[ \u00a0]+"
RUN = re.compile(rf"{_ATOM}(?:(?:{_GAP}){_ATOM})*")
_BARE = re.compile(rf"[{_LATIN}]+")
_ARABIC_LETTER = "\u0621-\u064a\u066e-\u06d3\u06fa-\u06ff"
_NUMBER_TOUCHES_WORD = re.compile(rf"[{_ARABIC_LETTER}\u064b-\u0652]+[0-9]+|[0-9]+[{_ARABIC_LETTER}]+")
_DANGLING_BEFORE = re.compile(rf"(?P<beyond>.?)[ \u00a0]*(?P<op>[{_OPERATOR}])[ \u00a0]*$", re.S)
_DANGLING_AFTER = re.compile(rf"[ \u00a0]*(?P<op>[{_OPERATOR}])[ \u00a0]*(?P<beyond>.?)", re.S)


def is_rtl(lang: "str | None") -> bool:
    return (lang or "") in RTL_LANGUAGES


@dataclass(frozen=True)
class Doubt:
    """A place the isolation cannot read for sure: the text to look for, and what to do."""
    snippet: str
    message: str

    def line_in(self, source: str, first_line: "int | None" = None) -> "int | None":
        """The line of `source` (from `first_line` on) that holds the snippet, else first_line."""
        lines = source.splitlines()
        start = max((first_line or 1) - 1, 0)
        for needle in (self.snippet, *sorted(_BARE.findall(self.snippet), key=len, reverse=True)):
            for n in range(start, len(lines)):
                if needle in htmlib.unescape(lines[n]):
                    return n + 1
        return first_line


# ---------------------------------------------------------------------------------- the text

@dataclass
class _Flow:
    """The text a reader sees, one character per entry, with where each came from in the HTML."""
    text: str
    starts: list[int]
    ends: list[int]


def _flow(html: str, see_through_bdi: bool) -> _Flow:
    """The HTML's text with inline tags removed, and every other tag (or element left alone)
    turned into BREAK, so that a run found in it never crosses a paragraph or a code span."""
    chars: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    kept_depth, at = 0, 0

    def emit(char: str, start: int, end: int) -> None:
        chars.append(char), starts.append(start), ends.append(end)

    for tag in _TAG.finditer(html):
        if not kept_depth:
            for c in _CHAR.finditer(html, at, tag.start()):
                for char in htmlib.unescape(c.group()):
                    emit(char, c.start(), c.end())
        at = tag.end()
        closing, name, attrs = tag.group(1) == "/", tag.group(2).lower(), tag.group(3)
        if name in VOID:
            if not kept_depth:
                emit(BREAK, tag.start(), tag.end())
        elif kept_depth:
            kept_depth += -1 if closing else 1
        elif not closing and _left_alone(name, attrs, see_through_bdi):
            kept_depth = 1
            emit(BREAK, tag.start(), tag.end())
        elif name not in INLINE and not (see_through_bdi and name == "bdi"):
            emit(BREAK, tag.start(), tag.end())
    if not kept_depth:
        for c in _CHAR.finditer(html, at):
            for char in htmlib.unescape(c.group()):
                emit(char, c.start(), c.end())
    return _Flow("".join(chars), starts, ends)


def _left_alone(name: str, attrs: str, see_through_bdi: bool) -> bool:
    if see_through_bdi and name == "bdi" and attrs.strip() == 'dir="ltr"':
        return False  # one of ours
    return name in LEFT_ALONE or bool(_KEPT.search(attrs))


def _runs(flow: _Flow, bare: bool = False):
    """(start, end) of each run worth isolating: one with something but letters and digits
    in it (and, when `bare`, a lone number or word too)."""
    for run in RUN.finditer(flow.text):
        start, end = _paired(flow.text, run.start(), run.end())
        text = flow.text[start:end]
        if _BARE.search(text) and (bare or not _BARE.fullmatch(text)):
            yield start, end


def _paired(text: str, start: int, end: int) -> tuple[int, int]:
    """The run without a bracket it does not close or open: the ")" of "(اضغط 7)" belongs to
    the Arabic sentence, which draws it mirrored at its own end."""
    opened: list[int] = []
    for i in range(start, end):
        if text[i] in "([":
            opened.append(i)
        elif text[i] in ")]" and opened:
            opened.pop()
        elif text[i] in ")]":
            return _paired(text, *_cut(text, start, end, i))
    if opened:
        return _paired(text, *_cut(text, start, end, opened[0]))
    return start, end


def _cut(text: str, start: int, end: int, at: int) -> tuple[int, int]:
    """The part of the run before the lone bracket at `at`, or after it when nothing comes before."""
    if _BARE.search(text, start, at):
        end = at
        while end > start and text[end - 1] in f" \u00a0{_OPERATOR_CHARS}":
            end -= 1
        return start, end
    return at + 1, end


# ------------------------------------------------------------------------------- isolation

def isolate(html: str) -> str:
    """Wrap each left-to-right run of right-to-left HTML in `<bdi dir="ltr">`."""
    flow = _flow(html, see_through_bdi=False)
    cuts = []
    for start, end in _runs(flow):
        span = _balanced(html, flow.starts[start], flow.ends[end - 1])
        if span:
            cuts.append(span)
    for start, end in reversed(cuts):
        html = f"{html[:start]}{OPEN}{html[start:end]}{CLOSE}{html[end:]}"
    return html


def _balanced(html: str, start: int, end: int) -> "tuple[int, int] | None":
    """Where to put the wrapper around html[start:end] so that it holds whole elements: the
    run itself, or widened over the formatting tags that open just before it and close just
    after it ("**400 = 40**"). None when the run crosses formatting ("**400** = 40")."""
    for left in _edges(html, start, backwards=True):
        for right in _edges(html, end, backwards=False):
            if _nests(html[left:right]):
                return left, right
    return None


def _edges(html: str, at: int, backwards: bool) -> list[int]:
    """`at`, then each position past one more tag directly before (or after) it."""
    edges = [at]
    while True:
        if backwards:
            tag_start = html.rfind("<", 0, at)
            tag = _TAG.fullmatch(html, tag_start, at) if tag_start >= 0 and html[at - 1:at] == ">" else None
            if not tag or tag.group(1) == "/":
                return edges
            at = tag.start()
        else:
            tag = _TAG.match(html, at)
            if not tag or tag.group(1) != "/":
                return edges
            at = tag.end()
        edges.append(at)


def _nests(fragment: str) -> bool:
    depth = 0
    for tag in _TAG.finditer(fragment):
        if tag.group(2).lower() in VOID:
            continue
        depth += -1 if tag.group(1) == "/" else 1
        if depth < 0:
            return False
    return depth == 0


# ---------------------------------------------------------------------------------- doubts

def doubts(html: str) -> list[Doubt]:
    """What the isolation of this (right-to-left) HTML cannot place for sure, in text order."""
    flow = _flow(html, see_through_bdi=True)
    found = [(m.start(), Doubt(m.group(), f"the number in {m.group()!r} touches an Arabic word; put a "
                                          f"space between them, or the number may be drawn on the wrong side"))
             for m in _NUMBER_TOUCHES_WORD.finditer(flow.text)]
    for start, end in _runs(flow, bare=True):
        text = flow.text[start:end]
        if not _BARE.fullmatch(text) and not _balanced(html, flow.starts[start], flow.ends[end - 1]):
            found.append((start, Doubt(text, f"{text!r} crosses formatting (bold, a link) and cannot be "
                                                   f"isolated; put the formatting around the whole formula")))
        for op in _dangling(flow.text, start, end):
            found.append((start, Doubt(text, f"the {op!r} next to {text!r} has neutral characters on both "
                                                   f"sides, so it may be drawn on either side of the formula; "
                                                   f"move it into the formula or put words around it")))
    return [doubt for _, doubt in sorted(found, key=lambda f: f[0])]


def _dangling(text: str, start: int, end: int) -> list[str]:
    """The operators just outside a run with no Arabic word beyond them: nothing tells which
    side they belong to ("= 40" opening a line, "2 + 3 = ؟"). With an Arabic word beyond, the
    operator reads right to left with it ("ربع الساعة = 60 ÷ 4 = 15"), as the author wrote."""
    before = _DANGLING_BEFORE.search(text, max(start - 40, 0), start)
    after = _DANGLING_AFTER.match(text, end)
    return [side.group("op") for side in (before, after)
            if side and not _is_arabic_letter(side.group("beyond"))]


def _is_arabic_letter(char: str) -> bool:
    return bool(char) and re.match(f"[{_ARABIC_LETTER}\u064b-\u0652]", char) is not None

"""The kit's own quiz format, YAML (docs/course-format.md), read into questions.

This module reads what every question has (id, type, text, hint, feedback, and a name for the
teachers' pages) and hands the rest of each mapping to its type (kit.content.questions), with
the lines to point at; every problem found is kept with its line.
`kit.content.quiz.parse_quiz_yaml` makes the Quiz.
"""

from __future__ import annotations

from typing import Any

import yaml

from .questions import NAMES, TYPES, check_question, type_named
from .questions.answers import comma_hint
from .questions.model import Fields, Found, Question

# Keys whose values are always text, even when YAML would read them as a number, date or boolean
# ("text: 1984" is the answer "1984", not the integer).
_TEXT_KEYS = {"id", "name", "text", "hint", "feedback"}.union(*(t.yaml_text_keys for t in TYPES))
_TOP_KEYS = {"questions", "mastery"}
_COMMON_KEYS = {"id", "name", "type", "text", "hint", "feedback"}


class _Unreadable(Exception):
    """The file cannot be read as a quiz at all: empty, not YAML."""


def read_quiz_yaml(text: str) -> tuple[list[Question], tuple[Any, Any], list[Found]]:
    """The questions of a YAML quiz, its mastery (m, n) as written, and every problem found
    in them (each question checked). A file that is no quiz at all gives its one problem."""
    try:
        root, data = _compose(text)
    except _Unreadable as e:
        return [], (None, None), [e.args[0]]
    found: list[Found] = []
    if not isinstance(data, dict):
        return [], (None, None), [(1, "a quiz file is a mapping with a `questions:` list")]
    for key in sorted(set(data) - _TOP_KEYS, key=str):
        found.append((_key_line(root, key), f"unknown key {key!r} (a quiz has questions and mastery)"))
    questions = _questions(data.get("questions"), root, found)
    mastery = _mastery(data.get("mastery"), _key_line(root, "mastery"), found)
    return questions, mastery, found


# libyaml's C parser when present: ten times faster on a 5,000-lesson library, same nodes.
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str) -> tuple[yaml.Node, Any]:
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
    raise _Unreadable(error)


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


def _mastery(raw: Any, line: int | None, found: list[Found]) -> tuple[Any, Any]:
    if raw is None:
        return None, None
    if not isinstance(raw, dict) or set(raw) != {"m", "n"}:
        found.append((line, "mastery is written {m: 3, n: 5} (m correct of the last n attempts)"))
        return None, None
    return raw["m"], raw["n"]


def _questions(raw: Any, root: yaml.Node, found: list[Found]) -> list[Question]:
    seq = _value_node(root, "questions")
    if not isinstance(raw, list) or not raw:
        found.append((_line(seq) or 1, "a quiz needs a non-empty `questions:` list"))
        return []
    questions = []
    for position, (item, node) in enumerate(zip(raw, _item_nodes(seq)), 1):
        mine: list[Found] = []
        question = _question(item, node, position, mine)
        if question is not None:
            questions.append(question)
            # A question whose shape is wrong would only repeat its problems here.
            mine = mine or check_question(question)
        found.extend(mine)
    return questions


def _question(raw: Any, node: yaml.Node, position: int, found: list[Found]) -> Question | None:
    line = _line(node)
    if not isinstance(raw, dict):
        found.append((line, f"question {position} must be a mapping with id, type and text"))
        return None
    qid = str(raw.get("id", f"q{position}"))
    qtype = type_named(raw["type"]) if isinstance(raw.get("type"), str) else None

    def say(message: str, at: int | None = None) -> None:
        found.append((at or line, f"question {qid}: {message}"))

    if qtype is None:
        say(f"type {raw.get('type')!r} is unknown; use one of {', '.join(NAMES)}" if raw.get("type")
            else f"needs a type: one of {', '.join(NAMES)}", _key_line(node, "type"))
        return None
    for key in sorted(set(raw) - _COMMON_KEYS - qtype.yaml_keys, key=str):
        say(f"unknown key {key!r} for a {qtype.name} question{comma_hint(raw[key])}", _key_line(node, str(key)))
    q = Question(id=qid, type=qtype.name, text=_text(raw, "text", say), hint=_text(raw, "hint", say),
                 name=_text(raw, "name", say), line=line)
    feedback = raw.get("feedback")
    if isinstance(feedback, str):
        q.general_feedback = feedback.strip()
    elif feedback is not None and "feedback" not in qtype.yaml_keys:
        say("feedback must be text")
    qtype.read_yaml(q, _fields(raw, node, line), say)
    return q


def _fields(raw: dict, node: yaml.Node, line: int | None) -> Fields:
    """The question's mapping for its type, with the line of each value and list item."""
    values = {str(key): _value_node(node, str(key)) for key in raw}
    return Fields(raw, line, key_lines={key: _line(v) for key, v in values.items()},
                  item_lines={key: [_line(item) for item in _item_nodes(v)] for key, v in values.items()})


def _text(raw: dict, key: str, say) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        say(f"{key} must be text")
        return ""
    return value.strip()

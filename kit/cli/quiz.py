"""`kit quiz check`: read a quiz file (YAML or GIFT) the way `kit pack build` will, and say what it holds."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import click

from ..content.questions import NAMES
from ..content.quiz import Quiz, load_quiz
from ..content.quizrender import quiz_warnings
from . import echo_warnings, main


@main.group()
def quiz() -> None:
    """Check quiz files (<lesson>.<lang>.quiz.yml or Moodle GIFT .gift) before building a pack."""


@quiz.command("check")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True,
              help="Print the questions as read (types, texts, answers with credit and feedback, "
                   "tolerances, categories) as JSON.")
def quiz_check(file: Path, as_json: bool) -> None:
    """Check FILE and report every problem with its line; exit 1 if there is any.

    In a right-to-left quiz (`.ar.` in its name), warnings (`file:line: warning: ...`) say
    where a formula cannot be isolated for sure; they do not change the exit code.

    \b
    Examples:
      kit quiz check content/numeracy/01-fractions.fr.quiz.yml
      kit quiz check quiz.gift --json
    """
    parsed = load_quiz(file)  # a QuizError lists every problem, and exits 1
    echo_warnings(quiz_warnings(file, parsed))
    if as_json:
        click.echo(json.dumps(_as_json(parsed), ensure_ascii=False, indent=2))
    else:
        click.echo(f"OK {file}: {_summary(parsed)}")


def _summary(parsed: Quiz) -> str:
    counts = Counter(q.type for q in parsed.questions)
    kinds = ", ".join(f"{counts[t]} {t}" for t in NAMES if counts[t])
    noun = "question" if len(parsed.questions) == 1 else "questions"
    return f"{len(parsed.questions)} {noun} ({kinds})"


def _as_json(parsed: Quiz) -> dict:
    data = parsed.to_dict()
    for question, source in zip(data["questions"], parsed.questions):
        question["line"] = source.line  # where to look in the file
    return data

"""The README is what a coordinator follows with no one to ask: every `kit` command is shown in
it and explains itself, and every `kit ...` line in its code blocks is one the kit accepts."""

from __future__ import annotations

import copy
import re
import shlex

import click
import pytest
from click.testing import CliRunner

from kit.cli import main
from conftest import ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
SHELL_OPERATORS = {"&&", "||", ";", "|", "&"}


def commands(group: click.Group = main, path: tuple[str, ...] = (),
             ctx: "click.Context | None" = None) -> list[tuple[str, ...]]:
    """Every command and subcommand below `group`, as its words after `kit`."""
    ctx = ctx or click.Context(main, info_name="kit")
    found = []
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        found.append(path + (name,))
        if isinstance(command, click.Group):
            found += commands(command, path + (name,), click.Context(command, parent=ctx, info_name=name))
    return found


def code_blocks(text: str) -> list[str]:
    return re.findall(r"^\s*```[^\n]*\n(.*?)^\s*```", text, re.S | re.M)


def shown_text(text: str) -> str:
    """The README's code blocks and table rows: where a command is shown, not merely named."""
    tables = [line for line in text.splitlines() if line.lstrip().startswith("|")]
    return "\n".join(code_blocks(text) + tables)


def command_lines(text: str) -> list[list[str]]:
    """The words of every `kit ...` command in the code blocks: comments dropped, chains
    (&&, ;, |) split, $(...) and $VARS taken as one word, VAR=value prefixes dropped."""
    found = []
    for block in code_blocks(text):
        for line in block.splitlines():
            line = re.sub(r"\$\([^)]*\)|\$\{\w+\}|\$\w+", "VALUE", line)
            lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
            lexer.whitespace_split = True
            words: list[str] = []
            for word in [*lexer, ";"]:
                if word not in SHELL_OPERATORS:
                    words.append(word)
                    continue
                while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
                    words.pop(0)
                if words and words[0] == "kit":
                    found.append(words[1:])
                words = []
    return found


def parse(args: list[str]) -> click.Context:
    """Resolve `kit args` down to its command (an unknown one fails) and parse its arguments
    and options (an unknown or missing one fails), without running it."""
    command, ctx = main, click.Context(main, info_name="kit")
    while isinstance(command, click.Group) and args:
        name, command, args = command.resolve_command(ctx, list(args))
        ctx = click.Context(command, info_name=name, parent=ctx)
    return command.make_context(ctx.info_name, list(args), parent=ctx.parent)


@pytest.mark.parametrize("path", commands(), ids=" ".join)
def test_every_command_is_in_the_readme_and_explains_itself(path):
    shown = re.compile(r"\bkit\s+" + r"\s+".join(map(re.escape, path)) + r"(?![\w-])")
    assert shown.search(shown_text(README)), f"`kit {' '.join(path)}` is in no code block or table of README.md"
    out = CliRunner().invoke(main, [*path, "--help"])
    assert out.exit_code == 0 and "Usage:" in out.output, out.output


README_LINES = command_lines(README)


def test_the_readme_shows_enough_command_lines_to_be_worth_checking():
    assert len(README_LINES) >= 30


@pytest.mark.parametrize("args", README_LINES, ids=" ".join)
def test_every_command_line_in_the_readme_parses(args, monkeypatch):
    # The files a README line names are the reader's (a key they made, a stick they mounted):
    # whether they exist here is not the README's to test; the words and options are.
    convert = click.Path.convert

    def convert_without_existing(self, value, param, ctx):
        relaxed = copy.copy(self)
        relaxed.exists = False
        return convert(relaxed, value, param, ctx)

    monkeypatch.setattr(click.Path, "convert", convert_without_existing)
    # A password the README leaves out is asked for at a prompt, which the reader answers.
    monkeypatch.setattr(click.Option, "prompt_for_value", lambda self, ctx: "typed at the prompt")
    monkeypatch.chdir(ROOT)
    ctx = parse(args)
    assert ctx.command.callback is not None

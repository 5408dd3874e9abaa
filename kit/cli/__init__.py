"""The `kit` command: thin shells that parse input, call a domain function, print the result.

Every command takes --data (or KIT_DATA); errors a user can cause print one line and exit 1
(2 for usage errors), never a traceback.
"""

from __future__ import annotations

import importlib
import sys

import click

from ..core.config import DataDir
from ..core.errors import ContentError, KitError, Problem

data_option = click.option(
    "--data", "data", envvar="KIT_DATA", default="data", show_default=True,
    type=click.Path(file_okay=False), help="The kit's data dir (or set KIT_DATA).")


def data_dir(data: str) -> DataDir:
    """The data dir a command works on. When this kit is newer than its database, say so before
    the first command updates it: on a hub with millions of events that takes minutes."""
    from ..core.db import pending_migrations   # here: `kit --help` needs no database code
    found = DataDir.resolve(data)
    if pending_migrations(found.db_path):
        click.echo(f"Updating {found.db_path} for this version of the kit (once; on a hub holding "
                   "millions of events it takes minutes) ...", err=True)
    return found


# Each command group lives in its own module, imported only when it runs: `kit serve` on a
# 1 GB Raspberry Pi should not carry the Markdown renderer or the sync code in memory.
COMMAND_MODULES = {"init": "core", "keys": "core", "pack": "pack", "quiz": "quiz", "serve": "serve",
                   "users": "users", "sync": "sync", "demo": "demo"}


def echo_warnings(warnings: "list[Problem]") -> None:
    """Print each warning as `file:line: warning: ...`, the way editors and CI read them."""
    for w in warnings:
        where = f"{w.path}:{w.line}" if w.line else w.path
        click.echo(f"{where}: warning: {w.message}", err=True)


class KitGroup(click.Group):
    """Loads command modules lazily, and turns the kit's own errors into one line on stderr
    and an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMAND_MODULES)

    def get_command(self, ctx: click.Context, name: str) -> "click.Command | None":
        if name in COMMAND_MODULES and name not in self.commands:
            importlib.import_module(f"{__name__}.{COMMAND_MODULES[name]}")
        return super().get_command(ctx, name)

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except ContentError as e:
            for problem in e.problems:
                click.echo(f"  {problem}", err=True)
            click.echo(f"error: {e}", err=True)
            sys.exit(e.exit_code)
        except KitError as e:
            click.echo(f"error: {e}", err=True)
            sys.exit(e.exit_code)


@click.group(cls=KitGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="offline-learning-kit", prog_name="kit")
def main() -> None:
    """The Offline Learning Kit: lessons and quizzes for a school with no internet.

    \b
    Start here:
      kit init                    make a data dir (./data, or --data DIR)
      kit pack build content/X    turn a course folder into a signed .kitpack
      kit pack install FILE       verify a pack and install it
      kit serve                   serve lessons to phones on the local network

    Every command takes --data DIR (or the KIT_DATA variable) and explains itself with --help.
    """

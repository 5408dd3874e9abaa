"""`kit demo`: made-up learner activity, to try the reports before a real class exists."""

from __future__ import annotations

import sys

import click

from ..demo import generate_activity
from ..core.instance import open_instance
from . import data_dir, data_option, main


@main.group()
def demo() -> None:
    """Fill a data dir with made-up classes, learners and their activity."""


@demo.command("activity")
@click.option("--learners", default=60, show_default=True, help="How many learners (in classes of 30).")
@click.option("--days", default=20, show_default=True, help="Calendar days of school to simulate.")
@click.option("--seed", default=0, show_default=True, help="The same seed makes the same learners and choices.")
@data_option
def activity(learners: int, days: int, seed: int, data: str) -> None:
    """Make classes and learners, then sign-ins, lessons read and quiz answers (with plausible
    mistakes) through the same code as real use; answers are graded against the installed packs."""
    inst = open_instance(data_dir(data))
    bar = click.progressbar(length=max(days, 1), label="Simulating days", file=sys.stderr)
    try:
        with bar:
            result = generate_activity(inst.db, learners, days, seed, progress=lambda done, total: bar.update(1))
    finally:
        inst.close()
    kinds = ", ".join(f"{n} {k}" for k, n in sorted(result.by_kind.items()))
    click.echo(f"Made {result.classes} classes, {result.learners} learners and {result.events} events ({kinds})")

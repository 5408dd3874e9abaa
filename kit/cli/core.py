"""`kit init` and `kit keys`: the data dir and the keys it signs and trusts with."""

from __future__ import annotations

from pathlib import Path

import click

from ..core.errors import TrustError
from ..core.instance import Instance, init_instance, open_instance
from ..core.keys import ROLES, PublicKey, SigningKey, box_key_of, trusted_keys, trust
from ..core.regularfiles import SMALL_FILE, read_text
from ..sync.seal import box_id
from . import data_dir, data_option, main


@main.command()
@data_option
@click.option("--name", default="", help="A name for this server, shown to the hub (e.g. the school's).")
def init(data: str, name: str) -> None:
    """Create a data dir: database, search index folder, and this server's device key.

    Safe to run again: an existing data dir is kept as it is.
    """
    inst, created = init_instance(data_dir(data), name)
    click.echo(f"{'Created' if created else 'Using'} data dir {inst.data.root}")
    click.echo(f"Device id: {inst.device_id}")
    inst.close()


@main.group()
def keys() -> None:
    """Show, make and trust Ed25519 keys (devices, publishers, hubs)."""


@keys.command("show")
@data_option
def keys_show(data: str) -> None:
    """Print this server's public key line, its id and its sealing key's id (give them to a hub or
    a school), then the keys it trusts; for a school or a hub, whether its sealing key is known."""
    inst = open_instance(data_dir(data))
    key = inst.key()
    click.echo(key.public.line(), nl=False)
    click.echo(f"id: {key.key_id}")
    click.echo(f"sealing key: {box_id(inst.box_key().public_raw)}")
    for row in trusted_keys(inst.db):
        click.echo(f"trusted {row['role']}: {row['key_id']} {row['name']}{sealing_note(inst, row)}")
    inst.close()


def sealing_note(inst: Instance, row: dict) -> str:
    """A peer's sealing key, which bundles for it are sealed to (kit.sync.seal); publishers have none."""
    if row["role"] not in ("school", "hub"):
        return ""
    box = box_key_of(inst.db, row["key_id"])
    return (f"; sealing key: {box_id(box)}" if box else
            "; sealing key: not yet known: it comes with their next signed bundle or hello")


@keys.command("new")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--name", default="", help="Who the key belongs to, e.g. 'Ministry of Education'.")
def keys_new(file: Path, name: str) -> None:
    """Make a publisher key pair: FILE (private, keep it safe) and FILE.pub (to share).

    Sign packs with `kit pack build --key FILE`; servers trust them after
    `kit keys trust FILE.pub`.
    """
    if file.exists():
        raise TrustError(f"{file} exists; choose another name (a key is never overwritten)")
    key = SigningKey.generate(name or file.stem)
    key.save(file)
    click.echo(f"Wrote {file} (private) and {file}.pub; key id {key.key_id}")


@keys.command("trust")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--role", type=click.Choice(ROLES), default="publisher", show_default=True,
              help="What the key may sign: packs (publisher), bundles (school), updates (hub).")
@data_option
def keys_trust(file: Path, role: str, data: str) -> None:
    """Trust the public key in FILE (a `.pub` file made by `kit keys new` or `kit keys show`)."""
    key = PublicKey.parse(read_text(file, SMALL_FILE, TrustError), str(file))
    inst = open_instance(data_dir(data))
    added = trust(inst.db, key, role)
    click.echo(f"{'Trusted' if added else 'Already trusted'} {role} key {key.key_id} {key.name}")
    inst.close()

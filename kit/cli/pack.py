"""`kit pack`: build, verify, install, list and remove content packs."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import click

from ..core.errors import KitError
from ..core.instance import init_instance, open_instance
from ..core.keys import SigningKey, device_key
from ..content.install import install_pack, list_packs, remove_pack, verify_pack
from ..content.course import load_course
from ..content.pack import write_pack
from . import data_dir, data_option, echo_warnings, main

UNSIGNED_WARNING = ("WARNING: --allow-unsigned accepts packs that are unsigned or signed by an unknown key. "
                    "Anyone could have written them. Use it only for packs you built yourself.")


@main.group()
def pack() -> None:
    """Build, verify, install, list and remove content packs (.kitpack files)."""


@pack.command("build")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", default="packs", show_default=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder to write <id>-<version>.kitpack into.")
@click.option("--key", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Publisher private key to sign with (from `kit keys new`); default: this server's key.")
@data_option
def pack_build(sources: tuple[Path, ...], output: Path, key: "Path | None", data: str) -> None:
    """Check course folders and build each into a signed pack.

    Every problem is reported with file and line, and nothing is written while any remain.
    Warnings (`file:line: warning: ...`, e.g. an Arabic formula whose operator may be drawn
    on the wrong side) are printed too but do not stop the build. The same source and key
    always give the same bytes.

    \b
    Example:
      kit pack build content/digital-literacy content/numeracy -o packs
    """
    if key:
        signer = SigningKey.load(key)
    else:
        d = data_dir(data)
        if not d.exists():
            init_instance(d)[0].close()
        signer = device_key(d)
    failed = 0
    for source in sources:
        try:
            course = load_course(source)
            echo_warnings(course.warnings)
            path = write_pack(course, output, signer)
        except KitError as e:
            failed += 1
            for problem in getattr(e, "problems", []):
                click.echo(f"  {problem}", err=True)
            click.echo(f"error: {e}", err=True)
            continue
        click.echo(f"Built {path} ({path.stat().st_size // 1024} KB), signed by {signer.key_id}")
    if failed:
        raise SystemExit(1)


@pack.command("verify")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--allow-unsigned", is_flag=True, help="Accept a pack with no trusted signature (authors testing).")
@data_option
def pack_verify(files: tuple[Path, ...], allow_unsigned: bool, data: str) -> None:
    """Check a pack's signature, member names, sizes and hashes without installing it."""
    if allow_unsigned:
        click.echo(UNSIGNED_WARNING, err=True)
    inst = open_instance(data_dir(data))
    try:
        for f in files:
            p = verify_pack(inst.db, f, allow_unsigned)
            lessons = len({l["id"] for l in p.lessons})
            signer = f"signed by {p.signed_by}" if p.signed_by else "NOT SIGNED by a trusted key"
            click.echo(f"OK {f.name}: {p.id} {p.version}, {lessons} lessons in "
                       f"{', '.join(p.course['languages'])}, {signer}")
    finally:
        inst.close()


@pack.command("install")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--allow-unsigned", is_flag=True, help="Accept a pack with no trusted signature (authors testing).")
@click.option("--skip-older", is_flag=True, help="Pass over packs older than the installed version instead of failing.")
@data_option
def pack_install(files: tuple[Path, ...], allow_unsigned: bool, skip_older: bool, data: str) -> None:
    """Verify packs and install them, each in one transaction.

    A newer version upgrades in place and keeps learners' progress; the same version
    again changes nothing; a pack that fails any check changes nothing at all.

    \b
    Example:
      kit pack install packs/*.kitpack --skip-older
    """
    if allow_unsigned:
        click.echo(UNSIGNED_WARNING, err=True)
    inst = open_instance(data_dir(data))
    try:
        # A bar for several packs; for one, a refusal stays the one line it is.
        with (click.progressbar(files, label="Installing", file=sys.stderr, show_pos=True) if len(files) > 1
              else contextlib.nullcontext(files)) as bar:
            results = [install_pack(inst.data, inst.db, f, allow_unsigned, skip_older=skip_older) for f in bar]
    finally:
        inst.close()
    for r in results:
        what = {"installed": "Installed", "upgraded": f"Upgraded from {r.previous} to",
                "unchanged": "Already installed:", "skipped": f"Kept {r.previous}, skipped older"}[r.action]
        click.echo(f"{what} {r.pack_id} {r.version} ({r.lessons} lesson pages)")


@pack.command("list")
@data_option
def pack_list(data: str) -> None:
    """List installed packs."""
    inst = open_instance(data_dir(data))
    rows = list_packs(inst.db)
    inst.close()
    if not rows:
        click.echo("No packs installed. Install one with `kit pack install FILE`.")
    for r in rows:
        title = r["title"].get("en") or next(iter(r["title"].values()), "")
        click.echo(f"{r['id']} {r['version']}  {r['lessons']} lessons  {','.join(r['languages'])}  {title}")


@pack.command("remove")
@click.argument("pack_id")
@data_option
def pack_remove(pack_id: str, data: str) -> None:
    """Remove an installed pack. Learners' progress is kept and returns if it is reinstalled."""
    inst = open_instance(data_dir(data))
    try:
        remove_pack(inst.data, inst.db, pack_id)
    finally:
        inst.close()
    click.echo(f"Removed {pack_id}")

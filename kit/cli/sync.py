"""`kit sync`: move progress out and content in, by file, USB stick or hub.

Thin shells over kit.sync: parse, call, print. Exit codes: 0 done, 1 something was refused or
failed (one line each, naming the file and the reason), 2 usage.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from ..core.errors import BundleError, SyncError, TrustError
from ..core.regularfiles import SMALL_FILE, read_text
from ..core.instance import Instance, open_instance
from ..sync import enrol as enrolment
from ..sync import peers
from ..sync.bundle import export_for, import_bundle
from . import data_dir, data_option, main

BAR_FROM = 20_000  # events: below this the work takes well under a second, no bar
BYTES_BAR_FROM = 64 << 10  # bytes over a link: more than one request's worth may take a while


class Bar:
    """A click progress bar that appears only for long work (the domain reports (done, total))."""

    def __init__(self, label: str, start_at: int = BAR_FROM):
        self.label, self.start_at, self.bar, self.shown = label, start_at, None, 0

    def __call__(self, done: int, total: int) -> None:
        if done < self.shown:  # the next file or bundle of a visit: a new bar
            self.close()
            self.shown = 0
        if self.bar is None and total >= self.start_at:
            self.bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
            self.bar.__enter__()
        if self.bar is not None:
            self.bar.update(done - self.shown)
            self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def opened(data: str) -> Instance:
    return open_instance(data_dir(data))


@main.group()
def sync() -> None:
    """Carry learners' progress to a hub and content back: files, USB sticks, or the network.

    \b
    On the hub, once:  kit sync role hub   (a hub relays every school's events)
    A school and its hub enrol each other once:
      kit sync enrol --export school.enrol        (on each side, then swap the files)
      kit sync enrol hub.enrol --as hub           (on the school)
      kit sync enrol school.enrol --as school     (on the hub)
    Then, on a visit:  kit sync usb   (or export / import, or push / pull over the network)
    """


@sync.command("export")
@click.argument("dest", type=click.Path(path_type=Path))
@click.option("--to", "to", metavar="PEER", help="The destination (device id or name); by default the one "
              "hub this school enrolled. The bundle is sealed to it: no one else can read it.")
@click.option("--all", "everything", is_flag=True, help="Every event this server may send, not only new ones.")
@data_option
def export_cmd(dest: Path, to: "str | None", everything: bool, data: str) -> None:
    """Write a signed .kitsync bundle of the events DEST's reader lacks, sealed to it (DEST: a file or a folder)."""
    inst = opened(data)
    hubs = peers.enrolled_hubs(inst.db)
    peer = peers.resolve_peer(inst.db, to) if to else (hubs[0] if len(hubs) == 1 else None)
    bar = Bar("Exporting")
    try:
        report = export_for(inst, dest, peer, everything, bar)
    finally:
        bar.close()
    if report.path is None:
        click.echo("Nothing new to export.")
    else:
        click.echo(f"Wrote {report.path}: {report.learners} learners, {report.events} events, {report.bytes} bytes"
                   f"{held_back_note(report)}")
    inst.close()


def held_back_note(report) -> str:
    return (f"; {report.held_back} events wait: the destination has not sent its sealing key yet (it comes with "
            "its next bundle or hello), this file only introduces this server's" if report.held_back else "")


@sync.command("inspect")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def inspect_cmd(file: Path) -> None:
    """Show what a bundle's envelope shows anyone: its sender, its recipient and counts (no key needed)."""
    from ..sync.bundle import MAX_BUNDLE
    from ..sync.seal import envelope_of
    envelope = envelope_of(file, MAX_BUNDLE)
    click.echo(f"{file.name}: {envelope.line()}" if envelope else
               f"{file.name}: not sealed (a key introduction, or a bundle of an older kit); `kit sync import` "
               "verifies it")


@sync.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@data_option
def import_cmd(files: "tuple[Path, ...]", data: str) -> None:
    """Merge bundles (any order, repeats are harmless). A bad bundle is refused whole."""
    inst = opened(data)
    refused = 0
    for path in files:
        bar = Bar(f"Importing {path.name}")
        try:
            report = import_bundle(inst, path, bar)
        except BundleError as e:
            refused += 1
            click.echo(f"refused: {e}", err=True)
            continue
        finally:
            bar.close()
        click.echo(f"{path.name}: {report.new} new of {report.events} events from {report.origin_name or report.origin}")
    inst.close()
    if refused:
        sys.exit(1)


@sync.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@data_option
def status_cmd(as_json: bool, data: str) -> None:
    """This server's device id, events held per origin device, learners, and each peer's last sync."""
    inst = opened(data)
    status = peers.sync_status(inst.db)
    inst.close()
    if as_json:
        click.echo(json.dumps(status.to_dict(), indent=1, sort_keys=True))
        return
    names = {p.device_id: p.name for p in status.peers}
    click.echo(f"Device {status.device_id} ({status.name or 'unnamed'}), role {status.role}")
    click.echo(f"Learners: {status.learners}")
    click.echo("Events held, by origin device:")
    for dev, count in sorted(status.events.items()):
        who = "this server" if dev == status.device_id else names.get(dev, "unknown")
        click.echo(f"  {dev}  {count:>9}  (up to seq {status.vector.get(dev, 0)})  {who}")
    click.echo("Peers:" if status.peers else "Peers: none enrolled (see `kit sync enrol --help`)")
    for p in status.peers:
        click.echo(f"  {p.device_id}  {p.role:<7} {p.name}  last import {p.last_import_at or 'never'}, "
                   f"last export {p.last_export_at or 'never'}, last contact {p.last_contact_at or 'never'}")


@sync.command("role")
@click.argument("role", required=False, type=click.Choice(peers.ROLES))
@data_option
def role_cmd(role: "str | None", data: str) -> None:
    """Show or set this server's role: a school sends its own events; a hub relays everyone's."""
    inst = opened(data)
    if role:
        peers.set_role(inst.db, role)
    click.echo(f"This server syncs as a {peers.own_role(inst.db)}.")
    inst.close()


@sync.command("enrol")
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--as", "as_role", type=click.Choice(peers.ROLES), help="What the other side is.")
@click.option("--export", "export_to", type=click.Path(dir_okay=False, path_type=Path),
              help="Write this server's enrolment file (key, name, role) to give to the other side.")
@click.option("--new-code", is_flag=True, help="On a hub: print a one-time code a school can enrol with.")
@click.option("--hub", "hub_url", metavar="URL", help="On a school: enrol with the hub at URL using --code.")
@click.option("--code", help="The one-time code the hub showed.")
@data_option
def enrol_cmd(file, as_role, export_to, new_code, hub_url, code, data) -> None:
    """Exchange keys with a hub or a school, once: by file, or with a one-time code over the network."""
    inst = opened(data)
    try:
        if export_to:
            from ..core.config import write_atomic
            write_atomic(export_to, enrolment.own_enrolment(inst).text().encode())
            click.echo(f"Wrote {export_to}: give it to the other side (`kit sync enrol {export_to.name} "
                       f"--as {peers.own_role(inst.db)}`)")
        elif file:
            if not as_role:
                raise click.UsageError("say what the other side is: --as school or --as hub")
            other = enrolment.parse_enrolment(read_text(file, SMALL_FILE, TrustError), str(file))
            added = enrolment.accept(inst.db, other, as_role)
            click.echo(f"{'Enrolled' if added else 'Already enrolled'} {as_role} {other.name} ({other.device_id})")
        elif new_code:
            code_text = enrolment.new_code(inst.db, as_role or "school")
            click.echo(f"One-time code (valid {enrolment.CODE_HOURS} h, once): {code_text}")
        elif hub_url and code:
            from ..sync.client import enrol_with_code
            hub = enrol_with_code(inst, hub_url, code)
            click.echo(f"Enrolled with hub {hub.name} ({hub.device_id}); it enrolled this server too")
        else:
            raise click.UsageError("give FILE --as ROLE, --export FILE, --new-code, or --hub URL --code CODE")
    finally:
        inst.close()


@sync.command("usb")
@click.argument("path", required=False, type=click.Path(exists=True, file_okay=False, path_type=Path))
@data_option
def usb_cmd(path: "Path | None", data: str) -> None:
    """A visit in one step: import bundles for this server and newer packs from the stick, then
    write this server's new progress onto it (under kit/), sealed for its hub (a hub: for each
    school). Finds the stick, or give PATH. Exits 1 if no hub (a hub: no school) is enrolled and
    nothing was imported or installed: the visit did nothing."""
    from ..sync.usb import find_stick, visit
    inst = opened(data)
    stick = path or find_stick()
    bar = Bar("Working")
    try:
        report = visit(inst, stick, progress=bar)
    finally:
        bar.close()
        inst.close()
    for r in report.imported:
        click.echo(f"imported {r.path.name}: {r.new} new of {r.events} events from {r.origin_name or r.origin}")
    for name, reason in report.refused:
        click.echo(f"refused: {reason}", err=True)
    for name, what in report.packs:
        click.echo(f"pack {name}: {what}", err=what.startswith("refused"))
    for r in report.exported:
        click.echo(f"wrote {r.path}: {r.learners} learners, {r.events} events, {r.bytes} bytes{held_back_note(r)}")
    nobody = report.nobody_to_write_for()
    if nobody and not (report.imported or report.packs):
        raise SyncError(nobody)  # the visit achieved nothing: say what to do, and exit 1
    if nobody:
        click.echo(f"warning: {nobody}", err=True)
    elif not (report.imported or report.exported or report.packs or report.refused):
        click.echo(f"Nothing to do on {stick}.")
    if report.refused or any(w.startswith("refused") for _, w in report.packs):
        sys.exit(1)


def resumed_note(report) -> str:
    return f", resumed {len(report.resumed)} interrupted transfer(s)" if report.resumed else ""


@sync.command("push")
@click.option("--hub", "hub_url", required=True, metavar="URL", help="The hub, e.g. http://10.0.0.1:8080 (or https://...)")
@data_option
def push_cmd(hub_url: str, data: str) -> None:
    """Send the hub every event it lacks, in chunks that resume where a dropped link stopped."""
    from ..sync.client import push
    inst = opened(data)
    bar = Bar("Pushing (bytes)", BYTES_BAR_FROM)
    try:
        report = push(inst, hub_url, progress=bar)
    finally:
        bar.close()
        inst.close()
    click.echo(f"Pushed {report.pushed_events} events ({report.pushed_new} new to the hub), "
               f"{report.bytes_sent} bytes{resumed_note(report)}")


@sync.command("pull")
@click.option("--hub", "hub_url", required=True, metavar="URL", help="The hub, e.g. http://10.0.0.1:8080 (or https://...)")
@data_option
def pull_cmd(hub_url: str, data: str) -> None:
    """Bring in every event this server lacks, and newer versions of its installed packs."""
    from ..sync.client import pull
    inst = opened(data)
    bar = Bar("Pulling (bytes)", BYTES_BAR_FROM)
    try:
        report = pull(inst, hub_url, progress=bar)
    finally:
        bar.close()
        inst.close()
    click.echo(f"Pulled {report.pulled_events} events ({report.pulled_new} new here), "
               f"{report.bytes_received} bytes{resumed_note(report)}")
    for name, what in report.packs:
        click.echo(f"pack {name}: {what}", err=what.startswith("refused"))
    if any(w.startswith("refused") for _, w in report.packs):
        sys.exit(1)


@sync.command("auto")
@click.option("--hub", "hub_url", required=True, metavar="URL", help="The hub, e.g. http://10.0.0.1:8080 (or https://...)")
@click.option("--interval", default=600.0, show_default=True, help="Seconds between tries.")
@click.option("--once", is_flag=True, help="One round (push then pull), then exit: 0 if it worked.")
@click.option("--rounds", type=int, default=None, help="Stop after this many rounds (default: never).")
@data_option
def auto_cmd(hub_url: str, interval: float, once: bool, rounds: "int | None", data: str) -> None:
    """Push and pull whenever the hub answers, every --interval seconds (for a service or cron)."""
    from ..sync.client import auto
    inst = opened(data)

    def show(result) -> None:
        stamp = time.strftime("%Y-%m-%d %H:%M:%S")
        if isinstance(result, Exception):
            click.echo(f"{stamp} not synced: {result}", err=True)
        else:
            pushed, pulled = result
            click.echo(f"{stamp} pushed {pushed.pushed_new} new events, pulled {pulled.pulled_new} new events"
                       + "".join(f"; pack {n}: {w}" for n, w in pulled.packs))
    try:
        ok = auto(inst, hub_url, interval, 1 if once else rounds, show)
    finally:
        inst.close()
    if once and not ok:
        sys.exit(1)

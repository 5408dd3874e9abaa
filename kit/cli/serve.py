"""`kit serve`: the learners' web server on the local network (waitress, no internet needed).

Prints the address phones should open and a QR code of it. On a server with no class yet it
makes the 'Demo' class (code 0000, self-registration), so a visitor can try the kit at once.
"""

from __future__ import annotations

import io
import socket
import sys

import click
import segno
import waitress

from ..core import roster
from ..sync import peers
from ..core.instance import open_instance
from ..server import create_app
from ..server.i18n import LANGS
from ..server.memory import freeze_startup, tame_malloc
from . import data_dir, data_option, main

# A classroom of 40 phones: pages take a few ms, so 8 threads keep every core busy while
# some wait on the disk, without the memory of one thread per phone.
DEFAULT_THREADS = 8
# The largest request body waitress reads. Flask refuses bodies over 256 KiB, but only once
# waitress has buffered them (up to 1 GiB by default, on a Pi's SD card): refuse them at the door.
MAX_BODY = 1 << 20


def lan_address() -> str:
    """This machine's address on the local network. Connecting a UDP socket only picks the
    route (no packet is sent); with no network at all, loopback."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("10.255.255.255", 1))
        return probe.getsockname()[0]
    except OSError:
        return "127.0.0.1"
    finally:
        probe.close()


def student_url(host: str, port: int) -> str:
    """The address to give learners: the LAN address when bound to every interface."""
    shown = lan_address() if host in ("", "0.0.0.0", "::") else host
    if ":" in shown:
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/" if port != 80 else f"http://{shown}/"


def qr_text(url: str) -> str:
    out = io.StringIO()
    segno.make(url, error="l").terminal(out=out, compact=True, border=2)
    return out.getvalue()


def banner(url: str, demo: "roster.Klass | None") -> str:
    lines = [f"Learners open: {url}", "(or scan this code with the phone's camera)", qr_text(url)]
    if demo is not None:
        lines.append(f"No class existed, so a class '{demo.name}' was made: class code {demo.code}, "
                     "where visitors add their own name. Make real classes with `kit users add-class`; "
                     f"close this one with `kit users close-class {demo.code}` or remove it with "
                     f"`kit users remove-class {demo.code}`.")
    lines.append("Stop the server with Ctrl+C.")
    return "\n".join(lines)


@main.command()
@data_option
@click.option("--host", default="0.0.0.0", show_default=True,
              help="Address to listen on; 0.0.0.0 is every network (the hotspot too).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.option("--threads", default=DEFAULT_THREADS, show_default=True, type=click.IntRange(1, 64),
              help="Requests served at once.")
@click.option("--lang", "default_lang", type=click.Choice(LANGS), default="fr", show_default=True,
              help="Language for phones that ask for none of fr, ar, en.")
@click.option("--hub", is_flag=True,
              help="Serve as the district hub: enrolled schools push progress and pull packs here.")
def serve(data: str, host: str, port: int, threads: int, default_lang: str, hub: bool) -> None:
    """Serve lessons and quizzes to phones on the local network.

    \b
    Example:
      kit serve --data data --port 8080
      kit serve --hub --data hub-data      (a hub: see `kit sync --help`)
    """
    d = data_dir(data)
    inst = open_instance(d)
    try:
        if hub:
            peers.set_role(inst.db, "hub")
        demo = None if hub else roster.ensure_demo_class(inst.db)
    finally:
        inst.close()
    tame_malloc()  # before waitress starts its threads: each would keep argon2's 4 MiB
    app = create_app({"DATA": d, "DEFAULT_LANG": default_lang})
    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="kit",
                                    clear_untrusted_proxy_headers=True, max_request_body_size=MAX_BODY)
    # One socket has its port; several (a name with IPv4 and IPv6 addresses) share the one asked.
    url = student_url(host, getattr(server, "effective_port", port))
    click.echo(banner(url, demo))
    if hub:
        click.echo(f"Hub: schools sync with `kit sync push --hub {url}` and `kit sync pull --hub {url}`.")
    sys.stdout.flush()
    freeze_startup()
    try:
        server.run()
    except KeyboardInterrupt:
        click.echo("Stopped.")
    finally:
        server.close()
        app.extensions["kit"].close()

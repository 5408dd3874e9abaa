"""A real kit server to visit: a data dir holding the sample courses and a class of learners,
served by `kit serve` in its own process on a loopback port.

Shared by the browser tests (tests/browser_support.py) and the server benchmark
(scripts/bench_server.py), so both measure and check the same thing a school runs. The
courses are built and installed with the `kit` command; the class is made through
kit.core.roster (the same calls `kit users` makes, without a process per learner).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Mapping, Optional

from kit.core import roster
from kit.core.config import DataDir
from kit.core.instance import open_instance

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"


def kit(*args: str) -> str:
    """Run the real `kit` command; its output, or an error carrying what it printed."""
    done = subprocess.run([sys.executable, "-m", "kit", *args], cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"kit {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def sample_sources() -> list[Path]:
    return sorted(p for p in CONTENT.iterdir() if (p / "course.yml").exists())


def install_courses(data: Path, sources: "list[Path]", packs: Path) -> None:
    """`kit init`, then build the course folders into signed packs and install them."""
    kit("init", "--data", str(data))
    kit("pack", "build", *map(str, sources), "--output", str(packs), "--data", str(data))
    kit("pack", "install", *sorted(str(p) for p in packs.glob("*.kitpack")), "--data", str(data))


@dataclass(frozen=True)
class Roster:
    """The class made for visitors: its name and code, and each learner's id and PIN."""
    class_id: str
    class_name: str
    class_code: str
    learners: "dict[str, tuple[str, str]]"     # name -> (learner id, PIN)


def make_class(data: DataDir, name: str, code: str, pins: Mapping[str, str]) -> Roster:
    inst = open_instance(data)
    try:
        klass = roster.create_class(inst.db, name, code=code)
        learners = {n: (roster.add_learner(inst.db, klass.id, n, pin=pin).id, pin) for n, pin in pins.items()}
    finally:
        inst.close()
    return Roster(klass.id, klass.name, klass.code, learners)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers_200(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except OSError:
        return False


@dataclass
class Server:
    url: str
    proc: subprocess.Popen
    started_s: float          # from launch to the first 200 on /healthz

    @property
    def pid(self) -> int:
        return self.proc.pid


@contextmanager
def served(data: DataDir, log: Path, threads: int = 8, port: "int | None" = None,
           preexec: "Optional[Callable[[], None]]" = None, timeout_s: float = 30) -> Iterator[Server]:
    """`kit serve` on 127.0.0.1 (a free port unless given), as its own process, until /healthz
    answers 200. Output goes to `log`, never to a pipe that could fill and block the server.
    Stopped by its pid when the block ends."""
    port = port or free_port()
    start = time.perf_counter()
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "kit", "serve", "--data", str(data.root),
                                 "--host", "127.0.0.1", "--port", str(port), "--threads", str(threads)],
                                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, preexec_fn=preexec,
                                env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        url = f"http://127.0.0.1:{port}/"
        while not answers_200(url + "healthz"):
            if proc.poll() is not None or time.perf_counter() - start > timeout_s:
                raise RuntimeError(f"kit serve did not come up:\n{log.read_text(errors='replace')[-2000:]}")
            time.sleep(0.01)
        yield Server(url, proc, time.perf_counter() - start)
    finally:
        stop(proc)


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


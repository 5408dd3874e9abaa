"""A USB stick is not trusted: links, devices, pipes and oversized files on it (or named on the
command line) are refused with one line and exit 1, at once, and nothing is written off the stick.

Each case runs `kit` in a child process with a time limit and a memory cap, so a regression
(reading /dev/zero for ever, waiting on a FIFO) fails the test instead of hanging the suite or
the machine."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from kit.content.pack import MAX_PACK_BYTES
from kit.core import records
from kit.core.config import DataDir
from kit.core.instance import open_instance
from kit.sync.bundle import MAX_BUNDLE, bundle_name
from conftest import ROOT
from kit.sync import peers
from syncworld import activity, enrol, server

LIMIT_S = 20
MEMORY = 2 << 30


def cap_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def kit(*args) -> subprocess.CompletedProcess:
    """`kit ARGS` in a child process that must finish within LIMIT_S seconds."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "kit", *map(str, args)], capture_output=True, text=True,
                          timeout=LIMIT_S, env=env, preexec_fn=cap_memory)


def refused_in_one_line(out: subprocess.CompletedProcess, *words: str) -> bool:
    lines = out.stderr.strip().splitlines()
    return (out.returncode == 1 and len(lines) == 1 and "Traceback" not in out.stderr
            and all(w in lines[0] for w in words))


@pytest.fixture
def school(tmp_path) -> Path:
    """A school's data dir with a learner's morning of progress, enrolled with its hub; and an
    empty stick beside it."""
    inst = server(tmp_path, "Ecole Tamda")
    hub = server(tmp_path, "Hub", role="hub")
    enrol(hub, inst)
    records.set_fields(inst.db, "learner", "L1", {"name": "Amina"})
    activity(inst, "L1", 3)
    inst.close(), hub.close()
    (tmp_path / "stick" / "kit").mkdir(parents=True)
    (tmp_path / "elsewhere").mkdir()
    return inst.data.root


def files_under(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_bundle_on_the_stick_linked_to_dev_zero_is_refused_not_read(school, tmp_path):
    (tmp_path / "stick" / "kit" / "evil.kitsync").symlink_to("/dev/zero")
    out = kit("sync", "usb", tmp_path / "stick", "--data", school)
    assert refused_in_one_line(out, "evil.kitsync", "symbolic link"), out.stderr


def test_a_bundle_on_the_stick_that_is_a_fifo_is_refused_without_waiting(school, tmp_path):
    os.mkfifo(tmp_path / "stick" / "kit" / "hang.kitsync")
    out = kit("sync", "usb", tmp_path / "stick", "--data", school)
    assert refused_in_one_line(out, "hang.kitsync", "named pipe"), out.stderr


def test_a_pack_on_the_stick_linked_to_a_device_is_refused(school, tmp_path):
    (tmp_path / "stick" / "packs").mkdir()
    (tmp_path / "stick" / "packs" / "numeracy-1.0.0.kitpack").symlink_to("/dev/zero")
    out = kit("sync", "usb", tmp_path / "stick", "--data", school)
    assert out.returncode == 1 and "numeracy-1.0.0.kitpack: refused" in out.stderr, out.stderr
    assert "symbolic link" in out.stderr and "Traceback" not in out.stderr


@pytest.mark.parametrize("folder", ["kit", "packs", "kit/packs"])
def test_a_stick_folder_that_is_a_link_stops_the_visit_and_nothing_is_written_off_the_stick(school, tmp_path,
                                                                                             folder):
    stick, elsewhere = tmp_path / "stick", tmp_path / "elsewhere"
    if folder == "kit":
        (stick / "kit").rmdir()
    (stick / folder).symlink_to(elsewhere, target_is_directory=True)
    before = files_under(stick)
    out = kit("sync", "usb", stick, "--data", school)
    assert refused_in_one_line(out, folder, "symbolic link, not a folder"), out.stderr
    assert files_under(elsewhere) == [] and files_under(stick) == before


def test_a_link_planted_where_the_export_writes_its_temporary_file_is_not_followed(school, tmp_path):
    stick, elsewhere = tmp_path / "stick", tmp_path / "elsewhere"
    inst = open_instance(DataDir(school))
    partial = stick / "kit" / f".{bundle_name(inst.db, stick / 'kit', peers.enrolled_hubs(inst.db)[0])}.partial"
    inst.close()
    partial.symlink_to(elsewhere / "victim")
    out = kit("sync", "usb", stick, "--data", school)
    assert out.returncode == 0 and "4 events" in out.stdout, out.stderr
    assert files_under(elsewhere) == [] and not partial.is_symlink()


@pytest.mark.parametrize("command", [["sync", "import"], ["pack", "install"], ["pack", "verify"]])
@pytest.mark.parametrize("special", ["device", "fifo", "link to a device"])
def test_a_device_fifo_or_link_named_on_the_command_line_is_refused(school, tmp_path, command, special):
    path = {"device": Path("/dev/zero"), "fifo": tmp_path / "pipe.kitsync",
            "link to a device": tmp_path / "zero.kitpack"}[special]
    if special == "fifo":
        os.mkfifo(path)
    elif special == "link to a device":
        path.symlink_to("/dev/zero")
    out = kit(*command, path, "--data", school)
    what = {"device": "a device", "fifo": "named pipe", "link to a device": "symbolic link"}[special]
    assert refused_in_one_line(out, str(path), what), out.stderr


def sparse(path: Path, size: int) -> Path:
    """A file of `size` bytes that takes no room on the disk."""
    with open(path, "wb") as f:
        f.truncate(size)
    return path


@pytest.mark.parametrize("command, cap, name", [(["sync", "import"], MAX_BUNDLE, "big.kitsync"),
                                                (["pack", "install"], MAX_PACK_BYTES, "big-1.0.0.kitpack")])
def test_a_file_one_byte_over_its_cap_is_refused_before_it_is_read(school, tmp_path, command, cap, name):
    at_cap = kit(*command, sparse(tmp_path / name, cap), "--data", school)
    assert at_cap.returncode == 1 and "more than" not in at_cap.stderr  # read, and refused as no zip
    over = kit(*command, sparse(tmp_path / name, cap + 1), "--data", school)
    assert refused_in_one_line(over, name, f"{cap + 1:,} bytes is more than"), over.stderr


def test_an_oversized_bundle_on_the_stick_is_refused_and_the_visit_goes_on(school, tmp_path):
    stick = tmp_path / "stick"
    sparse(stick / "kit" / "huge.kitsync", MAX_BUNDLE + 1)
    out = kit("sync", "usb", stick, "--data", school)
    assert refused_in_one_line(out, "huge.kitsync", "is more than"), out.stderr
    assert "wrote" in out.stdout  # the school's own progress still went onto the stick

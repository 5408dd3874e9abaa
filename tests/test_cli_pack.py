"""`kit pack` and `kit keys` through click's runner: output, exit codes, error paths."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from kit.cli import main
from kit.core.db import open_db

from conftest import MINI, ROOT


def kit(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def test_build_install_list_remove(tmp_path):
    d = str(tmp_path / "data")
    assert kit("init", "--data", d).exit_code == 0
    built = kit("pack", "build", str(MINI), "-o", str(tmp_path / "packs"), "--data", d)
    assert built.exit_code == 0 and "Built" in built.output
    pack = tmp_path / "packs" / "mini-1.0.0.kitpack"
    assert "OK mini-1.0.0.kitpack: mini 1.0.0, 2 lessons" in kit("pack", "verify", str(pack), "--data", d).output
    assert "Installed mini 1.0.0" in kit("pack", "install", str(pack), "--data", d).output
    assert "Already installed: mini 1.0.0" in kit("pack", "install", str(pack), "--data", d).output
    assert kit("pack", "list", "--data", d).output.startswith("mini 1.0.0  2 lessons  fr,ar,en  Mini course")
    assert kit("pack", "remove", "mini", "--data", d).exit_code == 0
    assert "No packs installed" in kit("pack", "list", "--data", d).output


def test_a_refused_pack_prints_one_line_and_exits_1(tmp_path):
    d = str(tmp_path / "data")
    kit("init", "--data", d)
    bad = tmp_path / "bad.kitpack"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    result = CliRunner().invoke(main, ["pack", "install", str(bad), "--data", d])
    assert result.exit_code == 1
    assert result.output.strip().splitlines()[-1] == (
        "error: bad.kitpack: not a zip file, or truncated; copy the pack again")
    assert "Traceback" not in result.output


def test_build_errors_list_every_problem_and_exit_1(tmp_path):
    course = tmp_path / "c"
    course.mkdir()
    (course / "course.yml").write_text("id: Bad Id\nversion: one\nlanguages: [fr]\ntitle: {fr: x}\n")
    result = CliRunner().invoke(main, ["pack", "build", str(course), "--data", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert "course.yml:1: id must be lowercase" in result.output
    assert "course.yml:2: version 'one' is not like 1.0.0" in result.output


def test_commands_need_an_initialised_data_dir(tmp_path):
    result = CliRunner().invoke(main, ["pack", "list", "--data", str(tmp_path / "nowhere")])
    assert result.exit_code == 1 and "run `kit init" in result.output


def test_keys_new_and_trust_let_a_publisher_sign(tmp_path):
    d = str(tmp_path / "data")
    kit("init", "--data", d)
    key = tmp_path / "ministry.key"
    assert kit("keys", "new", str(key), "--name", "Ministry").exit_code == 0
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    kit("pack", "build", str(MINI), "-o", str(tmp_path / "p"), "--key", str(key))
    pack = str(tmp_path / "p" / "mini-1.0.0.kitpack")
    refused = CliRunner().invoke(main, ["pack", "install", pack, "--data", d])
    assert refused.exit_code == 1 and "not trusted" in refused.output
    assert "Trusted publisher key" in kit("keys", "trust", f"{key}.pub", "--data", d).output
    assert "Installed mini" in kit("pack", "install", pack, "--data", d).output
    assert "Ministry" in kit("keys", "show", "--data", d).output


def test_allow_unsigned_says_loudly_what_it_does(tmp_path):
    d = str(tmp_path / "data")
    kit("init", "--data", d)
    kit("keys", "new", str(tmp_path / "author.key"))
    kit("pack", "build", str(MINI), "-o", str(tmp_path / "p"), "--key", str(tmp_path / "author.key"))
    result = CliRunner().invoke(main, ["pack", "install", str(tmp_path / "p" / "mini-1.0.0.kitpack"),
                                       "--allow-unsigned", "--data", d])
    assert result.exit_code == 0 and "WARNING: --allow-unsigned" in result.output


@pytest.fixture(scope="module")
def big_pack(tmp_path_factory) -> "tuple[Path, Path]":
    """A 1,500-lesson pack signed by a publisher key, built once for the kill tests."""
    sys.path.insert(0, str(ROOT / "scripts"))
    from generate_library import write_course
    from kit.content.pack import build_pack
    from kit.core.keys import SigningKey
    base = tmp_path_factory.mktemp("big")
    key = SigningKey.generate("bench")
    key.save(base / "publisher.key")
    return build_pack(write_course(base / "src", 1500), base / "packs", key), base / "publisher.key.pub"


@pytest.mark.slow
def test_killing_an_install_midway_leaves_the_previous_state(tmp_path, big_pack):
    pack, pub = big_pack
    d = tmp_path / "data"
    assert kit("init", "--data", str(d)).exit_code == 0
    kit("keys", "trust", str(pub), "--data", str(d))
    cmd = [sys.executable, "-m", "kit", "pack", "install", str(pack), "--data", str(d)]
    for delay in (0.3, 0.8, 1.5):
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        db = open_db(d / "kit.db")
        packs = db.execute("SELECT COUNT(*) FROM packs").fetchone()[0]
        lessons = db.execute("SELECT COUNT(*) FROM lessons").fetchone()[0]
        assert (packs, lessons) in ((0, 0), (1, 1500)), (delay, packs, lessons)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        db.conn.close()
        if packs:
            break
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    db = open_db(d / "kit.db")
    assert db.execute("SELECT COUNT(*) FROM lessons").fetchone()[0] == 1500


def test_build_warns_with_file_and_line_where_an_arabic_formula_is_unsure_and_still_builds(tmp_path):
    course = tmp_path / "mini"
    shutil.copytree(MINI, course)
    lesson = course / "01-passwords.ar.md"
    lesson.write_text(lesson.read_text(encoding="utf-8") + "\nاحسب 2 + 3 = ؟\n", encoding="utf-8")
    line = len(lesson.read_text(encoding="utf-8").splitlines())
    result = CliRunner().invoke(main, ["pack", "build", str(course), "-o", str(tmp_path / "packs"),
                                       "--data", str(tmp_path / "d")])
    assert result.exit_code == 0
    assert result.output.splitlines()[0] == (
        f"{lesson}:{line}: warning: the '=' next to '2 + 3' has neutral characters on both sides, so it may be "
        "drawn on either side of the formula; move it into the formula or put words around it")
    assert (tmp_path / "packs" / "mini-1.0.0.kitpack").exists()

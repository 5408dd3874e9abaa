"""Fixtures that build real things: data dirs, SQLite files, keys; and, from the support
modules registered below as plugins, apps and clients, staff, a hub with two schools, a browser.
Every test file gets every fixture by name; it imports only plain helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kit.core.config import DataDir
from kit.core.instance import init_instance

pytest_plugins = [
    "server_support",   # app, client, learner_client
    "coach_support",    # admin, coach
    "syncworld",        # world: a hub and two enrolled schools
    "browser_support",  # site, browser, phone, shots (skip without /usr/bin/chromium)
]

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests" / "courses" / "mini"     # a tiny fr/ar/en course with every question type
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"


def corpus(*parts: str) -> Path:
    """A file of ../shared/corpora; skips (or fails under CI=true) when it is absent."""
    path = CORPORA.joinpath(*parts)
    if not path.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{path} is missing: CI must run with ../shared beside the repo")
        pytest.skip(f"{path} is absent: put the shared folder beside the repo to run this test")
    return path


@pytest.fixture
def data(tmp_path: Path) -> DataDir:
    """A freshly initialised data dir."""
    d = DataDir(tmp_path / "data")
    inst, _ = init_instance(d)
    inst.close()
    return d


@pytest.fixture
def inst(data: DataDir):
    from kit.core.instance import open_instance
    i = open_instance(data)
    yield i
    i.close()


def snapshot(data: DataDir) -> dict:
    """Everything a data dir holds, comparable: every table's rows and every file's hash."""
    import hashlib
    import sqlite3
    conn = sqlite3.connect(data.db_path)
    state = {"db": list(conn.iterdump())}
    conn.close()
    for path in sorted(data.root.rglob("*")):
        if path.is_file() and not path.name.startswith("kit.db"):
            state[str(path.relative_to(data.root))] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


@pytest.fixture
def built(inst, tmp_path: Path) -> Path:
    """The mini course built into a pack signed by the data dir's own key."""
    from kit.content.pack import build_pack
    return build_pack(MINI, tmp_path / "packs", inst.key())


@pytest.fixture
def installed(data: DataDir, inst, built: Path):
    """A data dir with the mini course installed; yields the open instance."""
    from kit.content.install import install_pack
    install_pack(data, inst.db, built)
    return inst


@pytest.fixture
def try_code():
    """A learner's try at the sign-in door, as the sign-in page makes it:
    try_code(db, learner_id, code, address, browser=None, now=None) -> signin.Signin."""
    from kit.core import roster, signin

    def attempt(db, learner_id: str, code: str, address: str, **kw):
        return signin.sign_in(db, signin.LEARNERS, roster.check_code, learner_id, code, address, **kw)
    return attempt


@pytest.fixture
def try_password():
    """A staff try at the sign-in door: try_password(db, username, password, address, ...)."""
    from kit.core import accounts, signin

    def attempt(db, username: str, password: str, address: str, **kw):
        return signin.sign_in(db, signin.STAFF, accounts.check_password, username, password, address, **kw)
    return attempt

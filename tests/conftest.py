"""Fixtures that build real things: data dirs, SQLite files, keys."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kit.config import DataDir
from kit.instance import init_instance

ROOT = Path(__file__).resolve().parent.parent
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
    from kit.instance import open_instance
    i = open_instance(data)
    yield i
    i.close()

#!/usr/bin/env python3
"""Content figures: pack build and install times (sample courses and a 5,000-lesson library),
installed size on disk, and the size of the installed kit. Runs the real `kit` command."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KIT = [sys.executable, "-m", "kit"]


def timed(*args: str) -> float:
    start = time.perf_counter()
    subprocess.run([*KIT, *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - start


def tree_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


def main() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from generate_library import write_course
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data, packs = str(tmp / "data"), tmp / "packs"
        subprocess.run([*KIT, "init", "--data", data], check=True, stdout=subprocess.DEVNULL)
        samples = sorted(str(p) for p in (ROOT / "content").iterdir() if (p / "course.yml").exists())
        print(f"pack_build_s_sample: {timed('pack', 'build', *samples, '-o', str(packs), '--data', data):.2f}")
        built = sorted(str(p) for p in packs.glob("*.kitpack"))
        print(f"pack_install_s_sample: {timed('pack', 'install', *built, '--data', data):.2f}")

        library = write_course(tmp / "library", 5000)
        print(f"pack_build_s_5000: {timed('pack', 'build', str(library), '-o', str(tmp / 'lib'), '--data', data):.2f}")
        big = str(next((tmp / "lib").glob("*.kitpack")))
        print(f"pack_bytes_5000: {Path(big).stat().st_size}")
        print(f"pack_install_s_5000: {timed('pack', 'install', big, '--data', data):.2f}")
        print(f"installed_mb_5000: {tree_mb(tmp / 'data'):.1f}")
    print(f"venv_mb: {runtime_mb('offline-learning-kit'):.1f}")


def runtime_mb(name: str) -> float:
    """Disk used by the kit and everything it needs at run time (test extras left out)."""
    from importlib.metadata import PackageNotFoundError, distribution
    from packaging.requirements import Requirement
    seen, todo, total = set(), [name], 0
    while todo:
        dist_name = todo.pop().lower().replace("_", "-")
        if dist_name in seen:
            continue
        seen.add(dist_name)
        try:
            dist = distribution(dist_name)
        except PackageNotFoundError:
            continue
        total += sum(f.locate().stat().st_size for f in dist.files or [] if f.locate().is_file())
        for spec in dist.requires or []:
            req = Requirement(spec)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return total / 2**20


if __name__ == "__main__":
    main()

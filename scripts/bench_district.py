#!/usr/bin/env python3
"""District benchmarks, as `name: value` lines for scripts/bench.

A hub holds 100 schools of 100 learners each, 50 days apiece (about 2 M events), every
school a real server whose bundle the hub imported. The bench's school is one of them; the
coordinator resets 50 of its learners' PINs and renames 10. Then:

  district_school_pull_bytes        the bench school's bundle from the hub (one visit)
  district_school_db_mb             the bench school's database after importing it
  ..._alone                         the same two when the school is the hub's only one
                                    (scoped sync: the district must not make them grow)
  district_hub_import_events_per_s  a 1,000-learner school's month imported by the hub
                                    that holds the 2 M events already

    .venv/bin/python scripts/bench_district.py [--schools 100] [--learners 100] [--days 50]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kit.core import records, roster  # noqa: E402
from kit.core.config import DataDir  # noqa: E402
from kit.core.instance import Instance, init_instance  # noqa: E402
from kit.sync.enrol import accept, own_enrolment  # noqa: E402
from kit.demo import bulk_activity  # noqa: E402
from kit.sync import peers  # noqa: E402
from kit.sync.bundle import export_for, import_bundle  # noqa: E402


def school(root: Path, name: str, hub: Instance, learners: int, days: int, seed: int) -> Instance:
    inst, _ = init_instance(DataDir(root / name), name)
    accept(hub.db, own_enrolment(inst), "school")  # keys and sealing keys, as `kit sync enrol`
    accept(inst.db, own_enrolment(hub), "hub")
    bulk_activity(inst.db, learners, days, seed=seed)
    import_bundle(hub, export_for(inst, root, hub.device_id).path)
    return inst


def coordinator_edits(hub: Instance, inst: Instance) -> None:
    """The hub's work for one school: 50 PINs reset, 10 learners renamed."""
    learners = [lr for k in roster.classes_here(inst.db) for lr in roster.class_learners(inst.db, k.id)]
    for n, learner in enumerate(learners[:50]):
        roster.set_secret(hub.db, learner.id, pin=f"{n:04d}")
    for learner in learners[50:60]:
        records.set_fields(hub.db, "learner", learner.id, {"name": learner.name + " B."})


def visit_size(root: Path, hub: Instance, inst: Instance) -> "tuple[int, float]":
    """The hub's bundle for the school, and the school's database size once it is in."""
    made = export_for(hub, root, inst.device_id)
    import_bundle(inst, made.path)
    inst.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    inst.db.execute("VACUUM")
    return made.bytes, inst.data.db_path.stat().st_size / 1e6


def run(root: Path, schools: int, learners: int, days: int, measure_import: bool = True) -> dict:
    hub, _ = init_instance(DataDir(root / "hub"), "District Hub")
    peers.set_role(hub.db, "hub")
    figures = {}
    start = time.perf_counter()
    others = schools - 1
    for i in range(others):
        school(root, f"school-{i}", hub, learners, days, seed=100 + i).close()
        if (i + 1) % 10 == 0:
            print(f"  {i + 1}/{others} schools at the hub, {time.perf_counter() - start:.0f} s", file=sys.stderr)
    mine = school(root, "bench-school", hub, learners, days, seed=1)
    coordinator_edits(hub, mine)
    figures["events_at_hub"] = hub.db.execute("SELECT COUNT(*) FROM events").fetchone()[0]
    figures["pull_bytes"], figures["db_mb"] = visit_size(root, hub, mine)
    if not measure_import:
        mine.close(), hub.close()
        return figures
    month, _ = init_instance(DataDir(root / "big-school"), "Big School")
    accept(hub.db, own_enrolment(month), "school")
    accept(month.db, own_enrolment(hub), "hub")
    bulk_activity(month.db, 1000, 30, seed=2)
    bundle = export_for(month, root, hub.device_id)
    start = time.perf_counter()
    report = import_bundle(hub, bundle.path)
    figures["import_events_per_s"] = report.new / (time.perf_counter() - start)
    for inst in (mine, month, hub):
        inst.close()
    return figures


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--schools", type=int, default=100)
    args.add_argument("--learners", type=int, default=100)
    args.add_argument("--days", type=int, default=50, help="about 20,000 events a school: 2 M at the hub")
    opts = args.parse_args()
    with tempfile.TemporaryDirectory(prefix="kit-bench-district-") as tmp:
        alone = run(Path(tmp) / "alone", 1, opts.learners, opts.days, measure_import=False)
    with tempfile.TemporaryDirectory(prefix="kit-bench-district-") as tmp:
        district = run(Path(tmp) / "district", opts.schools, opts.learners, opts.days)
    print(f"district_hub_events: {district['events_at_hub']}")
    print(f"district_school_pull_bytes: {district['pull_bytes']}")
    print(f"district_school_pull_bytes_alone: {alone['pull_bytes']}")
    print(f"district_school_db_mb: {district['db_mb']:.2f}")
    print(f"district_school_db_mb_alone: {alone['db_mb']:.2f}")
    print(f"district_hub_import_events_per_s: {district['import_events_per_s']:.0f}")


if __name__ == "__main__":
    main()

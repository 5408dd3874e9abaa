#!/usr/bin/env python3
"""Sync benchmarks, as `name: value` lines for scripts/bench.

A school year of a 1,000-learner school (about a million events, made by kit.demo's bulk
path) is exported, imported into a hub, imported again; then one more day, made through the
real code path, is pushed to the hub over loopback through a 30 KB/s, 500 ms link; and another
day through a link cut every ~30 KB on average (sync_cut30k_push_s).
    .venv/bin/python scripts/bench_sync.py [--learners 1000] [--days 252] [--events N]
--events N scales the days down to about N events (on a slow machine).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # the throttling proxy is the tests' own

from kit.core.config import DataDir  # noqa: E402
from kit.demo import bulk_activity, generate_day  # noqa: E402
from kit.core.instance import init_instance  # noqa: E402
from kit.sync.enrol import accept, own_enrolment  # noqa: E402
from kit.sync import peers  # noqa: E402
from kit.sync.bundle import export_bundle, import_bundle  # noqa: E402
from kit.sync.client import push  # noqa: E402
from netlink import BadLink, served  # noqa: E402

EVENTS_PER_LEARNER_DAY = 4.1  # what kit.demo makes, on average over school and other days


def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--learners", type=int, default=1000)
    args.add_argument("--days", type=int, default=252, help="calendar days: 36 weeks of school")
    args.add_argument("--events", type=int, default=None, help="about this many events instead")
    opts = args.parse_args()
    days = opts.days if opts.events is None else max(1, round(opts.events / (opts.learners * EVENTS_PER_LEARNER_DAY)))
    with tempfile.TemporaryDirectory(prefix="kit-bench-sync-") as tmp:
        root = Path(tmp)
        school, _ = init_instance(DataDir(root / "school"), "Bench School")
        hub, _ = init_instance(DataDir(root / "hub"), "Bench Hub")
        peers.set_role(hub.db, "hub")
        accept(hub.db, own_enrolment(school), "school")  # keys and sealing keys, as `kit sync enrol`
        accept(school.db, own_enrolment(hub), "hub")
        made = bulk_activity(school.db, opts.learners, days, seed=1)
        print(f"sync_bench_events: {made.events}")

        start = time.perf_counter()
        bundle = export_bundle(school, root, {}, destination=hub.device_id)
        print(f"export_events_per_s: {bundle.events / (time.perf_counter() - start):.0f}")
        print(f"bundle_bytes_per_event: {bundle.bytes / bundle.events:.1f}")

        start = time.perf_counter()
        report = import_bundle(hub, bundle.path)
        print(f"import_events_per_s: {report.new / (time.perf_counter() - start):.0f}")
        start = time.perf_counter()
        import_bundle(hub, bundle.path)
        print(f"reimport_s: {time.perf_counter() - start:.2f}")

        day = generate_day(school.db, seed=2)
        with served(hub.data) as url:
            link = BadLink(url, rate=30_000, latency=0.5)
            start = time.perf_counter()
            pushed = push(school, link.url)
            print(f"sync_day_throttled_s: {time.perf_counter() - start:.1f}")
            link.close()
            generate_day(school.db, seed=3)
            link = BadLink(url, cut_chance=1.0, cut_within=60_000, seed=1)  # a cut every ~30 KB on average
            start = time.perf_counter()
            push(school, link.url)
            print(f"sync_cut30k_push_s: {time.perf_counter() - start:.1f}")
            link.close()
        print(f"sync_day_events: {day.events}")
        print(f"sync_day_bytes: {pushed.bytes_sent}")
        school.close(), hub.close()


if __name__ == "__main__":
    main()

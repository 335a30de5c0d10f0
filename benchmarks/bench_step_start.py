#!/usr/bin/env python3
"""How soon another process sees a running step: the delay from a step's ``step_started``
timestamp until the event can be read from the record store.

    python benchmarks/bench_step_start.py [--runs 3] [-- extra materialize options, e.g. -w 2]

A temporary project of two assets that each sleep 1 s is materialized ``--runs`` times by
``catchment materialize`` (a subprocess); this process polls the SQLite record store every
10 ms and notes, for each step, how long after its start the ``step_started`` was readable.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from catchment.events import EventType
from catchment.storage import open_storage

ASSETS = """\
import time
from catchment import asset

@asset
def a():
    time.sleep(1.0)
    return 1

@asset
def b(a):
    time.sleep(1.0)
    return a
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("extra", nargs="*", help="options for catchment materialize")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="catchment-step-start-"))
    (root / "catchment.yaml").write_text(
        "project: {name: start}\n"
        "components:\n  - {type: python, name: code, attributes: {module: assets.py}}\n"
        "io_managers:\n  default: {type: filesystem, config: {base_dir: values}}\n"
    )
    (root / "assets.py").write_text(ASSETS)
    db = root / ".catchment" / "runs.db"
    catchment = str(Path(sys.executable).parent / "catchment")
    delays: list[float] = []
    for _ in range(args.runs):
        t0 = time.time()
        proc = subprocess.Popen(
            [catchment, "materialize", "-p", str(root), *args.extra],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        seen: dict[str | None, float] = {}
        while proc.poll() is None:
            if db.exists():
                store = open_storage(f"sqlite:///{db}")
                try:
                    runs = store.list_runs(limit=1)
                    if runs and runs[0].created_at > t0:
                        for e in store.events_for_run(runs[0].run_id, [EventType.STEP_STARTED]):
                            seen.setdefault(e.step_key, time.time() - e.timestamp)
                finally:
                    store.close()
            time.sleep(0.01)
        delays.extend(seen.values())
    shown = ", ".join(f"{d:.3f}" for d in sorted(delays))
    print(f"materialize {' '.join(args.extra)}: step_started readable after {shown} s")
    if delays:
        print(f"  median {statistics.median(delays):.3f} s, max {max(delays):.3f} s")


if __name__ == "__main__":
    main()

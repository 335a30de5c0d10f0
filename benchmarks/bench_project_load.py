"""Project load cost on a real project (default examples/platform, every installed adapter):
wall and CPU time of ``load_project`` in fresh interpreters, of the adapter discovery inside
it, and how many adapter threads were started; then, in the same process, the median of 21
more discoveries with the adapters already imported (what is left is the per-call overhead:
entry-point scan, hook calls, the threads they run on).

With ``--before SRC`` (a ``core/src`` folder of another catchment, e.g. from ``git archive``)
runs alternate between that core (put first on PYTHONPATH) and this one, so machine load hits
both alike; one warm-up run of each is not counted.

Run: python benchmarks/bench_project_load.py [--project DIR] [--runs 7] [--before SRC]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

PROBE = """
import json, sys, threading, time
started = []
_start = threading.Thread.start
def _counting(thread):
    started.append(thread.name)
    _start(thread)
threading.Thread.start = _counting
t0, c0 = time.perf_counter(), time.process_time()
import catchment.plugins
registry = catchment.plugins.get_registry()
t1, c1 = time.perf_counter(), time.process_time()
from catchment.project import load_project
project = load_project(sys.argv[1])
t2, c2 = time.perf_counter(), time.process_time()
walls, cpus = [], []
for _ in range(21):  # discovery again, adapters imported: the per-call overhead shows
    r0, s0 = time.perf_counter(), time.process_time()
    catchment.plugins.PluginRegistry().load_entry_points()
    walls.append(time.perf_counter() - r0)
    cpus.append(time.process_time() - s0)
print(json.dumps({
    "rediscovery_wall_ms": sorted(walls)[10] * 1000, "rediscovery_cpu_ms": sorted(cpus)[10] * 1000,
    "load_wall_ms": (t2 - t0) * 1000, "load_cpu_ms": (c2 - c0) * 1000,
    "discovery_wall_ms": (t1 - t0) * 1000, "discovery_cpu_ms": (c1 - c0) * 1000,
    "adapter_threads": sum(n.startswith("adapter-") for n in started),
    "adapters_ok": sum(r.status == "ok" for r in registry.adapters),
    "problems": len(project.problems), "core": catchment.plugins.__file__,
}))
"""


def measure(project: Path, src: Path | None) -> dict[str, float]:
    """One fresh interpreter loading ``project`` (with ``src`` first on PYTHONPATH if given)."""
    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (str(src), env.get("PYTHONPATH")) if p)
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(project)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    root = Path(__file__).resolve().parents[1]
    parser.add_argument("--project", type=Path, default=root / "examples" / "platform")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--before", type=Path, default=None, help="core/src to compare with")
    args = parser.parse_args()
    variants: dict[str, Path | None] = {"after": None}
    if args.before is not None:
        variants = {"before": args.before.resolve(), "after": None}
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        project = Path(tmp) / "project"  # a copy: the load's caches stay out of the repository
        shutil.copytree(args.project, project, ignore=shutil.ignore_patterns(".catchment"))
        samples: dict[str, list[dict[str, float]]] = {name: [] for name in variants}
        for src in variants.values():
            measure(project, src)  # warm-up: bytecode, the dbt manifest, caches
        for _ in range(args.runs):
            for name, src in variants.items():
                samples[name].append(measure(project, src))
    print(f"load average {os.getloadavg()[0]:.1f}, {args.runs} runs, {args.project.name}")
    keys = (
        "load_wall_ms",
        "load_cpu_ms",
        "discovery_wall_ms",
        "discovery_cpu_ms",
        "rediscovery_wall_ms",
        "rediscovery_cpu_ms",
    )
    for name, rows in samples.items():
        medians = {k: statistics.median(r[k] for r in rows) for k in keys}
        threads = statistics.median(r["adapter_threads"] for r in rows)
        print(
            f"{name:6s} "
            + "  ".join(f"{k} {v:8.1f}" for k, v in medians.items())
            + f"  adapter threads {threads:.0f}  adapters ok {rows[0]['adapters_ok']:.0f}"
        )
    if len(samples) == 2:
        before, after = samples["before"], samples["after"]
        for k in keys:
            diffs = [a[k] - b[k] for a, b in zip(after, before, strict=True)]
            print(f"paired median difference {k}: {statistics.median(diffs):+.1f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Read-only commands cold (no definitions snapshot) and warm (snapshot current).

    python benchmarks/bench_snapshot.py PROJECT_DIR [--runs 5] [--command "assets list --json"]

For each command, runs ``catchment <command>`` in the project folder in a fresh process:
``cold`` after deleting ``.catchment/definitions.snapshot`` and the output cache
``.catchment/output/`` (the project is loaded, both are written; an adapter's own caches, such
as the dbt adapter's compact manifest copy and its translated specs, stay), ``snapshot`` with
the snapshot current but no output cache (what a selection or another read-only command
gets), ``warm`` with both current.
Prints the median wall time, CPU time (user + system) and peak RSS of the process
(``os.wait4``), and the load average, so runs on a busy machine can be read.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Without PYTHONDONTWRITEBYTECODE: an installed environment has its bytecode caches (without
# them every import compiles its module, half a second of a cold run here).
ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "DO_NOT_TRACK": "1",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "SLING_DISABLE_TELEMETRY": "true",
    "SNOWFLAKE_DISABLE_PLATFORM_DETECTION": "true",
}


def run_once(project: Path, command: list[str]) -> tuple[float, float, float]:
    """(wall seconds, CPU seconds (user + system), peak RSS MB) of one ``catchment`` process."""
    exe = shutil.which("catchment") or "catchment"
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, exe, *command],
        cwd=project,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"catchment {shlex.join(command)} failed: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


STATES = {
    "cold": "no definitions snapshot, no output cache (the project is loaded)",
    "snapshot": "snapshot current, no output cache (the graph is rebuilt from it)",
    "warm": "snapshot and output cache current",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("project", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--command", action="append", default=None)
    ap.add_argument(
        "--code",
        type=Path,
        default=None,
        help="a checkout whose core/src and adapters/*/src are imported instead of the installed "
        "ones (a before/after comparison in one session, same environment); give it its own "
        "copy of the project (`cp -a`): adapters' caches there (the dbt translation entry) "
        "are keyed by their code, so alternating codes on one copy rebuilds them every time",
    )
    args = ap.parse_args()
    if args.code is not None:
        paths = [args.code / "core" / "src", *sorted((args.code / "adapters").glob("*/src"))]
        ENV["PYTHONPATH"] = os.pathsep.join(str(p.resolve()) for p in paths)
    commands = args.command or ["assets list --json"]
    cache = args.project / ".catchment"
    snapshot = cache / "definitions.snapshot"
    outputs = cache / "output"
    print(f"{args.project}: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for state, what in STATES.items():
        print(f"  {state}: {what}")
    print(f"  {'command':<28} {'state':<8} {'wall s':>7} {'CPU s':>7} {'RSS MB':>7}   wall runs")
    for command in commands:
        argv = shlex.split(command)
        run_once(args.project, argv)  # bytecode caches written, snapshot current
        for state in STATES:
            results = []
            for _ in range(args.runs):
                if state == "cold":
                    snapshot.unlink(missing_ok=True)
                if state != "warm":
                    shutil.rmtree(outputs, ignore_errors=True)
                elif not snapshot.exists():
                    run_once(args.project, argv)  # write them
                results.append(run_once(args.project, argv))
            wall = statistics.median(r[0] for r in results)
            cpu = statistics.median(r[1] for r in results)
            rss = statistics.median(r[2] for r in results)
            runs = ", ".join(f"{r[0]:.2f}" for r in results)
            print(f"  {command:<28} {state:<8} {wall:7.2f} {cpu:7.2f} {rss:7.1f}   {runs}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

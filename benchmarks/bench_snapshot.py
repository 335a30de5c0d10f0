#!/usr/bin/env python3
"""Read-only commands cold (no definitions snapshot) and warm (snapshot current).

    python benchmarks/bench_snapshot.py PROJECT_DIR [--runs 5] [--command "assets list --json"]

For each command, runs ``catchment <command>`` in the project folder in a fresh process:
``cold`` after deleting ``.catchment/definitions.snapshot`` (the project is loaded and the
snapshot written), ``warm`` with it in place. Prints the median wall time and the median peak
RSS of the process (``os.wait4``), and the load average, so runs on a busy machine can be read.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import statistics
import subprocess
import time
from pathlib import Path

ENV = {
    **os.environ,
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
        [exe, *command], cwd=project, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"catchment {shlex.join(command)} failed: {proc.stderr.read().decode()}")  # type: ignore[union-attr]
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("project", type=Path)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--command", action="append", default=None)
    args = ap.parse_args()
    commands = args.command or ["assets list --json"]
    snapshot = args.project / ".catchment" / "definitions.snapshot"
    print(f"{args.project}: load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  {'command':<28} {'state':<5} {'wall s':>8} {'RSS MB':>8}   runs")
    for command in commands:
        argv = shlex.split(command)
        for state in ("cold", "warm"):
            results = []
            for _ in range(args.runs):
                if state == "cold":
                    snapshot.unlink(missing_ok=True)
                elif not snapshot.exists():
                    run_once(args.project, argv)  # write it
                results.append(run_once(args.project, argv))
            wall = statistics.median(r[0] for r in results)
            rss = statistics.median(r[1] for r in results)
            runs = ", ".join(f"{r[0]:.2f}" for r in results)
            print(f"  {command:<28} {state:<5} {wall:8.2f} {rss:8.1f}   {runs}")
    print(f"load average after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

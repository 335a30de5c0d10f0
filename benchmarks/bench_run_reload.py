#!/usr/bin/env python3
"""Does a run look like an edit of the project? What a run costs the daemon and the next
read-only command afterwards.

    python benchmarks/bench_run_reload.py PROJECT_DIR [--runs 5] [--select 'kind:dbt']

Each round runs ``catchment materialize -s SELECT`` in a process of its own, then either
(``daemon``) the daemon's check, ``Workspace.changed()`` (the snapshot key recomputed), and
when it says changed the reload the daemon does (``load_workspace``: the snapshot rebuilt in a
child process), timed in this process; or (``cli``) ``catchment assets list --json``, wall time
of the whole process (a snapshot hit, or a load and a rebuild). Prints how many rounds saw a
change, medians, and the load average. Run it on a copy of the project: it materializes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ENV = {
    **os.environ,
    "DO_NOT_TRACK": "1",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "SLING_DISABLE_TELEMETRY": "true",
    "SNOWFLAKE_DISABLE_PLATFORM_DETECTION": "true",
}
CATCHMENT = str(Path(sys.executable).parent / "catchment")  # the environment's own command


def _catchment(root: Path, *args: str) -> None:
    command = [CATCHMENT, *args, "-p", str(root)]
    subprocess.run(command, env=ENV, check=True, capture_output=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--select", default="kind:dbt")
    args = parser.parse_args()
    root = args.project.resolve()
    os.environ.update(ENV)

    from catchment.daemon.workspace import load_workspace

    _catchment(root, "materialize")  # nothing missing, every tool's output written once
    workspace = load_workspace(root)
    checks: list[float] = []
    reloads: list[float] = []
    for _ in range(args.runs):
        _catchment(root, "materialize", "-s", args.select)
        start = time.perf_counter()
        changed = workspace.changed()
        checked = time.perf_counter()
        checks.append(checked - start)
        if changed:
            workspace = load_workspace(root)
            reloads.append(time.perf_counter() - checked)
    lists: list[float] = []
    for _ in range(args.runs):
        _catchment(root, "materialize", "-s", args.select)
        start = time.perf_counter()
        subprocess.run(
            [CATCHMENT, "assets", "list", "--json"],
            cwd=root,
            env=ENV,
            check=True,
            capture_output=True,
        )
        lists.append(time.perf_counter() - start)
    load = os.getloadavg()
    print(f"materialize -s {args.select!r}, {args.runs} rounds, load {load[0]:.1f}")
    print(f"daemon: changed after {len(reloads)}/{args.runs} runs")
    print(f"  check (key recomputed): median {statistics.median(checks) * 1000:.1f} ms")
    if reloads:
        print(f"  reload: median {statistics.median(reloads):.2f} s")
    print(f"cli: assets list --json right after: median {statistics.median(lists):.2f} s")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The long-lived readers of the definitions snapshot: the UI's start and a daemon tick.

    python benchmarks/bench_snapshot_services.py PROJECT_DIR [--runs 3] [--cold]

``ui``: ``catchment ui --port 0`` in the project folder, timed from the process start until
``/assets`` answers 200 (the project read and the first page rendered), then stopped; its CPU
time (user + system) and peak RSS come from ``os.wait4`` (a child the UI started to rebuild
a stale snapshot is counted in both). ``daemon``: ``catchment daemon --once`` (one step: every
loop due, its sensors' subprocesses waited for), wall, CPU and peak RSS the same way.
Warm (default): the snapshot current before each run; ``--cold``: deleted before each run.
Prints medians and the load average, so runs on a busy machine can be read.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ENV = {
    **{k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"},
    "DO_NOT_TRACK": "1",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "SLING_DISABLE_TELEMETRY": "true",
    "SNOWFLAKE_DISABLE_PLATFORM_DETECTION": "true",
}
Sample = tuple[float, float, float]  # wall s, CPU s, peak RSS MB


def _catchment(*args: str) -> list[str]:
    return [sys.executable, shutil.which("catchment") or "catchment", *args]


def _usage(pid: int) -> tuple[float, float]:
    _, _, usage = os.wait4(pid, 0)
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def ui_once(project: Path) -> Sample:
    """Start ``catchment ui``, wait for its first catalog page, stop it."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        _catchment("ui", "--port", "0"),
        cwd=project,
        env=ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    found = re.search(r"http://[^/ ]+/", proc.stdout.readline())
    if found is None:
        proc.kill()
        raise SystemExit("catchment ui printed no address")
    while True:
        try:
            with urllib.request.urlopen(found.group(0) + "assets", timeout=30) as response:
                if response.status == 200:
                    break
        except urllib.error.HTTPError as exc:
            if exc.code != 503:  # 503: still reading the project
                raise
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    proc.send_signal(signal.SIGINT)
    cpu, rss = _usage(proc.pid)
    return wall, cpu, rss


def daemon_once(project: Path) -> Sample:
    """One ``catchment daemon --once``."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        _catchment("daemon", "--once"),
        cwd=project,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    cpu, rss = _usage(proc.pid)
    return time.perf_counter() - t0, cpu, rss


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cold", action="store_true", help="delete the snapshot before each run")
    args = parser.parse_args()
    project = args.project.resolve()
    snapshot = project / ".catchment" / "definitions.snapshot"
    subprocess.run(
        _catchment("assets", "list", "--json"),
        cwd=project,
        env=ENV,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    print(f"load average {os.getloadavg()[0]:.1f}; {'cold' if args.cold else 'warm'} snapshot")
    for name, bench in (("ui start to first page", ui_once), ("daemon --once", daemon_once)):
        samples = []
        for _ in range(args.runs):
            if args.cold:
                snapshot.unlink(missing_ok=True)
            samples.append(bench(project))
        wall, cpu, rss = (statistics.median(s[i] for s in samples) for i in range(3))
        print(f"{name}: {wall:.2f} s wall, {cpu:.2f} s CPU, {rss:.0f} MB peak RSS")
    print(f"load average {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark ``import catchment`` in fresh interpreters.

    python benchmarks/bench_import.py [--runs 20] [--python PATH]

Two measures, each the median of ``--runs`` fresh subprocesses:
  * importtime: the cumulative time ``python -X importtime`` reports for the ``catchment``
    package (what catchment itself costs, on top of the interpreter's own start-up);
  * wall: wall time of ``python -c "import catchment"`` minus that of ``python -c pass``.
It also prints the slowest modules ``import catchment`` pulls in (from the median run).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time


def importtime(python: str) -> tuple[float, dict[str, float]]:
    """(cumulative ms of the catchment package, cumulative ms per top-level import)."""
    result = subprocess.run(
        [python, "-X", "importtime", "-c", "import catchment"],
        capture_output=True,
        text=True,
        check=True,
    )
    total = 0.0
    top_level: dict[str, float] = {}
    for line in result.stderr.splitlines():
        # "import time:  self [us] | cumulative | <2 spaces per nesting level>name"
        head, _, rest = line.partition(":")
        fields = rest.split("|")
        if head != "import time" or len(fields) != 3 or not fields[1].strip().isdigit():
            continue
        cumulative_ms = int(fields[1]) / 1000
        name = fields[2][1:]
        if name == "catchment":
            total = cumulative_ms
        if not name.startswith(" "):
            top_level[name] = cumulative_ms
    return total, top_level


def wall(python: str, code: str) -> float:
    t0 = time.perf_counter()
    subprocess.run([python, "-c", code], check=True)
    return (time.perf_counter() - t0) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--python", default=sys.executable)
    args = ap.parse_args()
    subprocess.run([args.python, "-c", "import catchment"], check=True)  # warm the OS file cache
    totals, trees = [], []
    for _ in range(args.runs):
        total, tree = importtime(args.python)
        totals.append(total)
        trees.append((total, tree))
    walls = [
        wall(args.python, "import catchment") - wall(args.python, "pass") for _ in range(args.runs)
    ]
    median_total = statistics.median(totals)
    print(f"python {sys.version.split()[0]}, {args.runs} fresh processes each")
    print(
        f"  -X importtime, catchment cumulative : median {median_total:6.1f} ms"
        f"  (min {min(totals):.1f}, max {max(totals):.1f})"
    )
    print(f"  wall(import catchment) - wall(pass)  : median {statistics.median(walls):6.1f} ms")
    _, tree = min(trees, key=lambda t: abs(t[0] - median_total))
    slowest = sorted(tree.items(), key=lambda kv: -kv[1])[:6]
    print(
        "  slowest top-level imports (median run): "
        + ", ".join(f"{n} {ms:.1f} ms" for n, ms in slowest)
    )


if __name__ == "__main__":
    main()

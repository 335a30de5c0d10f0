#!/usr/bin/env python3
"""Workspace loading: an unchanged workspace, and a 10,000-asset project loaded fresh.

    python benchmarks/bench_workspace.py [--assets 10000] [--small 3x200] [--runs 5]

Builds, in a temporary folder, (1) a workspace of three generated Python projects (200 assets
each by default) and (2) a workspace of one generated 10,000-asset Python project (every asset
with a dependency, a description, tags, an owner and the DuckDB table its IO manager writes).
Every project runs in this script's own Python, in a subprocess (``python -m
catchment.snapshot``), as a workspace always loads them.

Measures, in this process, ``catchment.workspace.load_workspace`` (validate the file, load
the projects, merge one graph):
  - unchanged: the workspace's cache is current (no subprocess is spawned), median of --runs;
  - fresh: the project's own snapshot and the workspace's cache deleted first (the project
    is loaded by its environment and its snapshot printed, decoded, cached, merged);
the size of the 10,000-asset project's snapshot, and the whole ``catchment assets list
--json`` and ``catchment plan --json`` processes on the unchanged small workspace (``plan``
with ``--no-observe``, observing every project in its environment, and reusing the last
observations). Targets: unchanged <= 0.2 s; snapshot <= 10 MB; fresh <= 5 s.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MODULE = """\
from catchment import asset

for _i in range({n}):
    def _compute():
        return None

    _deps = [f"{prefix}_{{_i // 2}}"] if _i else []
    globals()[f"{prefix}_{{_i}}"] = asset(
        key=f"{prefix}_{{_i}}",
        deps=_deps,
        description=f"Generated asset {{_i}} of {prefix}",
        group=f"g{{_i % 20}}",
        owners=["team@example.com"],
        tags={{"tier": str(_i % 3)}},
        code_version="1",
    )(_compute)
"""


def _project(root: Path, name: str, n: int) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "catchment.yaml").write_text(
        f"project:\n  name: {name}\ncomponents:\n  - type: python\n    name: assets\n"
        "    attributes:\n      module: assets.py\n"
    )
    (folder / "assets.py").write_text(MODULE.format(n=n, prefix=name))


def _workspace(root: Path, projects: dict[str, int]) -> Path:
    lines = ["workspace: {name: bench}", "load_timeout: 600", "projects:"]
    for name, n in projects.items():
        _project(root, name, n)
        lines += [f"  - path: {name}", f"    python: {sys.executable}"]
    file = root / "catchment.workspace.yaml"
    file.write_text("\n".join(lines) + "\n")
    return file


def _load(file: Path) -> tuple[float, int]:
    from catchment.workspace import load_workspace

    started = time.perf_counter()
    wsg = load_workspace(file)
    seconds = time.perf_counter() - started
    assert not wsg.problems, wsg.problems
    return seconds, len(wsg.require_graph())


def _clear(file: Path) -> None:
    shutil.rmtree(file.parent / ".catchment", ignore_errors=True)
    for project in file.parent.iterdir():
        shutil.rmtree(project / ".catchment", ignore_errors=True)


def _cli(file: Path, command: list[str], runs: int) -> list[float]:
    """Wall times of ``catchment COMMAND -p FILE`` as a whole process."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "catchment", *command, "-p", str(file)],
            check=True,
            capture_output=True,
        )
        times.append(time.perf_counter() - started)
    return times


def main() -> int:
    """Run the benchmark and print one line per measurement."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--small", default="3x200", help="PROJECTSxASSETS of the small workspace")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    count, size = (int(x) for x in args.small.split("x"))
    with tempfile.TemporaryDirectory(prefix="bench-ws-") as tmp:
        root = Path(tmp)
        small = _workspace(root / "small", {f"p{i}": size for i in range(count)})
        first, n = _load(small)
        times = [_load(small)[0] for _ in range(args.runs)]
        print(f"small workspace ({count} projects x {size} assets, {n} in the graph):")
        print(f"  first load (fresh, parallel subprocesses): {first:.2f} s")
        print(
            f"  unchanged: median {statistics.median(times):.3f} s, max {max(times):.3f} s "
            "(target <= 0.2 s)"
        )

        for command in (
            ["assets", "list", "--json"],
            ["plan", "--json", "--no-observe"],
            ["plan", "--json", "--observe-ttl", "0"],
            ["plan", "--json", "--observe-ttl", "3600"],
        ):
            print(
                f"  `catchment {' '.join(command)}` (whole process), unchanged: median "
                f"{statistics.median(_cli(small, command, args.runs)):.3f} s"
            )

        big = _workspace(root / "big", {"big": args.assets})
        fresh = []
        for _ in range(max(1, args.runs // 2)):
            _clear(big)
            fresh.append(_load(big)[0])
        entry = big.parent / ".catchment" / "workspace" / "big.entry"
        snapshot = (big.parent / "big" / ".catchment" / "definitions.snapshot").stat().st_size
        unchanged = [_load(big)[0] for _ in range(args.runs)]
        print(f"{args.assets:,}-asset project:")
        print(
            f"  snapshot: {snapshot / 1e6:.2f} MB (workspace cache entry "
            f"{entry.stat().st_size / 1e6:.2f} MB; target <= 10 MB)"
        )
        print(
            f"  fresh load: median {statistics.median(fresh):.2f} s, max {max(fresh):.2f} s "
            "(target <= 5 s)"
        )
        print(f"  unchanged: median {statistics.median(unchanged):.3f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

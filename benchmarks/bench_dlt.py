"""Benchmark the dlt adapter: plugin import, discovery of a wide source, and a real run.

    python benchmarks/bench_dlt.py [--resources 200] [--rows 10000] [--runs 3]

Prints one line per measure (median of --runs, min in brackets). Runs dlt into a DuckDB file
in a temporary folder; telemetry is off.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("RUNTIME__DLTHUB_TELEMETRY", "false")


def _fresh(code: str, runs: int) -> list[float]:
    """Wall time of ``code`` in fresh interpreters, minus an empty interpreter."""
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        t1 = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        t2 = time.perf_counter()
        out.append((t1 - t0) - (t2 - t1))
    return out


def _wide_source(n: int, rows: int):  # type: ignore[no-untyped-def]
    import dlt

    def make(i: int):  # type: ignore[no-untyped-def]
        @dlt.resource(name=f"r{i}", primary_key="id", write_disposition="merge")
        def r(cursor=dlt.sources.incremental("id", initial_value=0)):  # type: ignore[no-untyped-def]
            yield [{"id": j, "items": [{"v": j}]} for j in range(rows)]

        return r

    @dlt.source(name="wide")
    def wide():  # type: ignore[no-untyped-def]
        return [make(i) for i in range(n)]

    return wide


def _report(name: str, values: list[float], unit: str = "ms") -> None:
    scale = 1000 if unit == "ms" else 1
    med, low = statistics.median(values) * scale, min(values) * scale
    print(f"{name}: {med:.1f} {unit} (min {low:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--resources", type=int, default=200)
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    _report(
        "import catchment_dlt.hooks (fresh interpreter)",
        _fresh("import catchment_dlt.hooks", args.runs),
    )
    _report("import dlt (fresh interpreter)", _fresh("import dlt", args.runs))

    from catchment import materialize
    from catchment_dlt import dlt_assets

    wide = _wide_source(args.resources, args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        build, discover = [], []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            source = wide()
            t1 = time.perf_counter()
            d = dlt_assets(source, project_root=root)
            t2 = time.perf_counter()
            build.append(t1 - t0)
            discover.append(t2 - t1)
        _report(f"dlt builds the source of {args.resources} incremental resources", build)
        _report(f"discovery of those {args.resources} resources ({len(d.specs)} specs)", discover)

        one = _wide_source(3, args.rows)
        runs = []
        for i in range(args.runs):
            d = dlt_assets(one(), project_root=root, pipeline_name=f"bench{i}")
            t0 = time.perf_counter()
            result = materialize([d])
            runs.append(time.perf_counter() - t0)
            assert result.success
        _report(
            f"run of 3 resources x {args.rows} rows (+ child tables) via materialize", runs, "s"
        )

        runs = []
        for i in range(args.runs):
            d = dlt_assets(one(), project_root=root, pipeline_name=f"bench{i}")
            t0 = time.perf_counter()
            result = materialize([d])
            runs.append(time.perf_counter() - t0)
            assert result.success
        _report("incremental re-run with no new rows (same pipelines)", runs, "s")


if __name__ == "__main__":
    main()

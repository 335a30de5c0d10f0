"""Sling adapter cost: discovery of large replications, and per-run overhead around the binary.

(a) ``build()`` of a replication with N PostgreSQL streams (no Sling run, no database access).
(b) ``materialize`` of one CSV stream into DuckDB vs. the same ``sling run`` started by hand,
    so the difference is what the adapter adds (temp replication, extension placement, log
    parsing, events).

Run: python benchmarks/bench_sling.py [--streams 100 1000 5000] [--runs 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path


def bench_discovery(counts: list[int], runs: int) -> None:
    from catchment.components import ComponentContext, ProjectDefaults
    from catchment_sling.attributes import SlingAttributes
    from catchment_sling.component import build

    for n in counts:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            streams = {
                f"s{i % 10}.t{i}": (
                    {"mode": "incremental", "primary_key": ["id"], "update_key": "ts"}
                    if i % 3 == 0
                    else None
                )
                for i in range(n)
            }
            rep = {
                "source": "PG",
                "target": "WH",
                "defaults": {"object": "raw.{stream_schema}_{stream_table}"},
                "streams": streams,
            }
            (root / "rep.yaml").write_text(json.dumps(rep))
            attrs = SlingAttributes.model_validate(
                {
                    "replication": "rep.yaml",
                    "connections": {
                        "PG": "postgresql://u:pw@127.0.0.1:5432/db",
                        "WH": "duckdb://warehouse.duckdb",
                    },
                }
            )
            ctx = ComponentContext(name="ingest", project=ProjectDefaults.for_root(root))
            times, cpu = [], []
            for _ in range(runs):
                t0, c0 = time.perf_counter(), time.process_time()
                (defn,) = build(attrs, ctx)
                times.append(time.perf_counter() - t0)
                cpu.append(time.process_time() - c0)
            assert len(defn.specs) == n
            med, cmed = statistics.median(times), statistics.median(cpu)
            print(
                f"discovery  {n:>6} streams: wall median {med * 1000:8.1f} ms, "
                f"CPU {cmed * 1000:8.1f} ms ({cmed / n * 1e6:.1f} us/stream CPU)"
            )


def bench_run(runs: int) -> None:
    from catchment import materialize
    from catchment.components import ComponentContext, ProjectDefaults
    from catchment_sling.attributes import SlingAttributes
    from catchment_sling.binaries import locate_duckdb, locate_sling
    from catchment_sling.component import build
    from catchment_sling.execution import sling_home

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "p.csv").write_text("id,name\n" + "".join(f"{i},n{i}\n" for i in range(1000)))
        rep = {"source": "LOCAL", "target": "WH", "streams": {"file://p.csv": {"object": "raw.p"}}}
        attrs = SlingAttributes.model_validate(
            {"replication": rep, "connections": {"WH": "duckdb://warehouse.duckdb"}}
        )
        (defn,) = build(attrs, ComponentContext(name="i", project=ProjectDefaults.for_root(root)))
        materialize([defn])  # warm: places extensions once
        adapter = []
        for _ in range(runs):
            t0 = time.perf_counter()
            materialize([defn])
            adapter.append(time.perf_counter() - t0)
        (root / "rep.json").write_text(json.dumps(rep))
        home = sling_home(root)
        env = {
            **os.environ,
            "HOME": str(home),
            "SLING_HOME_DIR": str(home / ".sling"),
            "SLING_DISABLE_TELEMETRY": "true",
            "SLING_LOGGING": "JSON",
            "DUCKDB_PATH": str(locate_duckdb()),
            "DUCKDB_VERSION": "1.4.4",
            "WH": f"duckdb://{root / 'warehouse.duckdb'}",
        }
        raw = []
        for _ in range(runs):
            t0 = time.perf_counter()
            subprocess.run(
                [str(locate_sling()), "run", "-r", "rep.json"],
                cwd=root,
                env=env,
                check=True,
                capture_output=True,
            )
            raw.append(time.perf_counter() - t0)
    a, r = statistics.median(adapter), statistics.median(raw)
    print(
        f"run 1 CSV stream (1000 rows): materialize {a * 1000:.0f} ms, bare sling run "
        f"{r * 1000:.0f} ms, adapter+engine overhead {(a - r) * 1000:.0f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--streams", type=int, nargs="+", default=[100, 1000, 5000])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-run", action="store_true", help="skip the real Sling run")
    args = parser.parse_args()
    bench_discovery(args.streams, args.runs)
    if not args.no_run:
        bench_run(args.runs)


if __name__ == "__main__":
    main()

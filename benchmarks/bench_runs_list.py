#!/usr/bin/env python3
"""Benchmark ``runs list`` on a big record store, with and without the ``runs_by_age`` index.

    python benchmarks/bench_runs_list.py [--runs 50000] [--repeat 21] [--pg postgresql://...]

Fills a fresh store (a SQLite file in a temp folder; with ``--pg`` also a PostgreSQL schema,
dropped afterwards) with ``--runs`` finished runs (bulk-inserted in one transaction, each with
a realistic ``info`` body), then times ``Storage.list_runs(limit=50)`` (what ``catchment runs
list`` and the UI's runs page read) and ``list_runs(limit=50, status="failure")``: the median
of ``--repeat`` calls with the index (schema version 4), then after ``DROP INDEX runs_by_age``
(what a version-3 store had), and the plan of the query each time.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from catchment.storage import open_storage
from catchment.storage.base import RUN_COLUMNS
from catchment.storage.sql import RUNS_BY_AGE, SqlStorage

LIST = f"SELECT {RUN_COLUMNS} FROM runs ORDER BY created_at DESC, run_id LIMIT 50"


def fill(store: SqlStorage, n: int) -> None:
    base = time.time() - n * 60
    info = json.dumps({"asset_keys": ["raw/orders", "marts/revenue"], "tags": {"origin": "cli"}})
    rows = [
        (
            uuid.uuid4().hex,
            "failure" if i % 50 == 0 else "success",
            base + i * 60 + (i % 7),  # not inserted in time order everywhere
            base + i * 60 + 30,
            base + i * 60 + 30,
            1000 + i % 300,
            "host",
            None,
            "raw/orders+",
            info,
        )
        for i in range(n)
    ]
    sql = store._sql(f"INSERT INTO runs ({RUN_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
    store._write(lambda cur: cur.executemany(sql, rows))


def timed(fn: Any, repeat: int) -> float:
    fn()  # warm
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def plan(store: SqlStorage) -> str:
    if store.url.startswith("sqlite"):
        import sqlite3

        with contextlib.closing(sqlite3.connect(store.url.removeprefix("sqlite:///"))) as conn:
            return "; ".join(str(r[-1]) for r in conn.execute(f"EXPLAIN QUERY PLAN {LIST}"))
    rows = store._read(f"EXPLAIN {LIST}")
    return " / ".join(str(r[0]).strip() for r in rows[:3])


def measure(label: str, store: SqlStorage, repeat: int) -> None:
    newest = timed(lambda: store.list_runs(limit=50), repeat)
    failed = timed(lambda: store.list_runs(limit=50, status="failure"), repeat)
    print(
        f"  {label:28} list_runs(50) {newest * 1000:7.2f} ms   status=failure "
        f"{failed * 1000:7.2f} ms   plan: {plan(store)}"
    )


def bench(url: str, n: int, repeat: int) -> None:
    store = open_storage(url)
    assert isinstance(store, SqlStorage)
    try:
        start = time.perf_counter()
        fill(store, n)
        print(f"{url.split('?')[0]}: {n} runs inserted in {time.perf_counter() - start:.1f} s")
        if store.url.startswith("postgresql"):
            store._write(lambda cur: cur.execute("ANALYZE runs"))
        measure("with runs_by_age (v4)", store, repeat)
        store._write(lambda cur: cur.execute("DROP INDEX runs_by_age"))
        if store.url.startswith("postgresql"):
            store._write(lambda cur: cur.execute("ANALYZE runs"))
        measure("without it (v3)", store, repeat)
        start = time.perf_counter()
        store._write(lambda cur: cur.execute(RUNS_BY_AGE))
        took = (time.perf_counter() - start) * 1000
        print(f"  creating the index (the v4 migration): {took:.0f} ms")
    finally:
        if store.url.startswith("postgresql"):
            store.drop_schema()  # type: ignore[attr-defined]
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=21)
    parser.add_argument("--pg", help="a PostgreSQL URL (a throwaway schema is used)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="catchment-runs-list-"))
    bench(f"sqlite:///{folder / 'runs.db'}", args.runs, args.repeat)
    if args.pg:
        bench(f"{args.pg}?schema=bench_runs_{uuid.uuid4().hex[:8]}", args.runs, args.repeat)


if __name__ == "__main__":
    main()

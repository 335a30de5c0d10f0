#!/usr/bin/env python3
"""What opening a DuckDB file with many relations costs, by shape of the file (issue 18).

    python benchmarks/bench_duckdb_open.py [--dir DIR] [--models 10000] [--repeat 5] [--read-only]

Builds (once, in ``--dir``) DuckDB files of ``--models`` relations in different shapes: views,
empty 3-column tables, 3-column tables of 5 rows, a tenth of as many tables (scaling), the
tables left in the write-ahead log (not checkpointed), and the same tables in a file created
with ``STORAGE_VERSION 'v1.4.0'`` instead of DuckDB's default (v0.10.2-compatible). For each it
prints medians (wall and CPU) of opening read-only, the observer's catalog query, fetching its
rows, turning them into observations (when catchment is importable) and closing.

``--read-only`` measures files already in ``--dir`` without building or writing any (for
another DuckDB version on a copy of the files: a newer DuckDB could upgrade a file it writes).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb

# The observer's query (catchment.observers.duckdb), repeated so this script runs without
# catchment in a scratch environment with another DuckDB version.
CATALOG = """
SELECT c.table_oid, c.schema_name, c.table_name, c.column_name, c.data_type, t.estimated_size
FROM duckdb_columns() c
LEFT JOIN duckdb_tables() t ON t.table_oid = c.table_oid
WHERE c.database_name = current_database()
"""

SRC = "create table src as select range as id, 'x' as name, 1.5 as amount from range(5)"


def relation(shape: str, i: int) -> str:
    """The statement creating relation ``i`` of a file of ``shape``."""
    if shape == "views":
        return f"create view m{i} as select id, name, amount from src"
    if shape in ("empty", "wal", "empty-v1.4.0"):
        return f"create table m{i} (id bigint, name varchar, amount decimal(2,1))"
    return f"create table m{i} as select id, name, amount from src"  # rows, rows-tenth


def build(path: Path, shape: str, models: int) -> None:
    """A file of ``models`` relations of ``shape`` in one transaction."""
    con = duckdb.connect()
    version = " (storage_version 'v1.4.0')" if shape.endswith("v1.4.0") else ""
    con.execute(f"attach '{path}' as w{version}")
    con.execute("use w")
    if shape == "wal":  # everything after the first checkpoint stays in the WAL
        con.execute("checkpoint")
        con.execute("set checkpoint_threshold = '100GB'")
        con.execute("pragma disable_checkpoint_on_shutdown")
    con.execute("begin")
    con.execute(SRC)
    for i in range(models // 10 if shape == "rows-tenth" else models):
        con.execute(relation(shape, i))
    con.execute("commit")
    con.close()


def observations() -> Callable[[list[tuple[Any, ...]]], object] | None:
    """catchment's row-to-observation step, or None where catchment is not installed (then
    ``CATALOG`` is the query measured; else the observer's own)."""
    global CATALOG
    try:
        from catchment.observers.duckdb import _CATALOG, read_catalog
    except ImportError:
        return None
    CATALOG = _CATALOG

    class Rows:
        def __init__(self, rows: list[tuple[Any, ...]]) -> None:
            self.rows = rows

        def execute(self, query: str) -> Rows:
            return self

        def fetchall(self) -> list[tuple[Any, ...]]:
            return self.rows

    return lambda rows: read_catalog(Rows(rows))


def measure(path: Path, repeat: int) -> dict[str, tuple[float, float]]:
    """Medians (wall, CPU) of each step of one observation of ``path``."""
    steps: dict[str, list[tuple[float, float]]] = {}
    build_obs = observations()

    def timed(name: str, fn: Callable[..., Any], *args: Any) -> Any:
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn(*args)
        steps.setdefault(name, []).append((time.perf_counter() - wall, time.process_time() - cpu))
        return out

    for _ in range(repeat):
        con = timed("open", duckdb.connect, str(path), True)
        cur = timed("query", con.execute, CATALOG)
        rows = timed("fetch", cur.fetchall)
        if build_obs is not None:
            timed("observations", build_obs, rows)
        timed("close", con.close)
    return {
        name: (statistics.median(w for w, _ in xs), statistics.median(c for _, c in xs))
        for name, xs in steps.items()
    }


SHAPES = ("views", "empty", "rows", "rows-tenth", "wal", "empty-v1.4.0", "rows-v1.4.0")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--read-only", action="store_true")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    print(f"duckdb {duckdb.__version__}; medians of {args.repeat}: wall s / CPU s")
    for shape in SHAPES:
        path = args.dir / f"{shape}.duckdb"
        if not path.exists():
            if args.read_only:
                continue
            start = time.perf_counter()
            build(path, shape, args.models)
            print(f"  built {shape} in {time.perf_counter() - start:.1f} s")
        found = measure(path, args.repeat)
        total = sum(c for _, c in found.values())
        cells = "  ".join(f"{k} {w:.3f}/{c:.3f}" for k, (w, c) in found.items())
        size = path.stat().st_size / 2**20
        print(f"{shape:13s} {size:6.0f} MB  {cells}  | CPU total {total:.3f}")


if __name__ == "__main__":
    main()

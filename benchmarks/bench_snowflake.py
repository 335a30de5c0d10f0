"""Benchmark the Snowflake adapter: import cost, discovery, and the cost of a no-op apply.

    python benchmarks/bench_snowflake.py [--objects 1000] [--runs 5]

1. ``import catchment_snowflake.hooks`` in a fresh interpreter (minus ``python -c pass``).
2. Discovery (``build``) of a component with N managed objects (half tables, half views over
   them): validation, sqlglot normalisation, hashes, lineage.
3. Against fakesnow (``fakesnow.patch()``; Snowflake's cloud is unreachable here): a first
   materialization of 100 objects (creates them), then the repeat (no DDL: one state query
   plus one existence query per object). fakesnow runs on DuckDB in-process, so this measures
   the adapter's own overhead and statement count, not Snowflake's latency (~50-200 ms per
   statement on a warehouse: the statement count is what matters there).
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
from typing import Any

os.environ.setdefault("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")


def fresh_import(module: str, runs: int) -> tuple[float, float]:
    def once(code: str) -> float:
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True)
        return time.perf_counter() - t

    base = [once("pass") for _ in range(runs)]
    full = [once(f"import {module}") for _ in range(runs)]
    return statistics.median(full) - statistics.median(base), min(full) - min(base)


def objects(n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i in range(n // 2):
        out.append(
            {
                "kind": "table",
                "name": f"t{i}",
                "schema": "raw",
                "columns": [
                    {"name": "id", "type": "number(38,0)", "nullable": False},
                    {"name": "amount", "type": "number(10,2)"},
                    {"name": "note", "type": "varchar"},
                ],
            }
        )
        out.append(
            {
                "kind": "view",
                "name": f"v{i}",
                "schema": "marts",
                "query": f"select id, sum(amount) as total from raw.t{i} "
                "where note is not null group by id",
            }
        )
    return out


def build_component(n: int, resource: Any, root: Path) -> Any:
    from catchment.components import ComponentContext, ProjectDefaults
    from catchment_snowflake.attributes import SnowflakeAttributes
    from catchment_snowflake.component import build

    attrs = SnowflakeAttributes.model_validate({"connection": "sf", "objects": objects(n)})
    ctx = ComponentContext(
        name="objects",
        project=ProjectDefaults.for_root(root),
        source="catchment.yaml:1",
        resources={"sf": resource},
    )
    (defn,) = build(attrs, ctx)
    return defn


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    import fakesnow
    import fakesnow.cursor
    from catchment.execution.api import materialize
    from catchment_snowflake.resource import SnowflakeResource

    med, best = fresh_import("catchment_snowflake.hooks", args.runs)
    print(f"import catchment_snowflake.hooks: {med * 1000:.0f} ms (min {best * 1000:.0f} ms)")

    resource = SnowflakeResource(
        account="bench", user="u", password="p", database="analytics", schema="public"
    )
    root = Path(tempfile.mkdtemp())
    from catchment_snowflake.objects import analyse_sql, norm_type

    times = []
    for _ in range(args.runs):
        analyse_sql.cache_clear()  # cold: no query or type seen before
        norm_type.cache_clear()
        t = time.perf_counter()
        build_component(args.objects, resource, root)
        times.append(time.perf_counter() - t)
    med = statistics.median(times)
    print(
        f"build {args.objects} objects: {med * 1000:.0f} ms (min {min(times) * 1000:.0f} ms), "
        f"{med / args.objects * 1e6:.0f} us per object"
    )

    count = {"n": 0}
    real = fakesnow.cursor.FakeSnowflakeCursor.execute

    def counting(self: Any, command: str, *a: Any, **k: Any) -> Any:
        count["n"] += 1
        return real(self, command, *a, **k)

    fakesnow.cursor.FakeSnowflakeCursor.execute = counting  # type: ignore[method-assign]
    defn = build_component(100, resource, root)
    with fakesnow.patch():
        t = time.perf_counter()
        materialize([defn], resources={"sf": resource})
        created = time.perf_counter() - t
        first_statements = count["n"]
        repeats = []
        for _ in range(args.runs):
            count["n"] = 0
            t = time.perf_counter()
            materialize([defn], resources={"sf": resource})
            repeats.append(time.perf_counter() - t)
    print(f"create 100 objects on fakesnow: {created * 1000:.0f} ms, {first_statements} statements")
    med = statistics.median(repeats)
    print(
        f"repeat (no-op) 100 objects on fakesnow: {med * 1000:.0f} ms "
        f"(min {min(repeats) * 1000:.0f} ms), {count['n']} statements, all reads"
    )


if __name__ == "__main__":
    main()

"""Benchmark column lineage and the per-asset cost of emitting OpenLineage events.

    python benchmarks/bench_openlineage.py [--models 1000] [--runs 5] [--assets 200]

1. Column lineage (``catchment.columns.column_lineage``) of every model of a generated
   1,000-model dbt project (``generate_dbt_project.py``): each model's SQL compiled the way
   dbt compiles these models (``ref``/``source`` replaced by the quoted relation name, the
   ``config`` call removed), parsed with the DuckDB dialect. Target: <= 5 s for all.
2. One 150-column, 7-branch ``UNION ALL`` (each column an expression). Target: <= 50 ms.
   For scale, sqlglot's own ``sqlglot.lineage.lineage`` for ONE column of the same query.
3. Per-asset overhead of the OpenLineage adapter: N trivial ``@asset``s in a chain run with
   ``catchment.materialize`` without the adapter, then with it sending to an HTTP receiver on
   127.0.0.1 (START + COMPLETE per asset, parent events, the run-end flush included).
"""

from __future__ import annotations

import argparse
import http.server
import os
import re
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float, float]:
    """(median wall, min wall, min CPU) seconds of ``fn`` over ``runs`` calls."""
    walls, cpus = [], []
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        fn()
        cpus.append(time.process_time() - c)
        walls.append(time.perf_counter() - w)
    return statistics.median(walls), min(walls), min(cpus)


def compiled_models(n_models: int) -> list[str]:
    """The SQL dbt would compile for each model of the generated project."""
    import generate_dbt_project as gen

    models = gen.plan(n_models, gen.default_layers(n_models), 8, 7)
    out = []
    for m in models:
        sql = gen.model_sql(m)
        sql = re.sub(r"\{\{ config\([^}]*\) \}\}\n?", "", sql)
        sql = re.sub(r"\{\{ ref\('(\w+)'\) \}\}", r'"warehouse"."main"."\1"', sql)
        sql = re.sub(r"\{\{ source\('raw', '(\w+)'\) \}\}", r'"warehouse"."raw"."\1"', sql)
        out.append(sql)
    return out


def wide_union(columns: int = 150, branches: int = 7) -> str:
    cols = ", ".join(f"coalesce(a.c{i}, 0) + b.k as c{i}" for i in range(columns))
    return " union all ".join(
        f"select {cols} from s.t{j} a join s.keys b on a.id = b.id" for j in range(branches)
    )


def bench_lineage(n_models: int, runs: int) -> None:
    from catchment.columns import column_lineage

    sqls = compiled_models(n_models)
    column_lineage(sqls[0], dialect="duckdb")  # sqlglot's dialect tables, once

    def all_models() -> None:
        for sql in sqls:
            column_lineage(sql, dialect="duckdb")

    med, low, cpu = timed(all_models, runs)
    print(
        f"column lineage, {len(sqls)} dbt models: median {med:.2f} s (min {low:.2f}, CPU {cpu:.2f})"
    )
    union = wide_union()
    result = column_lineage(union, dialect="duckdb")
    assert len(result.columns) == 150
    assert len(result.columns["c0"]) == 8  # 7 tables + keys.k
    med, low, cpu = timed(lambda: column_lineage(union, dialect="duckdb"), max(runs, 10))
    print(
        f"column lineage, 150 columns x 7-branch UNION: median {med * 1000:.1f} ms "
        f"(min {low * 1000:.1f}, CPU {cpu * 1000:.1f})"
    )
    import sqlglot
    from catchment import columns

    med, low, cpu = timed(lambda: columns._full(sqlglot, union, "duckdb"), runs)
    print(
        f"  same UNION through sqlglot's full parse tree (the path for CTEs, subqueries): "
        f"median {med * 1000:.1f} ms (min {low * 1000:.1f}, CPU {cpu * 1000:.1f})"
    )
    med, low, cpu = timed(lambda: [columns._full(sqlglot, q, "duckdb") for q in sqls], 1)
    print(f"  the {len(sqls)} dbt models through the full parse tree: {med:.2f} s (CPU {cpu:.2f})")
    from sqlglot.lineage import lineage

    t = time.perf_counter()
    lineage("c75", union, dialect="duckdb")
    print(f"sqlglot.lineage.lineage, ONE column of the same UNION: {time.perf_counter() - t:.2f} s")


class _Sink(http.server.BaseHTTPRequestHandler):
    count = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        _Sink.count += 1
        self.send_response(201)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def bench_emit(n_assets: int, runs: int) -> None:
    import catchment_openlineage.hooks
    from catchment import asset
    from catchment.execution.api import materialize
    from catchment.plugins import PluginRegistry
    from catchment.tables import table

    defs = []
    for i in range(n_assets):
        deps = [f"a{i - 1}"] if i else []

        @asset(key=f"a{i}", deps=deps, table=table("duckdb", f"a{i}", location="/tmp/w.duckdb"))
        def step() -> int:
            return 1

        defs.append(step)
    registry = PluginRegistry(strict=True, allow=())
    registry.add_plugin(catchment_openlineage.hooks, name="openlineage")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    os.environ.pop("OPENLINEAGE_URL", None)
    base, base_min, _ = timed(lambda: materialize(defs, hooks=registry.hook), runs)
    os.environ["OPENLINEAGE_URL"] = f"http://127.0.0.1:{server.server_address[1]}"
    with_ol, with_min, _ = timed(lambda: materialize(defs, hooks=registry.hook), runs)
    server.shutdown()
    per = (with_ol - base) / n_assets * 1000
    per_min = (with_min - base_min) / n_assets * 1000
    print(
        f"{n_assets} assets: without OpenLineage median {base:.2f} s (min {base_min:.2f}), with "
        f"{with_ol:.2f} s (min {with_min:.2f}): {per:.2f} ms per asset (from minimums "
        f"{per_min:.2f}), delivery included; {_Sink.count} events received"
    )
    from catchment_openlineage import emitter

    assert emitter._EMITTER is not None
    emitter._EMITTER.delivery._emit = lambda event: None  # what the run's thread pays
    built, built_min, _ = timed(lambda: materialize(defs, hooks=registry.hook), runs)
    print(
        f"same, events built and queued but not sent: {(built - base) / n_assets * 1000:.2f} ms "
        f"per asset (from minimums {(built_min - base_min) / n_assets * 1000:.2f})"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", type=int, default=1000)
    ap.add_argument("--assets", type=int, default=200)
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)  # no openlineage.yml is picked up from the working directory
        bench_lineage(args.models, args.runs)
        bench_emit(args.assets, args.runs)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

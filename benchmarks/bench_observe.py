#!/usr/bin/env python3
"""Benchmark observing many assets in one DuckDB warehouse (issue 18).

    python benchmarks/bench_observe.py [--models 10000] [--repeat 5] [--dir DIR]
                                       [--storage-version v1.4.0]

Builds a DuckDB file with ``--models`` relations shaped like the synthetic dbt project of
``generate_dbt_project.py`` (a tenth are views, the rest tables of 3 columns and a few rows)
and a graph of as many assets whose identities are those relations, as the dbt adapter
declares them (``duckdb_table(path, name, schema="main")``); the graph is synthetic (no dbt
parse: its 60 s are not what is measured). ``--storage-version`` creates the file in that
DuckDB storage format instead of the default (v1.2.0 and later open in about half the time).
It prints, median of ``--repeat``:

- the DuckDB observer alone: opening the file, one catalog query for every relation, and
  the same when the file is unchanged since the last observation (catalog cache);
- ``observe(graph)``: grouping the relations by warehouse and running the observer;
- recording: the first ``record()`` (every asset new) and a later one (nothing changed);
- reading the history back (``load_history``) and ``reconcile`` with the observations.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
from catchment.definitions import AssetsDefinition
from catchment.events import Event, EventType, MaterializationData
from catchment.execution.drift import Observed
from catchment.execution.observe import load_history, observe, record
from catchment.execution.reconcile import reconcile
from catchment.graph import AssetGraph
from catchment.keys import AssetKey
from catchment.observers.duckdb import DuckDBObserver, read_catalog
from catchment.specs import AssetSpec
from catchment.storage import open_storage
from catchment.tables import duckdb_table


def build_warehouse(path: Path, models: int, storage_version: str | None = None) -> None:
    """``models`` relations in one transaction: every tenth a view."""
    config = {"storage_compatibility_version": storage_version} if storage_version else {}
    con = duckdb.connect(str(path), config=config)
    con.execute("begin")
    con.execute("create table src as select range as id, 'x' as name, 1.5 as amount from range(5)")
    for i in range(models):
        if i % 10 == 0:
            con.execute(f"create view m{i} as select id, name, amount from src")
        else:
            con.execute(f"create table m{i} as select id, name, amount from src")
    con.execute("commit")
    con.close()


def build_graph(path: Path, models: int) -> AssetGraph:
    specs = tuple(
        AssetSpec(key=AssetKey.parse(f"m{i}"), table=duckdb_table(path, f"m{i}", schema="main"))
        for i in range(models)
    )
    return AssetGraph.build([AssetsDefinition(name="dbt", specs=specs, compute=lambda c: None)])


def median(fn: Callable[[], object], repeat: int) -> str:
    """``wall X s (cpu Y s)``: medians of ``repeat`` calls (CPU is steadier on a shared box)."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return f"wall {statistics.median(walls):.3f} s (cpu {statistics.median(cpus):.3f} s)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--storage-version", default=None, help="e.g. v1.4.0 (default: DuckDB's)")
    args = parser.parse_args()
    root = args.dir or Path(tempfile.mkdtemp(prefix="bench-observe-"))
    root.mkdir(parents=True, exist_ok=True)
    path = root / f"warehouse{'-' + args.storage_version if args.storage_version else ''}.duckdb"
    if not path.exists():
        start = time.perf_counter()
        build_warehouse(path, args.models, args.storage_version)
        print(f"built {args.models} relations in {time.perf_counter() - start:.1f} s ({path})")
    os.environ["CATCHMENT_CACHE_DIR"] = "off"  # each measurement says whether it uses it
    graph = build_graph(path, args.models)
    refs = [graph.specs[k].table for k in graph]
    observer = DuckDBObserver(str(path))
    found = observer.observe(refs)  # type: ignore[arg-type]
    assert all(o.exists for o in found.values()), "every relation must be found"
    size = path.stat().st_size / 2**20
    opened = median(lambda: duckdb.connect(str(path), read_only=True).close(), args.repeat)
    print(f"open the {size:.0f} MB file read-only (DuckDB loads its catalog): {opened}")
    con = duckdb.connect(str(path), read_only=True)
    print(
        f"the one catalog query, {len(refs)} relations: "
        f"{median(lambda: read_catalog(con), args.repeat)}"
    )
    con.close()
    os.environ["CATCHMENT_CACHE_DIR"] = "off"
    print(
        "DuckDB observer, catalog cache off (open + query + match): "
        f"{median(lambda: observer.observe(refs), args.repeat)}"  # type: ignore[arg-type]
    )
    os.environ["CATCHMENT_CACHE_DIR"] = str(root / "cache")
    observer.observe(refs)  # type: ignore[arg-type]  # fills the cache (the file is quiet)
    print(
        "DuckDB observer, file unchanged since the last observation (catalog cache): "
        f"{median(lambda: observer.observe(refs), args.repeat)}"  # type: ignore[arg-type]
    )
    written = []
    for _ in range(args.repeat):  # a run writes one table, observes what it built at its end
        with duckdb.connect(str(path)) as con:
            con.execute("insert into m1 select * from src limit 1")
        time.sleep(0.1)
        start = time.perf_counter()
        observer.observe(refs)  # type: ignore[arg-type]  # the run's own observation
        after_run = time.perf_counter() - start
        start = time.perf_counter()
        observer.observe(refs)  # type: ignore[arg-type]  # the next plan's
        written.append((after_run, time.perf_counter() - start))
    print(
        "file written 0.1 s before: the run's observation / the next plan's: "
        f"wall {statistics.median(w for w, _ in written):.3f} s / "
        f"{statistics.median(p for _, p in written):.3f} s"
    )
    os.environ["CATCHMENT_CACHE_DIR"] = "off"
    factories = {"duckdb": DuckDBObserver}
    print(
        "observe(graph) incl. grouping, cache off: "
        f"{median(lambda: observe(graph, factories=factories), args.repeat)}"
    )
    os.environ["CATCHMENT_CACHE_DIR"] = str(root / "cache")
    print(
        "observe(graph) incl. grouping, file unchanged (catalog cache): "
        f"{median(lambda: observe(graph, factories=factories), args.repeat)}"
    )
    os.environ["CATCHMENT_CACHE_DIR"] = "off"
    storage = open_storage(f"sqlite:///{root / 'runs.db'}")
    run_events = [
        Event.of("r1", EventType.MATERIALIZATION, MaterializationData(), asset_key=k.to_string())
        for k in graph
    ]
    storage.append_events(run_events)
    seqs = {k: e.seq or 0 for k, e in zip(graph, run_events, strict=True)}
    observations = observe(graph, factories=factories)
    history = load_history(storage)
    start = time.perf_counter()
    first = record(storage, graph, observations, history, seqs)
    print(f"record, first time ({len(first)} events): {time.perf_counter() - start:.3f} s")
    start = time.perf_counter()
    again = record(storage, graph, observations, history, seqs)
    print(f"record, nothing changed ({len(again)} events): {time.perf_counter() - start:.3f} s")
    print(
        f"load_history ({len(first)} events): {median(lambda: load_history(storage), args.repeat)}"
    )
    observed = Observed(graph, observations, load_history(storage))
    plain = median(lambda: reconcile(graph, storage), args.repeat)
    with_obs = median(lambda: reconcile(graph, storage, observed=observed), args.repeat)
    print(f"reconcile {len(graph)} assets: records only {plain}; with observations {with_obs}")
    storage.close()


if __name__ == "__main__":
    main()

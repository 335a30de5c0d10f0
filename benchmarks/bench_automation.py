#!/usr/bin/env python3
"""Benchmark one automation tick over a large graph with a realistic history in SQLite.

    python benchmarks/bench_automation.py [--assets 10000] [--partitioned 2000] [--days 365]
                                          [--ticks 5] [--db PATH]

The graph: ``--assets`` assets in 20 layers (about two upstreams each, mostly in the previous
layer), of which ``--partitioned`` are daily-partitioned with ``--days`` windows each. Roots run
``on_cron('0 * * * *')``; the rest are ``eager()``, some ``eager() & ~check_failed() &
~failed()`` and some ``stale()``-driven, partitioned ones keep the latest window (the default
scope). The history, written with bulk inserts (indexes built afterwards): 30 daily runs of
every unpartitioned asset (with their run, step and log events), every partition of every
partitioned asset (the newest week twice), 30 evaluations of a check on every fifth asset, a
few hundred failures, and a few runs in progress.

It prints the time of the first tick (no previous state) and the median of ``--ticks`` later
ones (each with the previous state; wall and process CPU time, which is steadier when other
work shares the machine), the number of record-store queries per tick, and the same for a
graph a tenth the size: the count must not grow with assets or partitions.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from catchment.automation.conditions import (
    AutomationCondition,
    check_failed,
    eager,
    failed,
    on_cron,
    stale,
)
from catchment.automation.evaluator import evaluate
from catchment.automation.result import AutomationState
from catchment.definitions import AssetsDefinition
from catchment.events import Event, EventType, encode_event
from catchment.graph import AssetGraph
from catchment.keys import AssetKey
from catchment.partitions import TimeWindowPartitions
from catchment.specs import AssetDep, AssetSpec, CheckSpec
from catchment.storage.sqlite import SqliteStorage

NOW = datetime(2026, 11, 20, 6, 30, tzinfo=UTC)
LAYERS = 20


def _noop(context: Any) -> Iterator[Any]:
    yield from ()


def build_graph(n_assets: int, n_partitioned: int, days: int, seed: int = 7) -> AssetGraph:
    """The benchmark graph (see the module docstring)."""
    rng = random.Random(seed)
    per_layer = n_assets // LAYERS
    keys = [AssetKey._trusted((f"layer_{i // per_layer:02d}", f"a{i}")) for i in range(n_assets)]
    daily = TimeWindowPartitions((NOW - timedelta(days=days)).strftime("%Y-%m-%d"))
    # partitioned assets: the last n_partitioned of the graph (so their upstreams are mixed)
    partitioned = set(range(n_assets - n_partitioned, n_assets))
    conditions: list[AutomationCondition] = [
        eager(),
        eager() & ~check_failed() & ~failed(),
        stale() & ~failed(),
    ]
    cron = on_cron("0 * * * *")
    specs = []
    for i, key in enumerate(keys):
        layer = i // per_layer
        deps: list[AssetKey] = []
        if layer:
            for _ in range(2):
                up_layer = layer - 1 if rng.random() < 0.8 else rng.randrange(layer)
                up = keys[up_layer * per_layer + rng.randrange(per_layer)]
                if up not in deps:
                    deps.append(up)
        condition = cron if not layer else conditions[0 if i % 10 < 8 else 1 if i % 10 == 8 else 2]
        specs.append(
            AssetSpec(
                key=key,
                deps=tuple(AssetDep(d) for d in deps),
                group=f"group_{i % 20}",
                code_version="v1",
                partitions=daily if i in partitioned else None,
                checks=(CheckSpec(name="rows", asset=key),) if i % 5 == 3 else (),
                automation=condition,
            )
        )
    defs = [
        AssetsDefinition(name=f"def_{j}", specs=tuple(specs[j : j + 100]), compute=_noop)
        for j in range(0, n_assets, 100)
    ]
    return AssetGraph.build(defs)


def _body(event: Event) -> str:
    return encode_event(event).decode()


def write_history(path: Path, graph: AssetGraph, days: int, seed: int = 11) -> int:
    """Bulk-insert the history (see the module docstring); returns the number of events."""
    SqliteStorage(path).close()  # the schema, at the current version
    rng = random.Random(seed)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=OFF")  # a bulk load: no journal, WAL again after
    conn.execute("PRAGMA synchronous=OFF")
    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' "
        "AND sql IS NOT NULL"
    ).fetchall()
    for name, _ in indexes:
        conn.execute(f"DROP INDEX {name}")
    rows: list[tuple[Any, ...]] = []
    start = NOW - timedelta(days=days)
    unpartitioned = [k for k in graph if graph.specs[k].partitions is None]
    partitioned = [k for k in graph if graph.specs[k].partitions is not None]

    def add(event: Event) -> None:
        check = event.data.get("check_name") if event.type is EventType.CHECK_EVALUATED else None
        rows.append(
            (
                event.run_id,
                event.type.value,
                event.timestamp,
                event.step_key,
                event.asset_key,
                event.partition,
                check,
                _body(event),
            )
        )

    def materialization(run: str, key: AssetKey, ts: float, part: str | None) -> None:
        name = key.to_string()
        inputs = {u.to_string(): f"{u.to_string()}@{ts:.0f}" for u in graph.upstream(key)}
        add(
            Event(
                run_id=run,
                type=EventType.MATERIALIZATION,
                timestamp=ts + 1,
                step_key=name,
                asset_key=name,
                partition=part,
                data={
                    "metadata": {"rows": rng.randrange(10_000), "duration": 0.25},
                    "code_version": "v1",
                    "data_version": f"{name}@{ts:.0f}",
                    "input_versions": inputs,
                    "table": f"duckdb://warehouse.main.{key.to_python_name()}",
                },
            )
        )

    def run_events(run: str, ts: float, steps: int) -> None:
        """What a run records around its materializations (start, steps, logs, finish)."""
        add(Event(run_id=run, type=EventType.RUN_STARTED, timestamp=ts))
        for i in range(steps):
            add(Event(run_id=run, type=EventType.STEP_STARTED, timestamp=ts, step_key=f"s{i}"))
            add(
                Event(
                    run_id=run,
                    type=EventType.LOG,
                    timestamp=ts,
                    step_key=f"s{i}",
                    data={"level": "info", "message": "done"},
                )
            )
        add(Event(run_id=run, type=EventType.RUN_FINISHED, timestamp=ts + 60))

    for day in range(max(0, days - 30), days):  # 30 daily runs of the unpartitioned assets
        ts = (start + timedelta(days=day, hours=3)).timestamp()
        run = f"daily-{day}"
        run_events(run, ts, len(unpartitioned) // 10)
        for key in unpartitioned:
            materialization(run, key, ts, None)
            if graph.checks_for(key):
                add(
                    Event(
                        run_id=run,
                        type=EventType.CHECK_EVALUATED,
                        timestamp=ts + 3,
                        asset_key=key.to_string(),
                        data={"check_name": "rows", "passed": rng.random() > 0.02},
                    )
                )
    for p_day in range(days):  # every partition once, the newest week twice
        ts = (start + timedelta(days=p_day + 1, hours=4)).timestamp()
        part = (start + timedelta(days=p_day)).strftime("%Y-%m-%d")
        for key in partitioned:
            if p_day == days - 1 and rng.random() < 0.05:
                continue  # a few of yesterday's windows are still missing
            materialization(f"part-{p_day}", key, ts, part)
            if p_day >= days - 7:
                materialization(f"part-{p_day}-again", key, ts + 600, part)
    for key in rng.sample(list(graph), 300):
        add(
            Event(
                run_id="failures",
                type=EventType.ASSET_FAILED,
                timestamp=(NOW - timedelta(hours=2)).timestamp(),
                asset_key=key.to_string(),
                data={"message": "boom"},
            )
        )
    rows.sort(key=lambda r: r[2])  # in time order, as a real store fills up
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO events (run_id, type, timestamp, step_key, asset_key, partition_key, "
        "check_name, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )
    for i in range(5):  # a few runs in progress
        keys = ",".join(f'"{k}"' for k in rng.sample([str(k) for k in unpartitioned], 20))
        conn.execute(
            "INSERT INTO runs (run_id, status, created_at, heartbeat_at, pid, host, info) "
            "VALUES (?, 'started', ?, ?, 1, 'elsewhere', ?)",
            (f"running-{i}", NOW.timestamp(), NOW.timestamp(), f'{{"asset_keys":[{keys}]}}'),
        )
    conn.execute("COMMIT")
    for _, sql in indexes:
        conn.execute(sql)
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    return len(rows)


def bench(graph: AssetGraph, db: Path, ticks: int) -> dict[str, Any]:
    """The first tick, then ``ticks`` more (five minutes apart), each with the state before."""
    store = SqliteStorage(db)
    try:
        t0 = time.perf_counter()
        first = evaluate(graph, store, NOW, None)
        first_s = time.perf_counter() - t0
        state: AutomationState = first.state
        times, cpu, queries = [], [], []
        for i in range(ticks):
            t0, c0 = time.perf_counter(), time.process_time()
            result = evaluate(graph, store, NOW + timedelta(minutes=5 * (i + 1)), state)
            times.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
            queries.append(result.queries)
            state = result.state
        return {
            "first_s": first_s,
            "first_queries": first.queries,
            "first_requests": len(first.run_requests),
            "first_decisions": len(first.decisions),
            "subjects": first.subjects,
            "tick_s": statistics.median(times),
            "tick_cpu_s": statistics.median(cpu),
            "tick_max_s": max(times),
            "queries": sorted(set(queries)),
            "requests": len(result.run_requests),
        }
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=10_000)
    parser.add_argument("--partitioned", type=int, default=2_000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--ticks", type=int, default=5)
    parser.add_argument("--db", type=Path, default=None, help="keep the store here (reused)")
    args = parser.parse_args()

    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        runs: list[tuple[str, int, int]] = [
            ("full", args.assets, args.partitioned),
            ("tenth", args.assets // 10, args.partitioned // 10),
        ]
        for label, n, p in runs:
            graph = build_graph(n, p, args.days)
            db = args.db if (args.db is not None and label == "full") else Path(tmp) / f"{label}.db"
            if not db.exists():
                t0 = time.perf_counter()
                events = write_history(db, graph, args.days)
                size = os.path.getsize(db) / 1e6
                print(
                    f"[{label}] history: {events:,} events, {size:.0f} MB, "
                    f"written in {time.perf_counter() - t0:.1f} s"
                )
            out = bench(graph, db, args.ticks)
            print(
                f"[{label}] {n:,} assets ({p:,} daily-partitioned x {args.days} days), "
                f"{out['subjects']:,} asset partitions in scope\n"
                f"  first tick (no state): {out['first_s']:.3f} s, {out['first_queries']} queries, "
                f"{out['first_decisions']} decisions in {out['first_requests']} run requests\n"
                f"  later ticks: median {out['tick_s']:.3f} s wall, {out['tick_cpu_s']:.3f} s CPU "
                f"(max {out['tick_max_s']:.3f} s wall), queries per tick {out['queries']}"
            )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark the run queue: dequeue throughput, a 10,000-partition backfill, pool claims.

    python benchmarks/bench_queue.py [--runs 5000] [--pg postgresql://postgres@127.0.0.1:5432/postgres]

1. Dequeue throughput: ``--runs`` queued runs (half tagged ``team=a``, priorities mixed) are
   started by ``dequeue`` under ``max_concurrent_runs=50`` and a tag limit, each started run
   then claimed and finished (what ``runs execute`` records), until the queue is empty; runs
   started per second, and the median time of one ``dequeue`` call.
2. Backfill: create and plan a 10,000-partition backfill (hourly, two assets), then queue its
   10,000 runs (one transaction).
3. Pool claims: claim + release of one slot, per second.
4. Downstream latency in a backfill run: upstream partition's step finished -> downstream
   step started, from the records of real per-partition runs (``backfill run``).

Each on SQLite (a file in a temp folder) and, with ``--pg``, on PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from catchment.events import EventType
from catchment.project import load_project
from catchment.runs.backfill import create_backfill, submit_backfill
from catchment.storage import RunRecord, Storage, open_storage
from catchment.storage.base import HOSTNAME
from catchment.storage.queue import PoolClaim, QueueLimits, TagLimit

PROJECT = """\
project:
  name: bench
components:
  - type: python
    name: core
    attributes:
      module: assets.py
io_managers:
  default:
    type: filesystem
    config:
      base_dir: values
"""

ASSETS = """\
from catchment import asset, TimeWindowPartitions

HOURLY = TimeWindowPartitions(start="2020-01-01-00:00", cadence="hourly")

@asset(partitions=HOURLY)
def up(context):
    return context.partition_key

@asset(partitions=HOURLY)
def down(up):
    return up
"""


def dequeue_throughput(store: Storage, runs: int) -> tuple[float, float]:
    """Runs started per second, median seconds per ``dequeue``."""
    batch = [
        (
            RunRecord(
                run_id=uuid.uuid4().hex,
                status="queued",
                created_at=float(i),
                tags={"team": "a" if i % 2 else "b", "priority": str(i % 3)},
            ),
            None,
        )
        for i in range(runs)
    ]
    store.submit_runs(batch)
    limits = QueueLimits(
        max_concurrent_runs=50, tag_limits=(TagLimit(key="team", value="a", limit=20),)
    )
    calls: list[float] = []
    started = 0
    begin = time.perf_counter()
    while started < runs:
        t = time.perf_counter()
        result = store.dequeue(limits, now=time.time())
        calls.append(time.perf_counter() - t)
        for run in result.started:
            store.claim_run(run.run_id, os.getpid(), HOSTNAME, time.time())
            store.update_run_status(run.run_id, "success")
        started += len(result.started)
    return runs / (time.perf_counter() - begin), statistics.median(calls)


def pool_claims(store: Storage, n: int = 500) -> float:
    """Claims + releases per second."""
    store.create_run(RunRecord(run_id="pool-bench", pid=os.getpid(), host=HOSTNAME))
    begin = time.perf_counter()
    for i in range(n):
        now = time.time()
        claim = PoolClaim(
            claim_id=f"c{i}",
            pool="p",
            run_id="pool-bench",
            step_key="s",
            slots=1,
            claimed_at=now,
            expires_at=now + 60,
            pid=os.getpid(),
            host=HOSTNAME,
        )
        assert store.claim_pool_slots(claim, 4, 60).granted
        store.release_pool_slots([claim.claim_id])
    return n / (time.perf_counter() - begin)


def backfill_10k(root: Path, store: Storage) -> tuple[float, float]:
    """Seconds to create + plan a 10,000-partition backfill, and to queue its runs."""
    graph = load_project(root).require_graph()
    t = time.perf_counter()
    backfill = create_backfill(graph, "+down", "2020-01-01-00:00...2021-02-20-15:00")
    planned = time.perf_counter() - t
    assert len(backfill.partitions) == 10_000
    store.create_backfill(backfill)
    t = time.perf_counter()
    assert submit_backfill(store, backfill) == 10_000
    return planned, time.perf_counter() - t


def downstream_latency(root: Path) -> list[float]:
    """Upstream step finished -> downstream step started, per partition of a real backfill."""
    store = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    graph = load_project(root).require_graph()
    backfill = create_backfill(graph, "+down", "2024-01-01-00:00...2024-01-01-04:00")
    store.create_backfill(backfill)
    store.close()
    cmd = [sys.executable, "-m", "catchment", "backfill", "run", backfill.backfill_id]
    subprocess.run([*cmd, "-p", str(root)], check=True, capture_output=True)
    store = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    gaps = []
    for run in store.backfill_runs(backfill.backfill_id).values():
        events = store.events_for_run(run.run_id)
        up_done = next(
            e.timestamp for e in events if e.type is EventType.STEP_FINISHED and e.step_key == "up"
        )
        down_start = next(
            e.timestamp for e in events if e.type is EventType.STEP_STARTED and e.step_key == "down"
        )
        gaps.append(down_start - up_done)
    store.close()
    return gaps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5000)
    parser.add_argument("--pg", default=None, help="PostgreSQL URL (optional)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "proj"
        root.mkdir()
        (root / "catchment.yaml").write_text(PROJECT)
        (root / "assets.py").write_text(ASSETS)
        urls = {"sqlite": f"sqlite:///{tmp}/bench.db"}
        if args.pg:
            urls["postgres"] = f"{args.pg}?schema=bench_{uuid.uuid4().hex[:8]}"
        for name, url in urls.items():
            store = open_storage(url)
            try:
                per_s, median = dequeue_throughput(store, args.runs)
                print(
                    f"{name}: dequeue {args.runs} runs: {per_s:,.0f} runs started/s, "
                    f"median dequeue call {median * 1000:.1f} ms"
                )
                print(f"{name}: pool claim+release: {pool_claims(store):,.0f}/s")
                planned, queued = backfill_10k(root, store)
                print(
                    f"{name}: backfill of 10,000 partitions: created+planned {planned:.2f} s, "
                    f"10,000 runs queued in {queued:.2f} s"
                )
            finally:
                if name == "postgres":
                    store.drop_schema()  # type: ignore[attr-defined]
                store.close()
        gaps = downstream_latency(root)
        print(
            f"backfill run: upstream finished -> downstream started: median "
            f"{statistics.median(gaps) * 1000:.1f} ms, max {max(gaps) * 1000:.1f} ms "
            f"({len(gaps)} partitions)"
        )


if __name__ == "__main__":
    main()

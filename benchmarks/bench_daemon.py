#!/usr/bin/env python3
"""Benchmark the daemon's push: a source update -> the last asset of an eager chain built.

    python benchmarks/bench_daemon.py [--assets 2000] [--chain 10] [--rounds 20] [--poll 0.25]

A ``catchment daemon`` (the ``Daemon`` class, on the real clock, in a thread) watches a
SQLite record store over a graph of ``--assets`` assets, all with ``eager()``: a source
``src``, a chain ``c1 -> ... -> cN`` below it, and filler assets already materialized (so
every automation tick evaluates them all). Each round, another connection records a
materialization of ``src`` as a CLI run would. Every run the daemon then launches (the launch
seam is called; no process is started) is played at once: claimed, its assets materialized
in one transaction, finished. The round ends when ``cN`` is materialized. Reported per round:
the whole chain's time and how many runs it took; per launched run: materialization recorded
-> run launched (the run's ``created_at`` is the start of the tick that asked for it); and the
automation evaluation's duration per tick that asked. The script only uses what every version
of the daemon has, so it measures the code before and after a change alike.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import threading
import time
from pathlib import Path

from catchment.automation.conditions import eager
from catchment.components import ProjectDefaults
from catchment.daemon.clock import SystemClock
from catchment.daemon.daemon import Daemon, DaemonSettings
from catchment.daemon.evaluators import evaluate_conditions
from catchment.daemon.workspace import Workspace
from catchment.definitions import AssetsDefinition, asset
from catchment.events import Event, EventType
from catchment.graph import AssetGraph
from catchment.storage import RunRecord
from catchment.storage.base import HOSTNAME
from catchment.storage.sqlite import SqliteStorage


def definitions(n_assets: int, chain: int) -> list[AssetsDefinition]:
    """``src``, the eager chain below it, and eager filler assets (layers of 50)."""

    def make(name: str, deps: list[str]) -> AssetsDefinition:
        def fn() -> int:
            return 1

        fn.__name__ = name
        return asset(fn, key=name, deps=deps, automation=eager())  # type: ignore[no-any-return]

    defs = [make("src", [])]
    defs += [make(f"c{i}", ["src" if i == 1 else f"c{i - 1}"]) for i in range(1, chain + 1)]
    filler = n_assets - 1 - chain
    for i in range(filler):
        deps = [f"f{i - 50}"] if i >= 50 else []
        defs.append(make(f"f{i}", deps))
    return defs


class TimedLauncher:
    """The launch seam, recording when each run was launched (no process is started: the
    benchmark measures the daemon, not Python start-up)."""

    def __init__(self) -> None:
        self.launched: dict[str, float] = {}

    def launch(self, run: RunRecord) -> None:
        self.launched[run.run_id] = time.time()


def record(store: SqliteStorage, keys: list[str], run_id: str) -> None:
    """A finished run that materialized ``keys`` (what a CLI run leaves in the store)."""
    store.create_run(
        RunRecord(run_id=run_id, pid=os.getpid(), host=HOSTNAME, asset_keys=tuple(keys))
    )
    store.update_run_status(run_id, "success")
    store.append_events(
        [Event(run_id=run_id, type=EventType.MATERIALIZATION, asset_key=k) for k in keys]
    )


def settled(store: SqliteStorage, timeout: float = 60.0) -> None:
    """Wait until the daemon has evaluated every event recorded so far: the next round's
    update is then news of its own, not one the chain's last evaluation also saw."""
    newest = store.latest_event_seq()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = store.get_cursors(["automation"]).get("automation")
        if state is not None and json.loads(state).get("cursor", 0) >= newest:
            return
        time.sleep(0.005)
    raise RuntimeError("the daemon did not evaluate the chain's materializations")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=2000)
    parser.add_argument("--chain", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--poll", type=float, default=0.25)
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="bench-daemon-"))
    defs = definitions(args.assets, args.chain)
    graph = AssetGraph.build(defs)
    defaults = ProjectDefaults.for_root(root)
    workspace = Workspace(root=root, file=root / "catchment.yaml", defaults=defaults, graph=graph)
    writer = SqliteStorage(root / ".catchment" / "runs.db")
    record(writer, [d.name for d in defs], "seed")  # everything exists: nothing is missing
    launcher = TimedLauncher()
    daemon = Daemon(
        root,
        clock=SystemClock(),
        launcher=launcher,
        settings=DaemonSettings(poll_interval=args.poll, automation_interval=3600.0),
        load=lambda _: workspace,
        evaluator=evaluate_conditions,
    )
    thread = threading.Thread(target=daemon.run, daemon=True)
    thread.start()
    settled(writer)  # the first evaluation has seen the seed

    submitted, launched, tick_durations, chains, runs_per_chain = [], [], [], [], []
    last = f"c{args.chain}"
    seen = {r.run_id for r in writer.list_runs(limit=10_000)}
    for n in range(args.rounds):
        time.sleep((n % 5) * 0.05)  # land at different points of the poll interval
        t0 = round_start = time.time()
        record(writer, ["src"], f"cli-{n}")
        runs, built = 0, False
        while not built:
            new = [i for i in list(launcher.launched) if i not in seen]
            if not new:
                time.sleep(0.002)
                continue
            found = [writer.get_run(i) for i in new]
            for run in sorted((r for r in found if r is not None), key=lambda r: r.created_at):
                seen.add(run.run_id)
                runs += 1
                submitted.append(run.created_at - t0)
                launched.append(launcher.launched[run.run_id] - t0)
                # the launched run "runs" at once: claimed, finished, its assets recorded (in
                # that order, so no evaluation sees them while the run still counts as running)
                writer.claim_run(run.run_id, os.getpid(), HOSTNAME, time.time())
                writer.update_run_status(run.run_id, "success")
                writer.append_events(
                    [
                        Event(run_id=run.run_id, type=EventType.MATERIALIZATION, asset_key=k)
                        for k in run.asset_keys
                    ]
                )
                built = built or last in run.asset_keys
                t0 = time.time()  # the next link starts from this materialization
            ticks = [t for t in writer.list_ticks(kind="automation", limit=5) if t.run_ids]
            tick_durations.append(float(ticks[0].body.get("duration", 0.0)))
        chains.append(time.time() - round_start)
        runs_per_chain.append(runs)
        settled(writer)
    daemon.stop()
    thread.join(timeout=10)

    def stats(values: list[float]) -> str:
        ordered = sorted(values)
        p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
        return (
            f"median {statistics.median(values) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, "
            f"max {max(values) * 1000:.0f} ms"
        )

    print(
        f"graph: {args.assets} eager assets, chain of {args.chain}; poll {args.poll}s; "
        f"{args.rounds} rounds"
    )
    print(f"src recorded -> c{args.chain} built (runs finish at once): {stats(chains)}")
    print(f"runs per chain: {statistics.median(runs_per_chain):g} (max {max(runs_per_chain)})")
    print(f"materialization -> tick that asked began: {stats(submitted)}")
    print(f"materialization -> run launched:          {stats(launched)}")
    print(f"automation evaluation per tick that asked: {stats(tick_durations)}")


if __name__ == "__main__":
    main()

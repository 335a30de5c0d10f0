#!/usr/bin/env python3
"""Benchmark orchestration overhead: 500 trivial assets in a layered graph, SQLite records.

    python benchmarks/bench_execution.py [--assets 500] [--layers 10] [--runs 5] [--profile]

Each asset is a plain ``@asset`` returning an int and reading two assets of the previous
layer, so the compute itself costs microseconds and the wall time is the engine's: planning,
step contexts, IO-manager calls, event building and the SQLite writes (a file store in a
temp folder, WAL, one transaction per step). Reported: median wall time per run and per
asset, for in-process with the memory IO manager, in-process with the filesystem IO manager,
and ``workers=2`` (worker processes, filesystem IO manager). Graph build and planning are
timed separately.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from catchment import materialize
from catchment.definitions import AssetsDefinition, asset
from catchment.execution import MultiprocessExecutor, build_plan
from catchment.graph import AssetGraph
from catchment.io_managers import FilesystemIOManager, MemoryIOManager
from catchment.storage.sqlite import SqliteStorage


def layered(n_assets: int, layers: int) -> list[AssetsDefinition]:
    """``n_assets`` trivial assets in ``layers`` layers; each reads two of the previous layer."""
    per = n_assets // layers
    defs: list[AssetsDefinition] = []
    for layer in range(layers):
        for i in range(per):
            name = f"l{layer}_a{i}"
            if layer == 0:

                def fn() -> int:
                    return 1

                ins: dict[str, str] = {}
            else:

                def fn(x: int, y: int) -> int:  # type: ignore[misc]
                    return x + y

                ins = {"x": f"l{layer - 1}_a{i}", "y": f"l{layer - 1}_a{(i + 1) % per}"}
            fn.__name__ = name
            defs.append(asset(fn, key=name, ins=ins, code_version="1"))
    return defs


def timed(fn: Callable[[], Any], runs: int) -> float:
    return timed_both(fn, runs)[0]


def timed_both(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    """Median wall time and median CPU time of this process (the latter is less disturbed
    by other load on the machine; worker processes' CPU is not in it)."""
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assets", type=int, default=500)
    parser.add_argument("--layers", type=int, default=10)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--profile", action="store_true", help="cProfile one in-process run")
    args = parser.parse_args()
    defs = layered(args.assets, args.layers)
    n = len(defs)
    tmp = Path(tempfile.mkdtemp(prefix="catchment-bench-"))
    counter = iter(range(10_000))

    def store() -> SqliteStorage:
        return SqliteStorage(tmp / f"runs-{next(counter)}.db")

    def in_process_memory() -> None:
        s = store()
        result = materialize(defs, storage=s, io_managers={"default": MemoryIOManager()})
        assert result.success
        assert len(result.materializations) == n
        s.close()

    def in_process_memory_store() -> None:
        s = SqliteStorage(":memory:")
        result = materialize(defs, storage=s, io_managers={"default": MemoryIOManager()})
        assert result.success
        assert len(result.materializations) == n

    def in_process_fs() -> None:
        s = store()
        io = {"default": FilesystemIOManager(tmp / f"fs-{next(counter)}")}
        result = materialize(defs, storage=s, io_managers=io)
        assert result.success
        assert len(result.materializations) == n
        s.close()

    def workers_2() -> None:
        s = store()
        io = {"default": FilesystemIOManager(tmp / f"fs-{next(counter)}")}
        result = materialize(defs, storage=s, io_managers=io, executor=MultiprocessExecutor(2))
        assert result.success
        assert len(result.materializations) == n
        s.close()

    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        in_process_memory()
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
        return

    graph_build = timed(lambda: AssetGraph.build(defs), args.runs)
    graph = AssetGraph.build(defs)
    planning = timed(lambda: build_plan(graph), args.runs)
    print(f"{n} assets in {args.layers} layers, median of {args.runs} runs")
    print(f"  graph build      {graph_build * 1000:8.1f} ms")
    print(f"  plan             {planning * 1000:8.1f} ms")
    for label, fn in (
        ("in-process, memory IO, in-memory SQLite", in_process_memory_store),
        ("in-process, memory IO, SQLite records", in_process_memory),
        ("in-process, filesystem IO, SQLite records", in_process_fs),
        ("workers=2, filesystem IO, SQLite records", workers_2),
    ):
        fn()  # warm up (imports, first fork)
        wall, cpu = timed_both(fn, args.runs)
        print(
            f"  {label:42} wall {wall * 1000:7.1f} ms = {wall / n * 1000:6.3f} ms/asset"
            f"   cpu {cpu / n * 1000:6.3f} ms/asset"
        )


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark the dask executor: per-step overhead against the multiprocess executor, and how
fast a local cluster is ready.

    python benchmarks/bench_dask.py [--assets 200] [--workers 2] [--runs 3] [--cluster 4]

A generated project of ``--assets`` trivial Python assets in 10 layers (each reads two of the
previous layer; filesystem IO manager, SQLite records in the project folder) is run with
``MultiprocessExecutor(workers)`` and with the dask executor on an already started
``LocalCluster(workers)`` (one warm-up run first, so workers have loaded the project, as on a
long-lived cluster). Reported: median wall time per run, per step, and the added ms per step.
Then the executor's ``LocalCluster(--cluster)`` is started ``--runs`` times per start method
(fork, the executor's default on Linux, and Dask's default spawn): seconds until every worker
is connected (what the executor waits for when no address is given).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

ASSET = """
@asset(key="{name}", ins={ins}, code_version="1")
def {name}({args}):
    return {body}
"""


def write_project(root: Path, n_assets: int, layers: int = 10) -> None:
    """A project of ``n_assets`` trivial assets in ``layers`` layers."""
    per = n_assets // layers
    parts = ["from catchment import asset\n"]
    for layer in range(layers):
        for i in range(per):
            name = f"l{layer}_a{i}"
            if layer == 0:
                parts.append(ASSET.format(name=name, ins="{}", args="", body="1"))
            else:
                ins = {"x": f"l{layer - 1}_a{i}", "y": f"l{layer - 1}_a{(i + 1) % per}"}
                parts.append(ASSET.format(name=name, ins=ins, args="x, y", body="x + y"))
    (root / "assets.py").write_text("".join(parts))
    (root / "catchment.yaml").write_text(
        "project: {name: bench}\n"
        "components:\n  - {type: python, name: code, attributes: {module: assets.py}}\n"
        "io_managers:\n  default: {type: filesystem, config: {base_dir: .catchment/values}}\n"
    )


def run_once(root: Path, executor: object) -> float:
    from catchment.execution.project import run_project
    from catchment.project import load_project

    project = load_project(root)
    start = time.perf_counter()
    result = run_project(project, executor=executor)  # type: ignore[arg-type]
    elapsed = time.perf_counter() - start
    assert result.success, result.status
    return elapsed


def bench_steps(n_assets: int, workers: int, runs: int) -> None:
    from catchment.execution import MultiprocessExecutor
    from catchment.execution.dask_executor import DaskExecutor, local_cluster
    from catchment.project import load_project

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        write_project(root, n_assets)
        steps = len(load_project(root).require_graph().specs)
        mp = [run_once(root, MultiprocessExecutor(workers)) for _ in range(runs)]
        with local_cluster(workers) as cluster:

            def dask_executor() -> DaskExecutor:
                return DaskExecutor.for_project(
                    load_project(root), address=cluster.scheduler_address
                )

            warm = run_once(root, dask_executor())
            dk = [run_once(root, dask_executor()) for _ in range(runs)]
        m, d = statistics.median(mp), statistics.median(dk)
        print(f"{steps} steps, {workers} workers, median of {runs} runs")
        print(f"  multiprocess : {m:7.2f} s  ({m / steps * 1000:6.1f} ms/step)")
        print(f"  dask (warm)  : {d:7.2f} s  ({d / steps * 1000:6.1f} ms/step)")
        print(f"  dask 1st run : {warm:7.2f} s  (workers load the project)")
        print(f"  added by dask: {(d - m) / steps * 1000:6.1f} ms/step (target <= 50)")


def bench_ready(n_workers: int, runs: int, method: str) -> None:
    from catchment.execution.dask_executor import local_cluster
    from distributed import Client

    times = []
    for _ in range(runs):
        start = time.perf_counter()
        cluster = local_cluster(n_workers, method)
        with Client(cluster, set_as_default=False) as client:
            client.wait_for_workers(n_workers)
            times.append(time.perf_counter() - start)
        cluster.close()
    print(
        f"LocalCluster({n_workers} workers, {method}) ready: "
        f"median {statistics.median(times):.2f} s, min {min(times):.2f} s "
        f"over {runs} starts (target <= 2 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assets", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--cluster", type=int, default=4)
    parser.add_argument("--start-methods", default="fork,spawn")
    args = parser.parse_args()
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, cpus: {os.cpu_count()}")
    for method in args.start_methods.split(","):
        bench_ready(args.cluster, args.runs, method)
    bench_steps(args.assets, args.workers, args.runs)
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark the asset graph: build + validate + toposort 10,000 specs / 20,000 edges, then
evaluate ``+key``, ``group:x+`` and a compound selection.

    python benchmarks/bench_graph.py [--specs 10000] [--edges 20000] [--runs 7]

Specs come in layers (each spec depends on specs of earlier layers, mostly the previous one),
with 20 groups, a few tags and kinds, and one multi-asset definition per 100 specs. Every
selection is timed cold (the first evaluation on a fresh graph, which builds the attribute
index it needs) and warm (later evaluations). Medians of ``--runs`` runs are printed, as wall
time and as process CPU time (steadier when other work shares the machine). ``AssetGraph.build``
validates and computes the topological order, so ``toposort()`` afterwards only copies it.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import time
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from catchment.definitions import AssetsDefinition
from catchment.graph import AssetGraph
from catchment.keys import AssetKey
from catchment.selection import parse
from catchment.specs import AssetDep, AssetSpec


def _noop(context: Any) -> Iterator[Any]:
    yield from ()


def generate(
    n_specs: int, n_edges: int, *, layers: int = 20, seed: int = 7
) -> list[AssetsDefinition]:
    """``n_specs`` specs in ``layers`` layers, ``n_edges`` deps in all, grouped in definitions."""
    rng = random.Random(seed)
    per_layer = n_specs // layers
    keys = [
        AssetKey._trusted((f"layer_{i // per_layer:02d}", f"asset_{i}")) for i in range(n_specs)
    ]
    deps: list[list[AssetKey]] = [[] for _ in range(n_specs)]
    edges = 0
    downstream_specs = range(per_layer, n_specs)
    while edges < n_edges:
        i = rng.choice(downstream_specs)
        layer = i // per_layer
        up_layer = layer - 1 if rng.random() < 0.8 else rng.randrange(layer)
        up = keys[up_layer * per_layer + rng.randrange(per_layer)]
        if up not in deps[i]:
            deps[i].append(up)
            edges += 1
    specs = [
        AssetSpec(
            key=k,
            deps=tuple(AssetDep(d) for d in deps[i]),
            group=f"group_{i % 20}",
            tags={"tier": str(i % 3), "pii": "true"} if i % 10 == 0 else {"tier": str(i % 3)},
            kinds=("dbt", "duckdb") if i % 2 else ("python",),
            owners=(f"team{i % 5}@example.com",),
        )
        for i, k in enumerate(keys)
    ]
    return [
        AssetsDefinition(name=f"def_{j}", specs=tuple(specs[j : j + 100]), compute=_noop)
        for j in range(0, n_specs, 100)
    ]


def _time(fn: Callable[[], Any]) -> tuple[tuple[float, float], Any]:
    """((wall ms, process CPU ms), result): CPU time is steadier on a busy machine."""
    w0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    return ((time.perf_counter() - w0) * 1000, (time.process_time() - c0) * 1000), out


SELECTIONS = {
    "+key": "+layer_19/asset_{last}",
    "group:x+": "group:group_3+",
    "compound": "(group:group_1 or tag:tier=1) and not kind:python",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--specs", type=int, default=10_000)
    ap.add_argument("--edges", type=int, default=20_000)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    defs = generate(args.specs, args.edges)
    n_edges = sum(len(s.deps) for d in defs for s in d.specs)
    exprs = {name: e.format(last=args.specs - 1) for name, e in SELECTIONS.items()}
    results: dict[str, list[tuple[float, float]]] = {"build+validate+toposort": []}
    sizes: dict[str, int] = {}
    for _ in range(args.runs):
        gc.collect()
        ms, graph = _time(partial(AssetGraph.build, defs))
        results["build+validate+toposort"].append(ms)
        ms, order = _time(graph.toposort)
        results.setdefault("toposort() call", []).append(ms)
        assert len(order) == args.specs
        for name, expr in exprs.items():
            parse.cache_clear()
            ms, selected = _time(partial(graph.select, expr))
            results.setdefault(f"{name} (cold)", []).append(ms)
            ms, selected = _time(partial(graph.select, expr))
            results.setdefault(f"{name} (warm)", []).append(ms)
            sizes[name] = len(selected)
    print(
        f"{args.specs} specs, {n_edges} edges, {len(defs)} definitions; "
        f"median of {args.runs} runs; load average {os.getloadavg()[0]:.1f} on "
        f"{os.cpu_count()} cores"
    )
    print(f"  {'':<26} {'wall ms':>9} {'cpu ms':>9}")
    for name, values in results.items():
        wall = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        print(f"  {name:<26} {wall:9.2f} {cpu:9.2f}")
    for name, expr in exprs.items():
        print(f"  {name:<10} {expr!r} selects {sizes[name]} assets")


if __name__ == "__main__":
    main()

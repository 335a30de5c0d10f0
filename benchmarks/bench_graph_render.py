#!/usr/bin/env python3
"""Benchmark `catchment graph`'s renderers on a 10,000-asset / 20,000-edge graph: the lineage
extraction (``lineage()``), then Mermaid, Graphviz dot and JSON text.

    python benchmarks/bench_graph_render.py [--specs 10000] [--edges 20000] [--runs 7]

The graph comes from bench_graph.py's generator (layers, groups, multi-asset definitions);
the definitions are spread over 6 adapters so the renderers draw 6 tool boxes. Medians of
``--runs`` runs, wall and process CPU time. Project loading is not included (see
bench_graph.py and the adapters' discovery benchmarks).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_graph import generate
from catchment.cli.graph_cmd import lineage, to_dot, to_json, to_mermaid
from catchment.graph import AssetGraph

TOOLS = ("dbt", "sling", "dlt", "spark", "modal", "python")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=10_000)
    parser.add_argument("--edges", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    definitions = [
        d.replace(adapter=TOOLS[i % len(TOOLS)])
        for i, d in enumerate(generate(args.specs, args.edges))
    ]
    graph = AssetGraph.build(definitions)
    lin = lineage(graph)
    steps = {
        "lineage()": lambda: lineage(graph),
        "to_mermaid": lambda: to_mermaid(lin),
        "to_dot": lambda: to_dot(lin),
        "to_json + dumps": lambda: json.dumps(to_json(lin)),
    }
    print(f"{len(lin.nodes)} nodes, {len(lin.edges)} edges, {len(lin.tools())} tools")
    for name, fn in steps.items():
        wall, cpu = [], []
        for _ in range(args.runs):
            w0, c0 = time.perf_counter(), time.process_time()
            out = fn()
            wall.append(time.perf_counter() - w0)
            cpu.append(time.process_time() - c0)
        size = f", {len(out) / 1e6:.1f} MB" if isinstance(out, str) else ""
        print(
            f"{name:16} wall {statistics.median(wall) * 1000:7.1f} ms   "
            f"cpu {statistics.median(cpu) * 1000:7.1f} ms{size}"
        )


if __name__ == "__main__":
    main()

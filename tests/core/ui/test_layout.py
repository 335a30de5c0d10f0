"""The layered layout: layers follow dependencies, nothing overlaps, it is cached per
selection, and a 5,000-asset graph lays out fast enough to serve."""

from __future__ import annotations

import time

from catchment import AssetGraph, asset
from catchment.keys import AssetKey
from catchment.ui.layout import NODE_H, layered_layout


def _chain_graph(width: int, depth: int) -> AssetGraph:
    from catchment.definitions import AssetsDefinition
    from catchment.specs import AssetDep, AssetSpec

    specs = []
    for d in range(depth):
        for w in range(width):
            deps = (AssetDep(AssetKey(f"l{d - 1}/a{(w * 7) % width}")),) if d else ()
            specs.append(AssetSpec(key=AssetKey(f"l{d}/a{w}"), deps=deps))
    return AssetGraph.build(
        [AssetsDefinition(name="all", specs=tuple(specs), compute=lambda c: None)]
    )


def test_every_edge_goes_right_and_no_two_nodes_overlap() -> None:
    graph = _chain_graph(10, 4)
    layout = layered_layout(graph, graph.specs.keys())
    assert len(layout.keys) == 40
    assert len(layout.edges) == 30
    for a, b in layout.edges:
        assert layout.xs[a] < layout.xs[b]
    spots = set(zip(layout.xs, layout.ys, strict=True))
    assert len(spots) == 40
    assert max(layout.ys) + NODE_H <= layout.height


def test_a_subset_lays_out_only_its_own_edges() -> None:
    a = asset(lambda: 1, key="a")
    b = asset(lambda a: 1, key="b")
    c = asset(lambda b: 1, key="c")
    graph = AssetGraph.build([a, b, c])
    layout = layered_layout(graph, [AssetKey("b"), AssetKey("c")])
    assert layout.keys == ("b", "c")
    assert layout.edges == ((0, 1),)


def test_five_thousand_assets_lay_out_without_a_quadratic_blow_up() -> None:
    """The time is measured by benchmarks/bench_ui.py; this bound only catches a blow-up."""
    graph = _chain_graph(500, 10)
    t0 = time.perf_counter()
    layout = layered_layout(graph, graph.specs.keys())
    assert time.perf_counter() - t0 < 10.0
    assert len(layout.keys) == 5000

"""Layered graph layout on the server: node positions for a set of assets, computed once per
graph version and selection and cached, then drawn as SVG.

Layers are longest paths from the roots (left to right); the order within a layer comes from
two barycenter sweeps. Everything is O(nodes + edges) per sweep, in plain Python, so a
10,000-asset graph lays out in well under a second (``benchmarks/bench_ui.py``) where a
browser-side dagre hangs.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey

NODE_W = 180
NODE_H = 34
GAP_X = 80
GAP_Y = 14
MARGIN = 20
SWEEPS = 2


class Layout(msgspec.Struct, frozen=True, kw_only=True):
    """Where each node goes: ``keys[i]`` at ``(xs[i], ys[i])``, edges as index pairs."""

    keys: tuple[str, ...]
    xs: tuple[int, ...]
    ys: tuple[int, ...]
    edges: tuple[tuple[int, int], ...]
    width: int
    height: int


def layered_layout(graph: AssetGraph, keys: Iterable[AssetKey]) -> Layout:
    """Lay out ``keys`` (a subset of ``graph``) and the edges among them."""
    order = graph.toposort(keys)
    index = {k: i for i, k in enumerate(order)}
    ups: list[list[int]] = [[] for _ in order]
    edges: list[tuple[int, int]] = []
    for i, key in enumerate(order):
        for up in graph.upstream(key):
            j = index.get(up)
            if j is not None:
                ups[i].append(j)
                edges.append((j, i))
    layer = [0] * len(order)
    for i in range(len(order)):  # topological order: every upstream has its layer already
        if ups[i]:
            layer[i] = 1 + max(layer[j] for j in ups[i])
    rows = _order_layers(layer, ups, len(order))
    pos_y = [0] * len(order)
    for members in rows:
        for r, i in enumerate(members):
            pos_y[i] = r
    xs = tuple(MARGIN + layer[i] * (NODE_W + GAP_X) for i in range(len(order)))
    ys = tuple(MARGIN + pos_y[i] * (NODE_H + GAP_Y) for i in range(len(order)))
    tallest = max((len(m) for m in rows), default=0)
    return Layout(
        keys=tuple(k.to_string() for k in order),
        xs=xs,
        ys=ys,
        edges=tuple(edges),
        width=2 * MARGIN + len(rows) * (NODE_W + GAP_X),
        height=2 * MARGIN + tallest * (NODE_H + GAP_Y),
    )


def _order_layers(layer: Sequence[int], ups: Sequence[Sequence[int]], n: int) -> list[list[int]]:
    """Members of each layer, ordered to shorten edges: a downward sweep by the mean row of
    the upstreams, then an upward one by the mean row of the downstreams."""
    depth = max(layer, default=-1) + 1
    rows: list[list[int]] = [[] for _ in range(depth)]
    for i in range(n):  # toposort order is by key within ties: a stable first order
        rows[layer[i]].append(i)
    downs: list[list[int]] = [[] for _ in range(n)]
    for i, us in enumerate(ups):
        for j in us:
            downs[j].append(i)
    rank = [0.0] * n
    for members in rows:
        for r, i in enumerate(members):
            rank[i] = float(r)
    for sweep in range(SWEEPS):
        down = sweep % 2 == 0
        layers = rows[1:] if down else rows[-2::-1]
        for members in layers:
            for i in members:
                nbrs = ups[i] if down else downs[i]
                if nbrs:
                    rank[i] = sum(rank[j] for j in nbrs) / len(nbrs)
            members.sort(key=rank.__getitem__)
            for r, i in enumerate(members):
                rank[i] = float(r)
    return rows

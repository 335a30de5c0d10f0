"""Draw a ``Layout`` as SVG: one rounded box per asset, filled by tool and outlined by state,
each a link to the asset's page; edges as curves. Built as one string join (tens of
milliseconds for 10,000 assets), every text escaped."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from html import escape
from urllib.parse import quote

from catchment.ui.layout import NODE_H, NODE_W, Layout

PALETTE = ("#dbeafe", "#dcfce7", "#fef9c3", "#fce7f3", "#ede9fe", "#ffedd5", "#cffafe", "#f1f5f9")
FIXED = {
    "dbt": "#ffedd5",
    "dlt": "#dcfce7",
    "sling": "#dbeafe",
    "spark": "#fef9c3",
    "modal": "#ede9fe",
    "snowflake": "#cffafe",
    "python": "#fce7f3",
    "external": "#f1f5f9",
}
MAX_LABEL = 24
FAR_ABOVE = 400


def tool_colour(tool: str) -> str:
    """The fill of ``tool``'s boxes (fixed for known tools, else stable by name)."""
    return FIXED.get(tool) or PALETTE[zlib.crc32(tool.encode()) % len(PALETTE)]


def render(
    layout: Layout, tools: Mapping[str, str], states: Mapping[str, str], focus: str | None = None
) -> str:
    """The SVG of ``layout``; ``tools`` and ``states`` map key strings to tool and state.

    Kept small for big graphs: every edge in ONE path element, box size and colours in CSS
    (classes ``t-<n>`` per tool, ``s-<state>``), and labels hidden by CSS while the whole
    of a big graph is in view (``far``; the pan-zoom script drops it when zoomed in).
    """
    xs, ys = layout.xs, layout.ys
    far = " far" if len(layout.keys) > FAR_ABOVE else ""
    half = NODE_H // 2
    d = []
    for a, b in layout.edges:
        x1, y1 = xs[a] + NODE_W, ys[a] + half
        x2, y2 = xs[b], ys[b] + half
        mx = (x1 + x2) // 2
        d.append(f"M{x1} {y1}C{mx} {y1} {mx} {y2} {x2} {y2}")
    tool_class: dict[str, int] = {}
    nodes = []
    for i, key in enumerate(layout.keys):
        tool = tools.get(key, "python")
        t = tool_class.setdefault(tool, len(tool_class))
        state = states.get(key, "missing")
        label = key if len(key) <= MAX_LABEL else "…" + key[-(MAX_LABEL - 1) :]
        k = escape(key)
        nodes.append(
            f'<a href="/assets/{quote(key)}" class="node s-{state} t{t}'
            f'{" focus" if key == focus else ""}" data-key="{k}" '
            f'transform="translate({xs[i]},{ys[i]})"><title>{k} ({escape(tool)}, {state})</title>'
            f'<rect/><text x="8" y="{half + 4}">{escape(label)}</text></a>'
        )
    style = "".join(
        f".graph .t{t} rect{{fill:{tool_colour(tool)}}}" for tool, t in tool_class.items()
    )
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="graph-svg" class="graph{far}" '
        f'viewBox="0 0 {layout.width} {layout.height}" data-width="{layout.width}" '
        f'data-height="{layout.height}" data-nodes="{len(layout.keys)}">'
        f"<style>{style}</style>"
        f'<path class="edges" d="{"".join(d)}"/><g class="nodes">{"".join(nodes)}</g></svg>'
    )

"""`catchment graph`: the lineage as Mermaid, Graphviz dot or JSON, each asset with its tool.

Every asset is drawn in the box of the tool that computes it (its definition's adapter: dbt,
sling, spark, python...); external sources (relations no asset writes) get their own dashed
box. Edges are the graph's dependencies, across tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from catchment.cli.common import NO_CACHE_OPTION_HELP, PROJECT_OPTION_HELP, load_for_listing

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey

HELP = """Draw the asset lineage: every asset with the tool that computes it, external
sources (tables no asset writes) apart, and the edges between them across tools.

Formats: mermaid (a flowchart, one box per tool: paste it into Markdown), dot (Graphviz:
`catchment graph --format dot | dot -Tsvg > lineage.svg`), json (nodes and edges).

Without -s, every asset is drawn, external sources included; with -s, the selected assets
and the edges between them.

Examples:

  catchment graph

  catchment graph -s '+customer_orders+' --format dot

  catchment graph --format json --project examples/platform

In a folder holding catchment.workspace.yaml (or with -p naming one) it draws the
workspace's merged graph (every project read from its snapshot).
"""

EXTERNAL = "external"
"""The tool name of external source assets."""

_COLORS = {
    "dbt": ("#fde5dc", "#ff694b"),
    "sling": ("#e3ecfd", "#3b6fd8"),
    "dlt": ("#e6f5ee", "#2e9e6b"),
    "spark": ("#fdebd9", "#e25a1c"),
    "modal": ("#e7f8e2", "#4aa02c"),
    "snowflake": ("#dff4fb", "#29b5e8"),
    "python": ("#e4ecf5", "#3776ab"),
    EXTERNAL: ("#f4f4f4", "#888888"),
}
_PALETTE = (("#f1e6fa", "#8e44ad"), ("#fff6d6", "#c9a400"), ("#e0f2f1", "#00897b"))


class Format(StrEnum):
    """Output formats of `catchment graph`."""

    mermaid = "mermaid"
    dot = "dot"
    json = "json"


@dataclass(frozen=True)
class Node:
    """One asset as drawn: key, tool (adapter or ``external``) and what else a reader wants."""

    id: str
    key: str
    tool: str
    kinds: tuple[str, ...]
    group: str | None
    component: str | None
    table: str | None
    system: str | None
    checks: int
    external: bool


@dataclass(frozen=True)
class Lineage:
    """The nodes (dependency order) and edges (upstream key, downstream key) to draw."""

    nodes: tuple[Node, ...]
    edges: tuple[tuple[str, str], ...]

    def tools(self) -> list[str]:
        """Tools in order of first appearance, external sources first."""
        seen = dict.fromkeys(n.tool for n in self.nodes if n.external)
        seen.update(dict.fromkeys(n.tool for n in self.nodes))
        return list(seen)


def lineage(graph: AssetGraph, select: str | None = None) -> Lineage:
    """The part of ``graph`` to draw: everything (external sources included) when ``select``
    is empty, else the selected assets and the edges between them."""
    keys: list[AssetKey] = list(graph) if not select else graph.toposort(graph.select(select))
    shown = set(keys)
    ids = {k: f"a{i}" for i, k in enumerate(keys)}
    nodes = []
    for key in keys:
        spec = graph.specs[key]
        definition = graph.definition_of(key)
        external = graph.is_external(key)
        nodes.append(
            Node(
                id=ids[key],
                key=key.to_string(),
                tool=EXTERNAL if external or definition is None else definition.adapter,
                kinds=tuple(spec.kinds),
                group=spec.group,
                component=definition.component if definition is not None else None,
                table=spec.table.qualified_name if spec.table is not None else None,
                system=spec.table.system if spec.table is not None else None,
                checks=len(graph.checks_for(key)),
                external=external,
            )
        )
    edges = tuple(
        (up.to_string(), key.to_string())
        for key in keys
        for up in sorted(graph.upstream(key))
        if up in shown
    )
    return Lineage(nodes=tuple(nodes), edges=edges)


def _colors(tools: list[str]) -> dict[str, tuple[str, str]]:
    unknown = [t for t in tools if t not in _COLORS]
    extra = {t: _PALETTE[i % len(_PALETTE)] for i, t in enumerate(unknown)}
    return {t: _COLORS.get(t) or extra[t] for t in tools}


def _detail(node: Node) -> str:
    """The second label line: the kinds other than the tool itself (e.g. ``duckdb``), else
    the system of the table it writes."""
    return ", ".join(k for k in node.kinds if k != node.tool) or node.system or ""


# -- mermaid ---------------------------------------------------------------------------------
def _mermaid_text(text: str) -> str:
    """Text safe inside a quoted Mermaid label (entity codes for the characters it parses)."""
    out = text.replace("&", "#amp;").replace('"', "#quot;")
    return out.replace("<", "#lt;").replace(">", "#gt;")


def to_mermaid(lin: Lineage) -> str:
    """A Mermaid flowchart (left to right): one subgraph and one class (colour) per tool,
    external sources dashed, edges out of external sources dotted."""
    by_key = {n.key: n for n in lin.nodes}
    tools = lin.tools()
    colors = _colors(tools)
    lines = ["flowchart LR"]
    for t, tool in enumerate(tools):
        title = "external sources" if tool == EXTERNAL else tool
        lines.append(f'  subgraph box{t}["{_mermaid_text(title)}"]')
        for n in lin.nodes:
            if n.tool != tool:
                continue
            detail = _detail(n)
            label = _mermaid_text(n.key) + (f"<br/>{_mermaid_text(detail)}" if detail else "")
            open_, close = ('[("', '")]') if n.external else ('["', '"]')
            lines.append(f"    {n.id}{open_}{label}{close}:::tool{t}")
        lines.append("  end")
    for up, down in lin.edges:
        arrow = "-.->" if by_key[up].external else "-->"
        lines.append(f"  {by_key[up].id} {arrow} {by_key[down].id}")
    for t, tool in enumerate(tools):
        fill, stroke = colors[tool]
        dash = ",stroke-dasharray:4 3" if tool == EXTERNAL else ""
        lines.append(f"  classDef tool{t} fill:{fill},stroke:{stroke},color:#1f2328{dash}")
    return "\n".join(lines) + "\n"


# -- dot -------------------------------------------------------------------------------------
def _dot_id(text: str) -> str:
    """A quoted Graphviz ID (backslashes and quotes escaped, newlines as \\n)."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def to_dot(lin: Lineage) -> str:
    """A Graphviz digraph (left to right): one cluster per tool, external sources dashed."""
    tools = lin.tools()
    colors = _colors(tools)
    lines = [
        "digraph lineage {",
        "  rankdir=LR;",
        '  node [shape=box, style="rounded,filled", fontname="Helvetica", fontsize=11];',
        '  edge [color="#555555"];',
    ]
    for t, tool in enumerate(tools):
        fill, stroke = colors[tool]
        title = "external sources" if tool == EXTERNAL else tool
        lines.append(f"  subgraph cluster_{t} {{")
        lines.append(f'    label={_dot_id(title)}; style="rounded,dashed"; color="{stroke}";')
        for n in lin.nodes:
            if n.tool != tool:
                continue
            detail = _detail(n)
            label = n.key + (f"\n{detail}" if detail else "")
            style = ', style="rounded,filled,dashed"' if n.external else ""
            lines.append(
                f'    {_dot_id(n.key)} [label={_dot_id(label)}, fillcolor="{fill}", '
                f'color="{stroke}"{style}];'
            )
        lines.append("  }")
    external = {n.key for n in lin.nodes if n.external}
    for up, down in lin.edges:
        style = " [style=dashed]" if up in external else ""
        lines.append(f"  {_dot_id(up)} -> {_dot_id(down)}{style};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- json ------------------------------------------------------------------------------------
def to_json(lin: Lineage) -> dict[str, Any]:
    """``{"nodes": [...], "edges": [{"from", "to"}]}``, nodes in dependency order."""
    return {
        "nodes": [
            {
                "key": n.key,
                "tool": n.tool,
                "kinds": list(n.kinds),
                "group": n.group,
                "component": n.component,
                "table": n.table,
                "system": n.system,
                "checks": n.checks,
                "external": n.external,
            }
            for n in lin.nodes
        ],
        "edges": [{"from": up, "to": down} for up, down in lin.edges],
    }


def graph(
    select: str | None = typer.Option(None, "-s", "--select", help="Selection expression."),
    fmt: Format = typer.Option(Format.mermaid, "--format", "-f", help="mermaid, dot or json."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
    no_cache: bool = typer.Option(False, "--no-cache", help=NO_CACHE_OPTION_HELP),
) -> None:
    from catchment.cli.output import print_json
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is not None:
        from catchment.workspace.cli import load_view

        graph = load_view(workspace, no_cache)[0].require_graph()
    else:
        graph = load_for_listing(project_path, no_cache)[1]
    lin = lineage(graph, select)
    if fmt is Format.json:
        print_json(to_json(lin))
    elif fmt is Format.dot:
        typer.echo(to_dot(lin), nl=False)
    else:
        typer.echo(to_mermaid(lin), nl=False)


def register(app: typer.Typer) -> None:
    """Add ``catchment graph``."""
    app.command("graph", help=HELP)(graph)


__all__ = ["Lineage", "Node", "lineage", "register", "to_dot", "to_json", "to_mermaid"]

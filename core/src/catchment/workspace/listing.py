"""What `assets list` prints per asset of a workspace, without typer or rich (the fast path
of `catchment assets list --json` uses it too)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catchment.workspace.graph import WorkspaceGraph

__all__ = ["rows"]


def rows(wsg: WorkspaceGraph, select: str | None) -> list[dict[str, Any]]:
    """`assets list --json` rows, each with its ``project`` and ``team``; an external
    source a failed project may write has ``unknown``: those projects."""
    from catchment.cli.listing import asset_rows
    from catchment.keys import AssetKey

    graph = wsg.require_graph()
    teams = {p.name: p.team for p in wsg.workspace.projects}
    out = []
    for row in asset_rows(None, graph, select):
        key = AssetKey.parse(row["key"])
        project = wsg.project_of.get(key)
        row["project"] = project
        row["team"] = teams.get(project) if project else None
        if row["external"]:
            row["unknown"] = list(wsg.unknown.get(key, ()))
        out.append(row)
    return out

"""What `assets list` prints per asset, without typer or rich, so that the fast path of
`catchment assets list --json` (``cli/fast.py``) and the typer command share it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey
    from catchment.project import Project
    from catchment.snapshot import ReadOnlyProject

__all__ = ["asset_dict", "asset_rows"]


def asset_dict(
    project: Project | ReadOnlyProject, graph: AssetGraph, key: AssetKey
) -> dict[str, Any]:
    """The JSON object `assets list --json` prints for one asset."""
    spec = graph.specs[key]
    definition = graph.definition_of(key)
    checks = [c.name for c in graph.checks_for(key)]
    return {
        "key": key.to_string(),
        "group": spec.group,
        "kinds": list(spec.kinds),
        "deps": sorted(k.to_string() for k in graph.upstream(key)),
        "table": spec.table.to_dict() if spec.table is not None else None,
        "checks": checks,
        "component": definition.component if definition is not None else None,
        "definition": definition.name if definition is not None else None,
        "adapter": definition.adapter if definition is not None else None,
        "owners": list(spec.owners),
        "description": spec.description,
        "external": graph.is_external(key),
    }


def asset_rows(
    project: Project | ReadOnlyProject, graph: AssetGraph, select: str | None
) -> list[dict[str, Any]]:
    """One ``asset_dict`` per selected asset (all when ``select`` is empty), in graph order."""
    selected = graph.select(select) if select else None
    return [asset_dict(project, graph, k) for k in graph if selected is None or k in selected]

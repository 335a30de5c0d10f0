"""What `assets list` prints per asset, without typer or rich, so that the fast path of
`catchment assets list --json` (``cli/fast.py``) and the typer command share it."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey
    from catchment.project import Project
    from catchment.snapshot import ReadOnlyProject

__all__ = ["asset_dict", "asset_rows"]


def _row(graph: AssetGraph, i: int, name: Callable[[int], str]) -> dict[str, Any]:
    """The JSON object of asset id ``i``; ``name`` gives an id's key string."""
    spec = graph.spec_of_id(i)
    definition = graph.definition_of_id(i)
    table = spec.table
    return {
        "key": name(i),
        "group": spec.group,
        "kinds": list(spec.kinds),
        "deps": sorted([name(j) for j in graph.upstream_of_id(i)]),
        "table": table.to_dict() if table is not None else None,
        "checks": [c.name for c in graph.checks_of_id(i)],
        "component": definition.component if definition is not None else None,
        "definition": definition.name if definition is not None else None,
        "adapter": definition.adapter if definition is not None else None,
        "owners": list(spec.owners),
        "description": spec.description,
        "external": i in graph.external_ids,
    }


def asset_dict(
    project: Project | ReadOnlyProject, graph: AssetGraph, key: AssetKey
) -> dict[str, Any]:
    """The JSON object `assets list --json` prints for one asset."""
    i = graph.find_id(key)
    if i is None:
        from catchment.graph import UnknownAssetError

        raise UnknownAssetError(f"no asset {key} in the graph")
    keys = graph.keys_by_id
    return _row(graph, i, lambda j: keys[j].to_string())


def asset_rows(
    project: Project | ReadOnlyProject, graph: AssetGraph, select: str | None
) -> list[dict[str, Any]]:
    """One ``asset_dict`` per selected asset (all when ``select`` is empty), in graph order;
    on ids, each key's string made once (10,000 dbt models: milliseconds, not a third of a
    second)."""
    keys = graph.keys_by_id
    names = [k.to_string() for k in keys]
    ids: Iterable[int] = graph.order_ids
    if select:
        chosen = graph.select(select)
        ids = [i for i in ids if keys[i] in chosen]
    name = names.__getitem__
    return [_row(graph, i, name) for i in ids]

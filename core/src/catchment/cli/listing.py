"""What `assets list` prints per asset, without typer or rich, so that the fast path of
`catchment assets list --json` (``cli/fast.py``) and the typer command share it.

Rows are msgspec structs (``AssetRow``), whose field order is the JSON object's key order:
msgspec encodes 10,000 of them in C, with no dict built per row; ``asset_rows`` gives the
same rows as plain dicts for the table views and for callers that add fields."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey
    from catchment.project import Project
    from catchment.snapshot import ReadOnlyProject
    from catchment.specs import CheckSpec

__all__ = ["AssetRow", "TableRow", "asset_dict", "asset_json_rows", "asset_rows", "asset_structs"]


class TableRow(msgspec.Struct, frozen=True, gc=False):
    """The JSON form of an asset's ``TableRef`` (``TableRef.to_dict``'s keys, in its order)."""

    system: str
    location: str
    database: str
    schema: str
    name: str
    namespace: str
    qualified_name: str


class AssetRow(msgspec.Struct, frozen=True, gc=False):
    """The JSON object `assets list --json` prints for one asset (fields in key order)."""

    key: str
    group: str | None
    kinds: tuple[str, ...]
    deps: list[str]
    table: TableRow | None
    checks: list[str]
    component: str | None
    definition: str | None
    adapter: str | None
    owners: tuple[str, ...]
    description: str | None
    external: bool


class _Names:
    """An id's key string, made when asked (one row does not need every key's)."""

    def __init__(self, keys: Sequence[AssetKey]) -> None:
        self._keys = keys

    def __getitem__(self, i: int) -> str:
        return self._keys[i].to_string()


def asset_structs(graph: AssetGraph, ids: Iterable[int] | None = None) -> list[AssetRow]:
    """The rows of asset ids ``ids`` (every asset in graph order when None); each key's
    string made once, each definition's three fields looked up once, the graph's parts
    indexed by id (no method call per asset)."""
    keys = graph.keys_by_id
    order = graph.order_ids if ids is None else list(ids)
    names: Sequence[str] | _Names = (
        [k.to_string() for k in keys] if len(order) > 16 else _Names(keys)
    )
    name_of = names.__getitem__
    specs = graph.specs_by_id
    external = graph.external_ids
    owners = graph.definitions_by_id
    upstream = graph.upstream_by_id
    checks = graph.checks_by_id
    no_checks: tuple[CheckSpec, ...] = ()
    defs: dict[int, tuple[str | None, str | None, str | None]] = {}
    none3: tuple[None, None, None] = (None, None, None)
    rows: list[AssetRow] = []
    append = rows.append
    for i in order:
        spec = specs[i]
        definition = owners[i]
        if definition is None:
            component, dname, adapter = none3
        else:
            got = defs.get(id(definition))
            if got is None:
                got = defs[id(definition)] = (
                    definition.component,
                    definition.name,
                    definition.adapter,
                )
            component, dname, adapter = got
        t = spec.table
        up = upstream[i]
        append(
            AssetRow(
                names[i],
                spec.group,
                spec.kinds,
                sorted(map(name_of, up)) if up else [],
                None
                if t is None
                else TableRow(
                    t.system,
                    t.location,
                    t.database,
                    t.schema,
                    t.name,
                    t.namespace,
                    t.qualified_name,
                ),
                [c.name for c in checks.get(i, no_checks)],
                component,
                dname,
                adapter,
                spec.owners,
                spec.description,
                i in external,
            )
        )
    return rows


def _ids(graph: AssetGraph, select: str | None) -> list[int] | None:
    """The selected ids in graph order; None (every asset) when ``select`` is empty."""
    if not select:
        return None
    chosen = graph.select(select)
    keys = graph.keys_by_id
    return [i for i in graph.order_ids if keys[i] in chosen]


def _as_json_values(value: Any) -> Any:
    """``value`` as the JSON printed for it reads back (lists, not tuples), all in C."""
    return msgspec.json.decode(msgspec.json.encode(value))


def asset_dict(
    project: Project | ReadOnlyProject, graph: AssetGraph, key: AssetKey
) -> dict[str, Any]:
    """The JSON object `assets list --json` prints for one asset."""
    i = graph.find_id(key)
    if i is None:
        from catchment.graph import UnknownAssetError

        raise UnknownAssetError(f"no asset {key} in the graph")
    row: dict[str, Any] = _as_json_values(asset_structs(graph, [i])[0])
    return row


def asset_rows(
    project: Project | ReadOnlyProject | None, graph: AssetGraph, select: str | None
) -> list[dict[str, Any]]:
    """One ``asset_dict`` per selected asset (all when ``select`` is empty), in graph order."""
    rows: list[dict[str, Any]] = _as_json_values(asset_structs(graph, _ids(graph, select)))
    return rows


def asset_json_rows(graph: AssetGraph, select: str | None) -> list[AssetRow]:
    """The rows `assets list --json` encodes (all when ``select`` is empty), in graph order."""
    return asset_structs(graph, _ids(graph, select))

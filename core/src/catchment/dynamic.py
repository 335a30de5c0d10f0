"""Dynamic partitions at run time: add keys to a set, and give a graph's sets their keys.

Keys live in the record store (``dynamic_partitions`` table), so every process sees the same
ones: a sensor adds a customer, the daemon then requests its partition, and the run it starts
(another process) validates it. Commands call :func:`bind_dynamic_partitions` once after
opening the store: one query, whatever the number of sets.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from catchment.errors import ConfigError
from catchment.partitions import DynamicPartitions

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.storage import Storage

__all__ = ["add_dynamic_partitions", "bind_dynamic_partitions", "dynamic_sets"]


def dynamic_sets(graph: AssetGraph) -> dict[str, list[DynamicPartitions]]:
    """Set name -> the ``DynamicPartitions`` objects of the graph's specs using it."""
    out: dict[str, list[DynamicPartitions]] = {}
    for spec in graph.specs.values():
        parts = spec.partitions
        if isinstance(parts, DynamicPartitions):
            found = out.setdefault(parts.name, [])
            if not any(p is parts for p in found):
                found.append(parts)
    return out


def bind_dynamic_partitions(graph: AssetGraph, storage: Storage) -> dict[str, list[str]]:
    """Read the keys of every dynamic set the graph uses (one query, none if it uses none)
    and bind them; returns set name -> keys."""
    sets = dynamic_sets(graph)
    if not sets:
        return {}
    keys = storage.dynamic_partitions(sets)
    for name, objects in sets.items():
        for obj in objects:
            obj.bind(keys.get(name, []))
    return keys


def add_dynamic_partitions(
    storage: Storage,
    set_name: str,
    keys: Iterable[str],
    graph: AssetGraph | None = None,
    now: float | None = None,
) -> list[str]:
    """Add ``keys`` to the set ``set_name`` (those already there are left alone); returns
    the new ones. With ``graph``, the set must be one of its dynamic sets, and the graph's
    sets see the new keys at once."""
    if graph is not None:
        sets = dynamic_sets(graph)
        if set_name not in sets:
            known = ", ".join(sorted(sets)) or "none"
            raise ConfigError(
                f"no dynamic partition set named {set_name!r} in the project",
                hint=f"the project's dynamic sets: {known}",
            )
    added = storage.add_dynamic_partitions(set_name, keys, now=now)
    if graph is not None and added:
        bind_dynamic_partitions(graph, storage)
    return added

"""Asset partitions in scope, and which upstream partitions each one reads.

Reconciliation (``plan``/``apply``) and automation decide about *subjects*: an unpartitioned
asset ``(key, None)`` or one partition ``(key, "2026-01-05")``. Which partitions count is the
asset's partition scope at a given moment (for time windows the latest complete window by
default, or the last N, or all; every key of static and dynamic sets). Upstream partitions
follow the dependency's partition mapping, as runs load them; an unpartitioned asset reads
its partitioned upstreams' partitions in scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from operator import attrgetter
from typing import TYPE_CHECKING

from catchment.errors import CatchmentError
from catchment.keys import AssetKey
from catchment.partitions import PartitionMapping, PartitionScope, default_scope
from catchment.storage.base import Subject

if TYPE_CHECKING:
    from catchment.graph import AssetGraph

__all__ = ["Subject", "Subjects", "subject_label"]


_path = attrgetter("path")


def subject_label(subject: Subject) -> str:
    """``raw/orders`` or ``raw/orders[2026-01-05]``."""
    key, part = subject
    return str(key) if part is None else f"{key}[{part}]"


class Subjects:
    """The subjects of one graph at one moment, computed on demand and cached."""

    def __init__(self, graph: AssetGraph, now: datetime | None = None):
        """``now``: the moment whose partitions are in scope (default: the current time)."""
        self.graph = graph
        self.now = now if now is not None else datetime.now(UTC)
        self._domains: dict[AssetKey, tuple[str | None, ...]] = {}
        self._scoped: dict[tuple[object, PartitionScope], tuple[str, ...]] = {}
        self._upstream: dict[Subject, tuple[Subject, ...]] = {}
        self._inputs: dict[AssetKey, list[tuple[AssetKey, bool, PartitionMapping | None]]] = {}
        self._external: frozenset[AssetKey] | None = None
        self.problems: dict[AssetKey, str] = {}

    def scope_of(self, key: AssetKey) -> PartitionScope | None:
        """The asset's partition scope (None: unpartitioned)."""
        spec = self.graph.specs[key]
        if spec.partitions is None:
            return None
        return spec.partition_scope or default_scope(spec.partitions)

    def domain(self, key: AssetKey) -> tuple[str | None, ...]:
        """``(None,)`` for an unpartitioned asset, else its partition keys in scope."""
        found = self._domains.get(key)
        if found is None:
            spec = self.graph.specs[key]
            if spec.partitions is None:
                found = (None,)
            else:
                scope = spec.partition_scope or default_scope(spec.partitions)
                cache_key = (spec.partitions, scope)
                keys = self._scoped.get(cache_key)
                if keys is None:
                    keys = tuple(scope.keys(spec.partitions, self.now))
                    self._scoped[cache_key] = keys
                found = keys
            self._domains[key] = found
        return found

    def subjects(self, keys: Iterable[AssetKey]) -> list[Subject]:
        """Every subject of ``keys`` in scope, asset by asset."""
        return [(k, p) for k in keys for p in self.domain(k)]

    def _inputs_of(self, key: AssetKey) -> list[tuple[AssetKey, bool, PartitionMapping | None]]:
        """``key``'s non-external upstreams: (key, partitioned?, the dep's mapping)."""
        found = self._inputs.get(key)
        if found is None:
            graph = self.graph
            specs = graph.specs
            if self._external is None:  # external sources are roots: look only at those
                self._external = frozenset(k for k in graph.roots() if graph.is_external(k))
            external = self._external
            mappings = {d.key: d.partition_mapping for d in specs[key].deps}
            found = [
                (up, specs[up].partitions is not None, mappings.get(up))
                for up in sorted(graph.upstream(key), key=_path)
                if up not in external
            ]
            self._inputs[key] = found
        return found

    def upstream(self, subject: Subject) -> tuple[Subject, ...]:
        """The upstream subjects ``subject`` reads (external sources left out)."""
        found = self._upstream.get(subject)
        if found is not None:
            return found
        key, part = subject
        out: list[Subject] = []
        for up, partitioned, mapping in self._inputs_of(key):
            if not partitioned:
                out.append((up, None))
            elif part is None:
                out.extend((up, q) for q in self.domain(up))
            elif mapping is None:
                out.append((up, part))
            else:
                specs = self.graph.specs
                try:
                    keys = mapping.upstream_keys(part, specs[key].partitions, specs[up].partitions)  # type: ignore[arg-type]
                except CatchmentError as exc:
                    self.problems[key] = f"partition mapping to {up}: {exc.message}"
                    continue
                out.extend((up, q) for q in keys)
        found = tuple(out)
        self._upstream[subject] = found
        return found

    def closure(self, start: Iterable[Subject], depth: int | None = None) -> set[Subject]:
        """``start`` and the subjects upstream of them, ``depth`` steps up (None: all)."""
        seen = set(start)
        frontier = list(seen)
        level = 0
        while frontier and (depth is None or level < depth):
            nxt: list[Subject] = []
            for subject in frontier:
                for up in self.upstream(subject):
                    if up not in seen:
                        seen.add(up)
                        nxt.append(up)
            frontier = nxt
            level += 1
        return seen

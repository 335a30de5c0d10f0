"""Drift: what the warehouse shows that the records do not know.

Compares each asset's observation with the records and the recorded observations: its table
gone, its columns different from what its last materialization produced (the first
observation after it), its rows changed outside catchment, or an external source it reads
changed since it read it. Reconciliation turns these into ``missing``/``stale`` reasons.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal, NamedTuple

from catchment.execution.observe import History, load_history
from catchment.keys import AssetKey
from catchment.observation import Observation

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.storage.base import MaterializationRecord, Storage

FindingKind = Literal["gone", "drifted", "changed", "unknown"]
MAX_LISTED_COLUMNS = 5


class Finding(NamedTuple):
    """What observation found wrong with one asset, and the reason ``plan`` prints."""

    kind: FindingKind
    reason: str


def _short(version: str | None) -> str:
    return (version or "none")[:8]


def _listed(names: list[str]) -> str:
    more = len(names) - MAX_LISTED_COLUMNS
    return ", ".join(names[:MAX_LISTED_COLUMNS]) + (f" and {more} more" if more > 0 else "")


def column_diff(before: Mapping[str, str], now: Mapping[str, str]) -> str | None:
    """``added x, y; removed z; retyped c (A -> B)``, or None when the columns agree."""
    parts = []
    added = [c for c in now if c not in before]
    removed = [c for c in before if c not in now]
    retyped = [f"{c} ({before[c]} -> {now[c]})" for c in now if c in before and before[c] != now[c]]
    if added:
        parts.append(f"added {_listed(added)}")
    if removed:
        parts.append(f"removed {_listed(removed)}")
    if retyped:
        parts.append(f"retyped {_listed(retyped)}")
    return "; ".join(parts) or None


class Observed:
    """The current observations with the recorded history, asked by reconciliation."""

    def __init__(
        self,
        graph: AssetGraph,
        observations: Mapping[AssetKey, Observation],
        history: History,
        latest: Mapping[AssetKey, int] | None = None,
    ):
        """``latest``: each asset's newest materialization seq over all its partitions (a
        partition built later changes the table too: that is not a change outside)."""
        self.graph = graph
        self.observations = observations
        self.history = history
        self.latest = latest or {}
        self._sources: dict[AssetKey, tuple[AssetKey, ...]] = {}

    def finding(self, key: AssetKey, record: MaterializationRecord) -> Finding | None:
        """What is wrong with ``key``'s relation given its latest materialization, if any."""
        obs = self.observations.get(key)
        if obs is None:
            return None
        if obs.exists is None:
            return Finding("unknown", f"unknown: could not observe ({obs.error})")
        table = self.graph.specs[key].table
        if not obs.exists:
            where = table.qualified_name if table else key
            return Finding("gone", f"table gone ({where} not found)")
        past = self.history.get(key, ())
        since = max(record.seq, self.latest.get(key, 0))
        baseline = next((o for s, o in past if s > since and o.exists), None)
        if baseline is None:
            return None
        if baseline.columns is not None and obs.columns is not None:
            diff = column_diff(baseline.columns, obs.columns)
            if diff:
                return Finding(
                    "drifted", f"drifted (columns differ from what the code produced: {diff})"
                )
        if baseline.data_version != obs.data_version:
            return Finding(
                "changed",
                "changed outside catchment (data version "
                f"{_short(baseline.data_version)} -> {_short(obs.data_version)})",
            )
        return None

    def sources_of(self, key: AssetKey) -> tuple[AssetKey, ...]:
        """The observed external sources ``key`` reads directly."""
        found = self._sources.get(key)
        if found is None:
            found = tuple(
                sorted(
                    u
                    for u in self.graph.upstream(key)
                    if self.graph.is_external(u) and u in self.observations
                )
            )
            self._sources[key] = found
        return found

    def source_change(self, source: AssetKey, record: MaterializationRecord) -> str | None:
        """``source changed: X data version a -> b`` when the external ``source`` holds other
        data than when ``record`` was made (the last observation before it, else the first
        after it), else None."""
        now = self.observations[source]
        if now.exists is None:
            return None
        past = self.history.get(source, [])
        before = [o for s, o in past if s < record.seq]
        baseline = before[-1] if before else next((o for s, o in past if s > record.seq), None)
        if baseline is None or baseline.exists is None:
            return None
        if (baseline.exists, baseline.data_version) == (now.exists, now.data_version):
            return None
        if not now.exists:
            return f"source gone: {source}"
        return (
            f"source changed: {source} data version "
            f"{_short(baseline.data_version)} -> {_short(now.data_version)}"
        )

    def source_unknown(self, source: AssetKey) -> str | None:
        """``unknown: could not observe source X (cause)`` when ``source`` could not be
        observed: what reads it is then unknown, never fresh."""
        now = self.observations[source]
        if now.exists is not None:
            return None
        return f"unknown: could not observe source {source} ({now.error})"

    def external_status(self, key: AssetKey) -> tuple[str, tuple[str, ...]]:
        """An external source's state and reasons as observed (``fresh`` if not observed)."""
        obs = self.observations.get(key)
        if obs is None or obs.exists:
            return "fresh", ()
        if obs.exists is None:
            return "unknown", (f"unknown: could not observe ({obs.error})",)
        return "missing", ("source gone (not found)",)


def recorded_observations(
    graph: AssetGraph, storage: Storage, up_to: int | None = None
) -> Observed:
    """The recorded observations (events up to seq ``up_to``) as an ``Observed``, each
    external source's latest one standing for "now": what automation reads, without looking
    at the warehouse itself (``catchment observe`` on a schedule keeps it current)."""
    history = load_history(storage)
    if up_to is not None:
        history = {k: [(s, o) for s, o in v if s <= up_to] for k, v in history.items()}
    current = {k: v[-1][1] for k, v in history.items() if v and k in graph and graph.is_external(k)}
    return Observed(graph, current, history)

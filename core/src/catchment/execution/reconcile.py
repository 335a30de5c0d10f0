"""Reconciliation: compare the code with the records and say, per asset, what is out of date.

An asset is ``missing`` (never materialized), ``stale`` (its code version changed, an upstream
was re-materialized since, an upstream is itself missing or stale, or a partition is missing)
or ``fresh``. Each materialization records its code version and the data versions of the
inputs it read; that is all this needs. External source assets are never stale.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal

import msgspec

from catchment.keys import AssetKey, CoercibleToKey
from catchment.storage.base import MaterializationRecord, Storage

if TYPE_CHECKING:
    from catchment.graph import AssetGraph

AssetState = Literal["missing", "stale", "fresh"]
MAX_LISTED_PARTITIONS = 3


class AssetStatus(msgspec.Struct, frozen=True, kw_only=True):
    """Where one asset stands, why, and which partitions a run must build to fix it."""

    key: AssetKey
    state: AssetState
    reasons: tuple[str, ...] = ()
    latest: MaterializationRecord | None = None
    partitions: tuple[str, ...] = ()
    external: bool = False

    def to_dict(self) -> dict[str, object]:
        latest = self.latest
        return {
            "key": self.key.to_string(),
            "state": self.state,
            "reasons": list(self.reasons),
            "partitions": list(self.partitions),
            "external": self.external,
            "last_run_id": latest.run_id if latest else None,
            "last_materialized_at": latest.timestamp if latest else None,
            "code_version": latest.code_version if latest else None,
        }


def _short(version: str | None) -> str:
    return (version or "none")[:8]


def _partition_reason(missing: list[str]) -> str:
    if len(missing) == 1:
        return f"partition {missing[0]} missing"
    shown = ", ".join(missing[:MAX_LISTED_PARTITIONS])
    more = len(missing) - MAX_LISTED_PARTITIONS
    return f"partitions {shown}{f' and {more} more' if more > 0 else ''} missing"


def reconcile(
    graph: AssetGraph,
    storage: Storage,
    selection: str | Iterable[CoercibleToKey] | None = None,
) -> list[AssetStatus]:
    """The status of each selected asset (None = all), in dependency order.

    Upstreams outside the selection are evaluated too, so "upstream X stale" is reported
    whatever the selection.
    """
    if selection is None or isinstance(selection, str):
        selected = graph.select(selection)
    else:
        selected = frozenset(AssetKey.parse(k) for k in selection)
    needed = set(selected) | set(graph.ancestors(selected))
    internal = [k for k in graph.toposort(needed) if not graph.is_external(k)]
    latest = storage.latest_materializations(internal)
    partitioned = [k for k in internal if graph.specs[k].partitions is not None and k in latest]
    by_partition = storage.partition_materializations(partitioned) if partitioned else {}
    statuses: dict[AssetKey, AssetStatus] = {}
    for key in internal:
        statuses[key] = _status(graph, key, latest, by_partition.get(key, {}), statuses)
    out = []
    for key in graph.toposort(selected):
        if graph.is_external(key):
            out.append(AssetStatus(key=key, state="fresh", external=True))
        else:
            out.append(statuses[key])
    return out


def _status(
    graph: AssetGraph,
    key: AssetKey,
    latest: dict[AssetKey, MaterializationRecord],
    by_partition: dict[str | None, MaterializationRecord],
    known: dict[AssetKey, AssetStatus],
) -> AssetStatus:
    spec = graph.specs[key]
    record = latest.get(key)
    all_partitions: tuple[str, ...] = tuple(spec.partitions.keys()) if spec.partitions else ()
    if record is None:
        return AssetStatus(key=key, state="missing", partitions=all_partitions)
    reasons: list[str] = []
    records = [record]
    missing_partitions: list[str] = []
    if spec.partitions is not None:
        records = [r for p, r in by_partition.items() if p is not None] or [record]
        missing_partitions = [p for p in all_partitions if p not in by_partition]

    if spec.code_version is not None:
        old = sorted({r.code_version or "" for r in records if r.code_version != spec.code_version})
        if old:
            before = ", ".join(_short(v or None) for v in old)
            reasons.append(f"code changed ({before} -> {_short(spec.code_version)})")

    for up in sorted(graph.upstream(key)):
        if graph.is_external(up):
            continue
        up_status = known[up]
        if up_status.state == "missing":
            reasons.append(f"upstream {up} missing")
        elif up_status.state == "stale":
            reasons.append(f"upstream {up} stale")
        else:
            up_record = latest[up]
            name = up.to_string()
            if name in record.input_versions:
                newer = record.input_versions[name] != up_record.data_version
            else:
                newer = up_record.timestamp > record.timestamp
            if newer:
                reasons.append(f"upstream {up} newer")

    if missing_partitions:
        reasons.append(_partition_reason(missing_partitions))
    if not reasons:
        return AssetStatus(key=key, state="fresh", latest=record)
    only_partitions = len(reasons) == 1 and bool(missing_partitions)
    return AssetStatus(
        key=key,
        state="stale",
        reasons=tuple(reasons),
        latest=record,
        partitions=tuple(missing_partitions) if only_partitions else all_partitions,
    )


def apply_groups(
    statuses: Iterable[AssetStatus], graph: AssetGraph
) -> list[tuple[tuple[AssetKey, ...], tuple[str, ...]]]:
    """Group the non-fresh assets into runs of one partition set each: (keys, partition
    keys), every run after the runs that build its assets' upstreams.

    ``statuses`` come in dependency order (as ``reconcile`` returns them). An asset joins the
    earliest run with its partition set that follows all its upstreams' runs.
    """
    todo = [s for s in statuses if s.state != "fresh" and not s.external]
    partitions = {s.key: s.partitions for s in todo}
    level: dict[AssetKey, int] = {}
    for s in todo:
        level[s.key] = max(
            (
                level[u] + (partitions[u] != s.partitions)
                for u in graph.upstream(s.key)
                if u in level
            ),
            default=0,
        )
    groups: dict[tuple[int, tuple[str, ...]], list[AssetKey]] = {}
    for s in todo:
        groups.setdefault((level[s.key], s.partitions), []).append(s.key)
    return [(tuple(keys), parts) for (_, parts), keys in sorted(groups.items(), key=_by_level)]


def _by_level(item: tuple[tuple[int, tuple[str, ...]], list[AssetKey]]) -> int:
    return item[0][0]

"""Reconciliation: compare the code with the records and say, per asset, what is out of date.

An asset is ``missing`` (never materialized), ``stale`` (its code version changed, an upstream
was re-materialized since, an upstream is itself missing or stale, or a partition in scope is
missing) or ``fresh``. Partitioned assets are judged partition by partition, on the partitions
in scope only (``catchment.execution.subjects``): a change upstream makes only those stale.
Each materialization records its code version and the data versions of the inputs it read;
that is all this needs. External source assets are never stale.

With observations (``catchment.execution.drift.Observed``), the warehouse is consulted too: a
table that is gone is ``missing``, drifted columns, rows changed outside catchment and
changed external sources make an asset ``stale``, and an asset that could not be observed and
is otherwise fresh is ``unknown`` (with the cause), never ``fresh``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Literal, NamedTuple

import msgspec

from catchment.execution.subjects import Subject, Subjects, subject_label
from catchment.keys import AssetKey, CoercibleToKey
from catchment.storage.base import MaterializationRecord, Storage

if TYPE_CHECKING:
    from catchment.execution.drift import Observed
    from catchment.graph import AssetGraph

AssetState = Literal["missing", "stale", "fresh", "unknown"]
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


class SubjectStatus(NamedTuple):
    """Where one asset partition (or unpartitioned asset) stands, and why."""

    state: AssetState
    reasons: tuple[str, ...] = ()


def subject_statuses(
    graph: AssetGraph,
    subjects: Subjects,
    records: Mapping[Subject, MaterializationRecord],
    wanted: Iterable[Subject],
    closure: set[Subject] | None = None,
    observed: Observed | None = None,
) -> dict[Subject, SubjectStatus]:
    """The status of each subject of ``wanted`` and of every subject upstream of them
    (``closure``, when the caller has it already).

    ``records`` holds the newest materialization of each of those subjects (those without
    one are missing). Statuses are computed upstream first, so "upstream X stale" propagates.
    """
    if closure is None:
        closure = subjects.closure(wanted)
    rank = {k: i for i, k in enumerate(graph.toposort({k for k, _ in closure}))}
    out: dict[Subject, SubjectStatus] = {}
    for subject in sorted(closure, key=lambda s: rank[s[0]]):
        out[subject] = _subject_status(graph, subjects, subject, records, out, observed)
    return out


def _subject_status(
    graph: AssetGraph,
    subjects: Subjects,
    subject: Subject,
    records: Mapping[Subject, MaterializationRecord],
    known: Mapping[Subject, SubjectStatus],
    observed: Observed | None = None,
) -> SubjectStatus:
    record = records.get(subject)
    if record is None:
        return SubjectStatus("missing")
    reasons: list[str] = []
    doubt: str | None = None
    if observed is not None:
        found = observed.finding(subject[0], record)
        if found is not None and found.kind == "gone":
            return SubjectStatus("missing", (found.reason,))
        if found is not None and found.kind == "unknown":
            doubt = found.reason
        elif found is not None:
            reasons.append(found.reason)
        for source in observed.sources_of(subject[0]):
            change = observed.source_change(source, record)
            if change is not None:
                reasons.append(change)
            elif doubt is None:
                doubt = observed.source_unknown(source)
    spec = graph.specs[subject[0]]
    if spec.code_version is not None and record.code_version != spec.code_version:
        reasons.append(
            f"code changed ({_short(record.code_version)} -> {_short(spec.code_version)})"
        )
    for up in subjects.upstream(subject):
        state: str = known[up].state
        if state in ("fresh", "unknown"):
            if not is_newer(record, up, records[up]):
                continue
            state = "newer"
        reason = f"upstream {subject_label(up)} {state}"
        if reason not in reasons:
            reasons.append(reason)
    if reasons:
        return SubjectStatus("stale", tuple(reasons))
    return SubjectStatus("unknown", (doubt,)) if doubt else SubjectStatus("fresh")


def is_newer(record: MaterializationRecord, up: Subject, up_record: MaterializationRecord) -> bool:
    """Whether ``up_record`` holds data ``record`` did not read: another data version than the
    one recorded as read (unpartitioned upstreams), else recorded after it."""
    inputs = record.input_versions
    if up[1] is None and inputs:
        name = up[0].to_string()
        if name in inputs:
            return inputs[name] != up_record.data_version
    return up_record.seq > record.seq


def reconcile(
    graph: AssetGraph,
    storage: Storage,
    selection: str | Iterable[CoercibleToKey] | None = None,
    now: datetime | None = None,
    observed: Observed | None = None,
) -> list[AssetStatus]:
    """The status of each selected asset (None = all), in dependency order.

    Partitioned assets are judged on their partitions in scope at ``now`` (default: the
    current time; see ``catchment.execution.subjects``). Upstreams outside the selection are
    evaluated too, so "upstream X stale" is reported whatever the selection. The records are
    read in two queries (one when no asset is partitioned), however many assets and
    partitions there are.
    """
    if selection is None or isinstance(selection, str):
        selected = graph.select(selection)
    else:
        selected = frozenset(AssetKey.parse(k) for k in selection)
    subjects = Subjects(graph, now)
    chosen = [k for k in graph.toposort(selected) if not graph.is_external(k)]
    wanted = subjects.subjects(chosen)
    closure = subjects.closure(wanted)
    records = storage.materializations_of(closure)
    # a partitioned asset may have older partitions, outside the scope: it is not "missing"
    partitioned = [k for k in chosen if graph.specs[k].partitions is not None]
    latest = storage.latest_materializations(partitioned) if partitioned else {}
    latest.update((k, records[(k, None)]) for k in chosen if (k, None) in records)
    statuses = subject_statuses(graph, subjects, records, wanted, closure, observed)
    out = []
    for key in graph.toposort(selected):
        if graph.is_external(key):
            state, why = observed.external_status(key) if observed else ("fresh", ())
            out.append(AssetStatus(key=key, state=state, reasons=why, external=True))  # type: ignore[arg-type]
        else:
            out.append(_asset_status(graph, subjects, key, latest.get(key), records, statuses))
    return out


def _asset_status(
    graph: AssetGraph,
    subjects: Subjects,
    key: AssetKey,
    latest: MaterializationRecord | None,
    records: Mapping[Subject, MaterializationRecord],
    statuses: Mapping[Subject, SubjectStatus],
) -> AssetStatus:
    domain = subjects.domain(key)
    partitioned = graph.specs[key].partitions is not None
    in_scope = tuple(p for p in domain if p is not None)
    if latest is None:
        return AssetStatus(key=key, state="missing", partitions=in_scope)
    newest = max(
        (records[(key, p)] for p in domain if (key, p) in records),
        key=lambda r: r.seq,
        default=latest,
    )
    if not partitioned:
        status = statuses[(key, None)]
        return AssetStatus(key=key, state=status.state, reasons=status.reasons, latest=newest)
    reasons: list[str] = []
    missing: list[str] = []
    todo: list[str] = []
    doubts: list[str] = []
    for p in in_scope:
        status = statuses[(key, p)]
        if status.state == "missing":
            missing.append(p)
        elif status.state != "stale":
            doubts.extend(r for r in status.reasons if r not in doubts)
            continue
        reasons.extend(r for r in status.reasons if r not in reasons)
        todo.append(p)
    if missing:
        reasons.append(_partition_reason(missing))
    if not todo:
        state: AssetState = "unknown" if doubts else "fresh"
        return AssetStatus(key=key, state=state, reasons=tuple(doubts), latest=newest)
    return AssetStatus(
        key=key, state="stale", reasons=tuple(reasons), latest=newest, partitions=tuple(todo)
    )


def apply_groups(
    statuses: Iterable[AssetStatus], graph: AssetGraph
) -> list[tuple[tuple[AssetKey, ...], tuple[str, ...]]]:
    """Group the non-fresh assets into runs of one partition set each: (keys, partition
    keys), every run after the runs that build its assets' upstreams.

    ``statuses`` come in dependency order (as ``reconcile`` returns them). An asset joins the
    earliest run with its partition set that follows all its upstreams' runs.
    """
    todo = [s for s in statuses if s.state in ("missing", "stale") and not s.external]
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

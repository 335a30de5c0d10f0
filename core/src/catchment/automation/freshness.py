"""Freshness evaluation: which assets are overdue under their policy, recorded as checks.

``evaluate_freshness(graph, storage, now)`` reads the newest materialization of every asset
with a policy and its newest ``freshness`` check (two queries, however many assets) and says
which are overdue. It also says which check records to write: a failed ``freshness`` check
when an asset becomes overdue, a passed one when it recovers, nothing while nothing changes,
so the record store holds one record per episode and a restarted daemon neither repeats nor
misses one. ``record_freshness`` writes them (one transaction) and tells the plugins' hooks
(``catchment_check_evaluated``), so a plugin can alert.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec

from catchment.automation.evaluator import FRESHNESS_CHECK, to_datetime
from catchment.events import CheckData, Event, EventType
from catchment.keys import AssetKey

if TYPE_CHECKING:
    from catchment.automation.policy import FreshnessPolicy
    from catchment.graph import AssetGraph
    from catchment.storage import Storage

__all__ = [
    "FRESHNESS_CHECK",
    "FreshnessResult",
    "FreshnessStatus",
    "evaluate_freshness",
    "freshness_policies",
    "record_freshness",
]


class FreshnessStatus(msgspec.Struct, frozen=True, kw_only=True):
    """One asset under its policy at the evaluation's moment."""

    asset: str
    policy: str
    overdue: bool
    required_since: float
    last_materialized_at: float | None = None
    deadline: float | None = None
    reason: str = ""


class FreshnessResult(msgspec.Struct, kw_only=True):
    """Every asset with a policy, and the check records the evaluation calls for."""

    evaluated_at: float
    statuses: list[FreshnessStatus] = msgspec.field(default_factory=list)
    events: list[Event] = msgspec.field(default_factory=list)
    queries: int = 0

    @property
    def overdue(self) -> list[FreshnessStatus]:
        """The overdue assets."""
        return [s for s in self.statuses if s.overdue]

    def to_body(self) -> dict[str, Any]:
        """JSON-ready builtins (what the daemon keeps as the tick's body)."""
        body: dict[str, Any] = msgspec.to_builtins(self)
        return body


def freshness_policies(graph: AssetGraph) -> dict[AssetKey, FreshnessPolicy]:
    """Asset -> its policy, for every asset that has one (group and project policies from
    ``catchment.yaml`` are already on the specs when the project loads)."""
    return {
        k: s.freshness
        for k, s in graph.specs.items()
        if s.freshness is not None and not graph.is_external(k)
    }


def _when(ts: float) -> str:
    return datetime.fromtimestamp(ts).astimezone().strftime("%Y-%m-%d %H:%M %Z")


def evaluate_freshness(
    graph: AssetGraph, storage: Storage, now: datetime | float | None = None
) -> FreshnessResult:
    """Who is overdue at ``now``, and which ``freshness`` check records to write (see the
    module); reads only."""
    moment = to_datetime(now)
    reads = getattr(storage, "reads", 0)
    policies = freshness_policies(graph)
    result = FreshnessResult(evaluated_at=moment.timestamp())
    if not policies:
        return result
    latest = storage.latest_materializations(policies)
    checks = storage.latest_checks([(k, FRESHNESS_CHECK) for k in policies])
    for key in graph.toposort(policies):
        policy = policies[key]
        since, deadline = policy.required_since(moment)
        record = latest.get(key)
        last = record.timestamp if record is not None else None
        overdue = last is None or last < since
        if last is None:
            reason = f"never materialized ({policy})"
        elif overdue:
            lag = (moment.timestamp() - last) / 3600
            reason = f"last materialized {_when(last)}, {lag:.1f}h ago ({policy})"
        else:
            reason = f"materialized {_when(last)} ({policy})"
        status = FreshnessStatus(
            asset=str(key),
            policy=str(policy),
            overdue=overdue,
            required_since=since,
            last_materialized_at=last,
            deadline=deadline,
            reason=reason,
        )
        result.statuses.append(status)
        recorded = checks.get((key, FRESHNESS_CHECK))
        was_overdue = recorded is not None and not recorded.passed
        if overdue != was_overdue and (overdue or recorded is not None):
            result.events.append(_check_event(status, moment.timestamp()))
    result.queries = getattr(storage, "reads", 0) - reads
    return result


def _check_event(status: FreshnessStatus, now: float) -> Event:
    metadata: dict[str, Any] = {
        "policy": status.policy,
        "required_since": status.required_since,
        "last_materialized_at": status.last_materialized_at,
    }
    if status.deadline is not None:
        metadata["deadline"] = status.deadline
    event = Event.of(
        "",
        EventType.CHECK_EVALUATED,
        CheckData(
            check_name=FRESHNESS_CHECK,
            passed=not status.overdue,
            severity="warn",
            description=("overdue: " if status.overdue else "fresh again: ") + status.reason,
            metadata=metadata,
        ),
        asset_key=status.asset,
        timestamp=now,
    )
    return event


def record_freshness(
    storage: Storage, result: FreshnessResult, run_id: str | None = None, hooks: Any = None
) -> list[Event]:
    """Write the check records ``result`` calls for in ONE transaction, under ``run_id``
    (default ``freshness-<time>``: they belong to no run), and pass each to the
    ``catchment_check_evaluated`` hook of ``hooks`` (a plugin registry's hook relay)."""
    if not result.events:
        return []
    rid = run_id or f"freshness-{int(result.evaluated_at * 1000)}"
    events = [msgspec.structs.replace(e, run_id=rid) for e in result.events]
    storage.append_events(events)
    if hooks is not None:
        from catchment.hookspecs import RunInfo

        for event in events:
            info = RunInfo(run_id=rid, selection=None, asset_keys=(event.asset_key or "",))
            hooks.catchment_check_evaluated(run=info, event=event)
    return events

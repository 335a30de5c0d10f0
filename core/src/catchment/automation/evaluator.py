"""One automation tick: evaluate every asset's condition per partition in scope, in batches.

``evaluate(graph, storage, now, previous_state)`` reads the record store in a fixed number of
queries (the newest event ``seq``, materializations, failures, checks, active runs, the runs
behind new materializations, dynamic keys: each ONE query, and only those the conditions
need), then evaluates each distinct condition once per group of assets that share it, as
set operations over their partitions.
Assets are evaluated upstream first, so an asset whose upstream is requested in the same tick
is not held back by it (``upstream_missing``), an eager one is asked by it
(``upstream_will_be_requested``), and both go into one run.

Nothing is launched: the result holds the run requests, the reason for each decision, every
operand's value (for ``explain``) and the state the next evaluation needs.
"""

from __future__ import annotations

import gc
import hashlib
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from catchment.automation.conditions import (
    And,
    AutomationCondition,
    CheckFailed,
    CodeChanged,
    CronTickPassed,
    Failed,
    InProgress,
    Missing,
    NewlyRequested,
    NewlyTrue,
    NewlyUpdated,
    Not,
    Or,
    Prebuilt,
    Since,
    SourceChanged,
    Stale,
    UpstreamInProgress,
    UpstreamMissing,
    UpstreamNewlyUpdated,
    UpstreamUpdated,
    UpstreamWillBeRequested,
    node_value,
)
from catchment.automation.explain import Explanation, explain_result
from catchment.automation.result import (
    UNPARTITIONED,
    AutomationState,
    Decision,
    EvaluationResult,
)
from catchment.cron import CronSchedule
from catchment.dynamic import bind_dynamic_partitions
from catchment.errors import CatchmentError
from catchment.execution.drift import Observed, recorded_observations
from catchment.execution.reconcile import SubjectStatus, is_newer, subject_statuses
from catchment.execution.subjects import Subject, Subjects, subject_label
from catchment.keys import AssetKey
from catchment.runs.request import RunRequest
from catchment.storage.base import STALE_HEARTBEAT_SECONDS, is_abandoned

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.storage import Storage
    from catchment.storage.base import (
        CheckRecord,
        FailureRecord,
        MaterializationRecord,
        RunRecord,
    )

__all__ = ["condition_id", "evaluate", "explain_now", "to_datetime"]

WORKSPACE_RUN_TAG = "workspace_run"
"""The tag of a project's batch run naming the workspace run it belongs to: the workspace
run is the one that targeted the other projects' assets."""

FRESHNESS_CHECK = "freshness"
"""The check freshness evaluation records; ``check_failed()`` without a name ignores it."""

_UPSTREAM = (
    UpstreamUpdated,
    UpstreamNewlyUpdated,
    UpstreamWillBeRequested,
    UpstreamMissing,
    UpstreamInProgress,
)


def to_datetime(now: datetime | float | None) -> datetime:
    """``now`` as an aware datetime (naive datetimes are UTC; None is the current time)."""
    if now is None:
        return datetime.now(UTC)
    if isinstance(now, int | float):
        return datetime.fromtimestamp(now, UTC)
    return now if now.tzinfo is not None else now.replace(tzinfo=UTC)


def condition_id(condition: AutomationCondition) -> str:
    """A short, stable id of a condition's expression: memory and records are keyed by it,
    so a changed condition starts with fresh memory and an unchanged one keeps its own."""
    return hashlib.sha1(str(condition).encode()).hexdigest()[:10]


def _part(partition: str | None) -> str:
    return UNPARTITIONED if partition is None else partition


def _from_part(text: str) -> str | None:
    return None if text == UNPARTITIONED else text


def evaluate(
    graph: AssetGraph,
    storage: Storage,
    now: datetime | float | None = None,
    previous_state: AutomationState | None = None,
) -> EvaluationResult:
    """Evaluate every asset's automation condition at ``now`` (see the module docstring).

    ``previous_state`` is the ``state`` of the previous result (None on the first tick: then
    nothing counts as newly updated and no cron tick has passed yet).
    """
    started = time.perf_counter()
    reads = getattr(storage, "reads", 0)
    with _gc_paused():
        tick = _Tick(graph, storage, to_datetime(now), previous_state or AutomationState())
        tick.run()
        result = tick.result()
    result.queries = getattr(storage, "reads", 0) - reads
    result.duration = round(time.perf_counter() - started, 6)
    return result


@contextmanager
def _gc_paused() -> Iterator[None]:
    """No cyclic garbage collection during a tick: it allocates many short-lived objects
    next to a large graph, and each collection would walk the graph (a fifth of the tick's
    time on 10,000 assets). Collection resumes afterwards."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def explain_now(
    graph: AssetGraph,
    storage: Storage,
    key: AssetKey,
    partition: str | None = None,
    now: datetime | float | None = None,
    previous_state: AutomationState | None = None,
) -> Explanation:
    """Evaluate at ``now`` (nothing is launched or recorded) and explain ``key``'s decision
    for ``partition``, each true operand saying what made it true."""
    tick = _Tick(graph, storage, to_datetime(now), previous_state or AutomationState())
    tick.run()
    return explain_result(graph, tick.result(), key, partition, source="now", detail=tick.detail)


class _Tick:
    """The records of one evaluation and the evaluation itself."""

    def __init__(
        self, graph: AssetGraph, storage: Storage, now: datetime, previous: AutomationState
    ):
        self.graph = graph
        self.storage = storage
        self.now = now
        self.previous = previous
        self.subjects = Subjects(graph, now)
        self.targets = [
            k
            for k in graph.toposort()
            if graph.specs[k].automation is not None and not graph.is_external(k)
        ]
        self.conditions: dict[AssetKey, AutomationCondition] = {}
        self.ids: dict[AutomationCondition, str] = {}
        for k in self.targets:
            c = graph.specs[k].automation
            assert c is not None
            self.conditions[k] = c
            if c not in self.ids:
                self.ids[c] = condition_id(c)
        self.kinds = {type(node) for c in self.ids for _, node in c.walk()}
        self.prev_requested = {
            (AssetKey(a), _from_part(p)) for a, parts in previous.requested.items() for p in parts
        }
        self.requested_now: set[Subject] = set()
        self.memory: dict[str, list[str]] = {}
        self.values: dict[str, dict[str, Any]] = {}
        self.decisions: list[Decision] = []
        self.by_asset: dict[AssetKey, list[str | None]] = {}
        self.generation: dict[AssetKey, int] = {}
        self.cursor = 0
        self.mats: dict[Subject, MaterializationRecord] = {}
        self.failures: dict[Subject, FailureRecord] = {}
        self.checks: dict[tuple[AssetKey, str], CheckRecord] = {}
        self.active: dict[Subject, str] = {}
        self.news_runs: dict[str, RunRecord] = {}
        self.run_targets: dict[str, frozenset[AssetKey]] = {}
        self.statuses: dict[Subject, SubjectStatus] | None = None
        self.observed: Observed | None = None
        self.cron_cache: dict[tuple[str, str], tuple[bool, datetime | None]] = {}
        self.problems: dict[str, str] = {}
        self.domain_size = 0

    # -- reading the records: a fixed number of queries -------------------------------------
    def load(self) -> list[Subject]:
        graph, storage, kinds = self.graph, self.storage, self.kinds
        if self.targets:
            bind_dynamic_partitions(graph, storage)
        self.cursor = storage.latest_event_seq()
        wanted = self.subjects.subjects(self.targets)
        self.domain_size = len(wanted)
        closure = self.subjects.closure(wanted, 1 if kinds & set(_UPSTREAM) else 0)
        stale_wanted: list[Subject] = []
        stale_closure: set[Subject] = set()
        if Stale in kinds:  # stale() judges upstream all the way up, but only where it is used
            users = {c for c in self.ids if any(isinstance(n, Stale) for _, n in c.walk())}
            stale_keys = [k for k in self.targets if self.conditions[k] in users]
            stale_wanted = self.subjects.subjects(stale_keys)
            stale_closure = self.subjects.closure(stale_wanted)
            closure |= stale_closure
        self.mats = storage.materializations_of(closure, up_to=self.cursor) if closure else {}
        if UpstreamNewlyUpdated in kinds and self.previous.cursor is not None:
            self._load_news_runs(self.previous.cursor)
        if Failed in kinds:
            self.failures = storage.failures_of(wanted, up_to=self.cursor)
        if CheckFailed in kinds:
            self.checks = storage.latest_checks(self._checks_wanted(), up_to=self.cursor)
        if kinds & {InProgress, UpstreamInProgress}:
            self._load_active()
        if SourceChanged in kinds:
            self.observed = recorded_observations(graph, storage, self.cursor)
        if Stale in kinds:
            self.statuses = subject_statuses(
                graph, self.subjects, self.mats, stale_wanted, stale_closure
            )
        for key, problem in self.subjects.problems.items():
            self.problems[str(key)] = problem
        return wanted

    def _source_change(self, s: Subject) -> str | None:
        """How an observed external source of ``s`` changed since ``s`` was built, if it did."""
        observed, record = self.observed, self.mats.get(s)
        if observed is None or record is None:
            return None
        for source in observed.sources_of(s[0]):
            change = observed.source_change(source, record)
            if change is not None:
                return change
        return None

    def _checks_wanted(self) -> list[tuple[AssetKey, str]]:
        names: dict[AutomationCondition, list[str | None]] = {
            c: [n.check for _, n in c.walk() if isinstance(n, CheckFailed)] for c in self.ids
        }
        out: list[tuple[AssetKey, str]] = []
        for key, c in self.conditions.items():
            for name in names[c]:
                if name is not None:
                    out.append((key, name))
                else:
                    out.extend((key, spec.name) for spec in self.graph.checks_for(key))
        return out

    def _load_news_runs(self, since: int) -> None:
        """The runs that made the materializations newer than ``since`` (one query, none when
        nothing is new; a second for the workspace runs whose project runs made some):
        ``upstream_newly_updated`` ignores news from a run that targeted the downstream."""
        ids = {m.run_id for m in self.mats.values() if m.seq > since}
        if not ids:
            return
        runs = self.storage.runs_by_id(ids)
        parents = {r.tags.get(WORKSPACE_RUN_TAG) for r in runs.values()} - {None} - set(runs)
        if parents:
            runs.update(self.storage.runs_by_id(p for p in parents if p is not None))
        self.news_runs = runs

    def _targets(self, run: RunRecord) -> frozenset[AssetKey]:
        """The assets ``run`` targets in this graph (its keys, or its selection resolved)."""
        found = self.run_targets.get(run.run_id)
        if found is None:
            graph = self.graph
            if run.asset_keys:
                found = frozenset(AssetKey(k) for k in run.asset_keys if AssetKey(k) in graph)
            else:
                try:
                    found = frozenset(graph.select(run.selection))
                except CatchmentError:
                    found = frozenset()
            self.run_targets[run.run_id] = found
        return found

    def _load_active(self) -> None:
        graph = self.graph
        wall_clock = time.time()  # liveness is about real processes, whatever ``now`` is
        for run in self.storage.active_runs():
            if is_abandoned(run, wall_clock, STALE_HEARTBEAT_SECONDS):
                continue  # its process is gone: nothing is in progress (kill -9, a crash)
            for k in self._targets(run):
                if graph.specs[k].partitions is None or not run.partition_keys:
                    self.active.setdefault((k, None), run.run_id)
                for p in run.partition_keys if graph.specs[k].partitions is not None else ():
                    self.active.setdefault((k, p), run.run_id)

    # -- evaluating --------------------------------------------------------------------------
    def run(self) -> None:
        wanted = self.load()
        by_asset: dict[AssetKey, list[Subject]] = {}
        for s in wanted:
            by_asset.setdefault(s[0], []).append(s)
        target_set = set(self.targets)
        groups: dict[tuple[int, str], list[AssetKey]] = {}
        for key in self.targets:  # toposorted: upstream generations are known
            gen = 1 + max(
                (self.generation[u] for u in self.graph.upstream(key) if u in target_set),
                default=-1,
            )
            self.generation[key] = gen
            groups.setdefault((gen, self.ids[self.conditions[key]]), []).append(key)
        for gen, cid in sorted(groups):
            keys = groups[(gen, cid)]
            condition = self.conditions[keys[0]]
            domain = [s for k in keys for s in by_asset.get(k, ())]
            if domain:
                self._evaluate_group(condition, cid, keys, domain)

    def _evaluate_group(
        self, condition: AutomationCondition, cid: str, keys: list[AssetKey], domain: list[Subject]
    ) -> None:
        values: dict[str, set[Subject]] = {}
        true = self._node(condition, "0", domain, cid, keys, values)
        recorded: dict[AssetKey, dict[str, list[str]]] = {}
        for path, subjects in values.items():
            for key, part in subjects:
                recorded.setdefault(key, {}).setdefault(path, []).append(_part(part))
        for key, nodes in recorded.items():
            self.values[str(key)] = {"c": cid, "n": {p: sorted(v) for p, v in nodes.items()}}
        for subject in [s for s in domain if s in true]:
            self.requested_now.add(subject)
            self.by_asset.setdefault(subject[0], []).append(subject[1])
            reason = "; ".join(self._why(condition, "0", subject, values)) or str(condition)
            self.decisions.append(
                Decision(
                    asset=str(subject[0]),
                    partition=subject[1],
                    condition=str(condition),
                    reason=reason,
                )
            )

    def _remembered(
        self, cid: str, path: str, keys: Sequence[AssetKey], domain: Sequence[Subject]
    ) -> set[Subject]:
        memory = self.previous.memory
        out: set[Subject] = set()
        for key in keys:
            parts = memory.get(f"{key}\t{cid}\t{path}")
            if parts:
                out.update((key, _from_part(p)) for p in parts)
        return out.intersection(domain)

    def _remember(self, cid: str, path: str, subjects: set[Subject]) -> None:
        by_key: dict[AssetKey, list[str]] = {}
        for key, part in subjects:
            by_key.setdefault(key, []).append(_part(part))
        for key, parts in by_key.items():
            self.memory[f"{key}\t{cid}\t{path}"] = sorted(parts)

    def _node(
        self,
        node: AutomationCondition,
        path: str,
        domain: list[Subject],
        cid: str,
        keys: list[AssetKey],
        values: dict[str, set[Subject]],
    ) -> set[Subject]:
        out: set[Subject]
        if isinstance(node, Prebuilt):
            return self._node(node.condition, f"{path}.0", domain, cid, keys, values)
        if isinstance(node, And | Or):
            parts = [
                self._node(c, f"{path}.{i}", domain, cid, keys, values)
                for i, c in enumerate(node.children)
            ]
            out = set.intersection(*parts) if isinstance(node, And) else set().union(*parts)
            return out
        if isinstance(node, Not):
            return set(domain) - self._node(node.child, f"{path}.0", domain, cid, keys, values)
        if isinstance(node, Since):
            trigger = self._node(node.trigger, f"{path}.0", domain, cid, keys, values)
            reset = self._node(node.reset, f"{path}.1", domain, cid, keys, values)
            out = (self._remembered(cid, path, keys, domain) | trigger) - reset
            self._remember(cid, path, out)
        elif isinstance(node, NewlyTrue):
            child = self._node(node.child, f"{path}.0", domain, cid, keys, values)
            out = child - self._remembered(cid, path, keys, domain)
            self._remember(cid, path, child)
        else:
            out = self._leaf(node, domain)
        if out:
            values[path] = out
        return out

    def _leaf(self, node: AutomationCondition, domain: list[Subject]) -> set[Subject]:
        mats = self.mats
        prev_cursor = self.previous.cursor
        specs = self.graph.specs
        ups = self.subjects.upstream
        if isinstance(node, Missing):
            return {s for s in domain if s not in mats}
        if isinstance(node, Stale):
            statuses = self.statuses or {}
            return {s for s in domain if statuses.get(s, SubjectStatus("missing")).state != "fresh"}
        if isinstance(node, CodeChanged):
            return {
                s
                for s in domain
                if s in mats
                and specs[s[0]].code_version is not None
                and mats[s].code_version != specs[s[0]].code_version
            }
        if isinstance(node, CronTickPassed):
            return set(domain) if self._cron(node)[0] else set()
        if isinstance(node, SourceChanged):
            return {s for s in domain if self._source_change(s) is not None}
        if isinstance(node, UpstreamUpdated):
            return {
                s
                for s in domain
                if s in mats and any(u in mats and is_newer(mats[s], u, mats[u]) for u in ups(s))
            }
        if isinstance(node, UpstreamNewlyUpdated):
            if prev_cursor is None:
                return set()
            return {s for s in domain if self._upstream_news(s, prev_cursor)}
        if isinstance(node, NewlyUpdated):
            if prev_cursor is None:
                return set()
            return {s for s in domain if s in mats and mats[s].seq > prev_cursor}
        if isinstance(node, NewlyRequested):
            return self.prev_requested.intersection(domain)
        if isinstance(node, InProgress):
            return {s for s in domain if s in self.active}
        if isinstance(node, Failed):
            failures = self.failures
            return {
                s
                for s in domain
                if s in failures and (s not in mats or failures[s].seq > mats[s].seq)
            }
        if isinstance(node, CheckFailed):
            return {s for s in domain if self._failed_check(node, s[0]) is not None}
        if isinstance(node, UpstreamWillBeRequested):
            if not self.requested_now:
                return set()
            return {s for s in domain if self._upstream_requested(s)}
        if isinstance(node, UpstreamMissing):  # see _upstream_missing: this short-circuits
            requested = self.requested_now
            return {
                s
                for s in domain
                if any(u not in mats and (u not in requested or u[1] != s[1]) for u in ups(s))
            }
        if isinstance(node, UpstreamInProgress):
            return {s for s in domain if any(u in self.active for u in ups(s))}
        raise CatchmentError(f"automation cannot evaluate {type(node).__name__} nodes")

    def _upstream_news(self, s: Subject, since: int) -> list[Subject]:
        mats = self.mats
        mine = mats.get(s)
        return [
            u
            for u in self.subjects.upstream(s)
            if u in mats
            and mats[u].seq > since
            and (mine is None or is_newer(mine, u, mats[u]))
            and not self._run_targeted(mats[u].run_id, s)
        ]

    def _run_targeted(self, run_id: str, s: Subject) -> bool:
        """Whether run ``run_id`` (one that made new data), or the workspace run it is a
        project's batch of, also targeted ``s``."""
        run = self.news_runs.get(run_id)
        if run is None:
            return False
        if s[0] in self._targets(run) and (
            s[1] is None or not run.partition_keys or s[1] in run.partition_keys
        ):
            return True
        parent = run.tags.get(WORKSPACE_RUN_TAG)
        return parent is not None and parent != run_id and self._run_targeted(parent, s)

    def _upstream_requested(self, s: Subject) -> list[Subject]:
        """The upstream subjects of ``s`` requested by this evaluation that share its run:
        the same partition key (or both unpartitioned), which ``_requests`` puts together."""
        requested = self.requested_now
        return [u for u in self.subjects.upstream(s) if u in requested and u[1] == s[1]]

    def _upstream_missing(self, s: Subject) -> list[Subject]:
        """The upstream subjects of ``s`` never materialized, but those requested by this
        evaluation into the run of ``s`` (a run of its own would race the upstream's)."""
        mats, requested = self.mats, self.requested_now
        return [
            u
            for u in self.subjects.upstream(s)
            if u not in mats and (u not in requested or u[1] != s[1])
        ]

    def _failed_check(self, node: CheckFailed, key: AssetKey) -> CheckRecord | None:
        names = (
            [node.check]
            if node.check is not None
            else [c.name for c in self.graph.checks_for(key) if c.name != FRESHNESS_CHECK]
        )
        for name in names:
            record = self.checks.get((key, name))
            if record is not None and not record.passed:
                return record
        return None

    def _cron(self, node: CronTickPassed) -> tuple[bool, datetime | None]:
        found = self.cron_cache.get((node.cron, node.timezone))
        if found is None:
            since = self.previous.evaluated_at
            if since is None:
                found = (False, None)
            else:
                tick = CronSchedule(node.cron, node.timezone).next_after(since)
                found = (tick <= self.now, tick)
            self.cron_cache[(node.cron, node.timezone)] = found
        return found

    # -- explaining a decision ----------------------------------------------------------------
    def _why(
        self,
        node: AutomationCondition,
        path: str,
        s: Subject,
        values: dict[str, set[Subject]],
    ) -> list[str]:
        if isinstance(node, Prebuilt):
            return self._why(node.condition, f"{path}.0", s, values)
        if isinstance(node, And | Or):
            out: list[str] = []
            for i, c in enumerate(node.children):
                if not isinstance(c, Not):
                    out.extend(self._why(c, f"{path}.{i}", s, values))
            return out
        if isinstance(node, Not):
            return []
        if isinstance(node, Since):
            if node_value(node.trigger, f"{path}.0", lambda p: s in values.get(p, ())):
                return self._why(node.trigger, f"{path}.0", s, values)
            return [f"{node.trigger} was true at an earlier evaluation, not handled since"]
        if isinstance(node, NewlyTrue):
            return self._why(node.child, f"{path}.0", s, values)
        if s not in values.get(path, ()):
            return []
        return [f"{node}: {self.detail(node, s)}"]

    def detail(self, node: AutomationCondition, s: Subject) -> str:
        """What made the operand ``node`` true for ``s``, in a few words."""
        mats, label = self.mats, subject_label
        if isinstance(node, Missing):
            return "never materialized" if s[1] is None else f"partition {s[1]} never materialized"
        if isinstance(node, Stale):
            status = (self.statuses or {}).get(s)
            return "; ".join(status.reasons) if status and status.reasons else "missing"
        if isinstance(node, CodeChanged):
            old = mats[s].code_version
            return f"code version {old} -> {self.graph.specs[s[0]].code_version}"
        if isinstance(node, SourceChanged):
            return self._source_change(s) or "a source changed"
        if isinstance(node, CronTickPassed):
            tick = self._cron(node)[1]
            return f"tick {tick:%Y-%m-%d %H:%M %Z} passed" if tick else "a tick passed"
        if isinstance(node, UpstreamUpdated):
            ups = [
                u for u in self.subjects.upstream(s) if u in mats and is_newer(mats[s], u, mats[u])
            ]
            return ", ".join(f"{label(u)} has newer data" for u in ups)
        if isinstance(node, UpstreamNewlyUpdated):
            news = self._upstream_news(s, self.previous.cursor or 0)
            return ", ".join(f"{label(u)} materialized by run {mats[u].run_id[:8]}" for u in news)
        if isinstance(node, NewlyUpdated):
            return f"materialized by run {mats[s].run_id[:8]}"
        if isinstance(node, NewlyRequested):
            return "requested by the previous evaluation"
        if isinstance(node, InProgress):
            return f"run {self.active[s][:8]}"
        if isinstance(node, Failed):
            f = self.failures[s]
            return f"run {f.run_id[:8]} failed" + (f": {f.message}" if f.message else "")
        if isinstance(node, CheckFailed):
            record = self._failed_check(node, s[0])
            return f"check {record.check_name} failed in run {record.run_id[:8]}" if record else ""
        if isinstance(node, UpstreamWillBeRequested):
            asked = ", ".join(label(u) for u in self._upstream_requested(s))
            return f"{asked} requested in this evaluation"
        if isinstance(node, UpstreamMissing):
            missing = self._upstream_missing(s)
            return ", ".join(f"{label(u)} never materialized" for u in missing)
        if isinstance(node, UpstreamInProgress):
            busy = [u for u in self.subjects.upstream(s) if u in self.active]
            return ", ".join(f"{label(u)} in run {self.active[u][:8]}" for u in busy)
        return ""

    # -- the result ---------------------------------------------------------------------------
    def result(self) -> EvaluationResult:
        requested: dict[str, list[str]] = {}
        for key, parts in self.by_asset.items():
            requested[str(key)] = [_part(p) for p in parts]
        state = AutomationState(
            evaluated_at=self.now.timestamp(),
            cursor=self.cursor,
            requested=requested,
            memory=dict(sorted(self.memory.items())),
        )
        return EvaluationResult(
            evaluated_at=self.now.timestamp(),
            state=state,
            run_requests=self._requests(),
            decisions=self.decisions,
            conditions={cid: str(c) for c, cid in self.ids.items()},
            values=self.values,
            assets=len(self.targets),
            subjects=self.domain_size,
            problems=self.problems,
        )

    def _requests(self) -> list[RunRequest]:
        """One run per set of assets requested for the same partitions, upstream runs first:
        every asset requested for one partition key (or unpartitioned) shares that key's run,
        so an eager chain asked by ``upstream_will_be_requested`` runs in its upstream's run.
        Keys requested for the same assets go into one run, as ``apply`` groups them."""
        by_part: dict[str | None, list[AssetKey]] = {}
        for key, wanted in self.by_asset.items():  # in evaluation order: upstream first
            for part in wanted:
                by_part.setdefault(part, []).append(key)
        groups: dict[tuple[AssetKey, ...], list[str | None]] = {}
        for part, asked in by_part.items():
            groups.setdefault(tuple(asked), []).append(part)
        out: list[tuple[tuple[int, tuple[str, ...]], RunRequest]] = []
        for keys, parts in groups.items():
            order = {p: i for i, p in enumerate(self.subjects.domain(keys[0]))}
            ordered = tuple(p for p in sorted(parts, key=order.__getitem__) if p is not None)
            first_gen = min(self.generation.get(k, 0) for k in keys)
            shown = ", ".join(str(k) for k in sorted(keys)[:3])
            more = f" and {len(keys) - 3} more" if len(keys) > 3 else ""
            request = RunRequest.for_assets(
                keys,
                partition_keys=ordered,
                origin="automation",
                tags={"origin": "automation"},
                reason=f"automation conditions of {shown}{more}",
            )
            out.append(((first_gen, ordered), request))
        return [request for _, request in sorted(out, key=lambda item: item[0])]

"""The Python API: ``materialize(definitions)`` for tests and notebooks, and
``run_project(project)`` for the CLI."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from catchment.errors import ExecutionError
from catchment.events import Event, EventType
from catchment.execution.context import io_manager_for, upstream_partitions
from catchment.execution.engine import Engine, EventCallback, HookRelay
from catchment.execution.executors import Executor, executor_for
from catchment.execution.plan import Plan, build_plan
from catchment.execution.step import StepRuntime
from catchment.io import InputContext, IOManager
from catchment.keys import AssetKey, CoercibleToKey
from catchment.results import CheckResult
from catchment.specs import RetryPolicy

if TYPE_CHECKING:
    from catchment.components import ProjectDefaults
    from catchment.definitions import AssetsDefinition
    from catchment.graph import AssetGraph
    from catchment.project import Project
    from catchment.storage import Storage


@dataclass
class ExecutionResult:
    """The outcome of a run: its events, and the values of what it materialized."""

    run_id: str
    success: bool
    status: str
    events: list[Event]
    plan: Plan
    graph: AssetGraph = field(repr=False)
    io_managers: Mapping[str, IOManager] = field(repr=False, default_factory=dict)

    @property
    def materializations(self) -> list[Event]:
        """The ``materialization`` events, in order."""
        return [e for e in self.events if e.type is EventType.MATERIALIZATION]

    @property
    def check_results(self) -> list[CheckResult]:
        """Every check evaluation of the run, as ``CheckResult``."""
        return [
            CheckResult(
                asset_key=AssetKey(e.asset_key or ""),
                check_name=e.data["check_name"],
                passed=e.data["passed"],
                severity=e.data.get("severity"),
                description=e.data.get("description"),
                metadata=e.data.get("metadata") or {},
            )
            for e in self.events
            if e.type is EventType.CHECK_EVALUATED
        ]

    @property
    def failures(self) -> list[Event]:
        """``asset_failed`` and ``step_failed`` events."""
        kinds = (EventType.ASSET_FAILED, EventType.STEP_FAILED)
        return [e for e in self.events if e.type in kinds]

    @property
    def materialized_keys(self) -> list[AssetKey]:
        """The keys materialized, each once, in the order they were."""
        return list(dict.fromkeys(AssetKey(e.asset_key or "") for e in self.materializations))

    def status_of(self, key: CoercibleToKey) -> str:
        """``success``, ``failed``, ``skipped`` or ``not run`` for one asset of this run."""
        name = AssetKey.parse(key).to_string()
        status = "not run"
        for e in self.events:
            if e.asset_key != name:
                continue
            if e.type is EventType.MATERIALIZATION:
                status = "success"
            elif e.type is EventType.ASSET_FAILED:
                status = "failed"
            elif e.type is EventType.ASSET_SKIPPED:
                status = "skipped"
        return status

    def output_for(self, key: CoercibleToKey, partition: str | None = None) -> Any:
        """Load ``key``'s value through its IO manager (``partition`` for one partition)."""
        k = AssetKey.parse(key)
        spec = self.graph.specs.get(k)
        if spec is None:
            raise ExecutionError(f"no asset {k} in this run's graph", where=f"run {self.run_id}")
        parts = (partition,) if partition else self.plan.partition_keys
        context = InputContext(
            key=k, spec=spec, partition_keys=upstream_partitions(self.graph, None, spec, parts)
        )
        return io_manager_for(spec, self.io_managers, f"run {self.run_id}").load_input(context)


def _raise_failure(result: ExecutionResult) -> None:
    lines = []
    for e in result.failures:
        if e.type is EventType.STEP_FAILED and any(
            f.type is EventType.ASSET_FAILED and f.step_key == e.step_key for f in result.failures
        ):
            continue
        what = f"asset {e.asset_key}" if e.asset_key else f"step {e.step_key}"
        where = f" ({e.data.get('where')})" if e.data.get("where") else ""
        lines.append(f"{what}: {e.data.get('error_class')}: {e.data.get('message')}{where}")
    failed_checks = [
        f"check {c.asset_key}:{c.check_name} failed"
        for c in result.check_results
        if not c.passed and c.severity == "error"
    ]
    summary = "; ".join([*lines, *failed_checks][:5]) or result.status
    raise ExecutionError(
        f"the run failed: {summary}",
        where=f"run {result.run_id}",
        hint="pass raise_on_failure=False to inspect result.failures",
    )


def _io_tables(io_managers: Mapping[str, IOManager]) -> Callable[[Any], Any]:
    def table_of(spec: Any) -> Any:
        manager = io_managers.get(spec.io_manager_key or "default")
        table_for = getattr(manager, "table_for", None)
        return table_for(spec.key) if table_for is not None else None

    return table_of


def materialize(
    definitions: Iterable[AssetsDefinition],
    *,
    selection: str | Iterable[CoercibleToKey] | None = None,
    resources: Mapping[str, Any] | None = None,
    io_managers: Mapping[str, IOManager] | None = None,
    partition: str | Sequence[str] | None = None,
    storage: Storage | None = None,
    raise_on_failure: bool = True,
    hooks: HookRelay | None = None,
    retry: RetryPolicy | None = None,
    stop_on_failed_checks: bool = True,
    on_event: EventCallback | None = None,
    executor: Executor | None = None,
) -> ExecutionResult:
    """Run ``definitions`` in this process and return the events and output values.

    Defaults suit tests: values live in a ``MemoryIOManager`` ("default") and records in a
    throwaway in-memory SQLite store. ``raise_on_failure`` turns a failed run into an
    ``ExecutionError`` naming what failed. ``executor`` swaps the in-process default (e.g.
    ``MultiprocessExecutor(2)`` with a filesystem IO manager).
    """
    from catchment.graph import AssetGraph
    from catchment.io_managers import MemoryIOManager
    from catchment.storage.sqlite import SqliteStorage

    managers: dict[str, IOManager] = dict(io_managers or {})
    managers.setdefault("default", MemoryIOManager())
    graph = AssetGraph.build(definitions, io_tables=_io_tables(managers))
    plan = build_plan(graph, selection, partition=partition)
    runtime = StepRuntime(
        graph=graph,
        resources=dict(resources or {}),
        io_managers=managers,
        default_retry=retry,
    )
    own_storage = storage is None
    store: Storage = storage if storage is not None else SqliteStorage(":memory:")
    try:
        outcome = Engine(
            plan,
            runtime,
            store,
            executor or executor_for(1),
            hooks=hooks,
            on_event=on_event,
            stop_on_failed_checks=stop_on_failed_checks,
        ).run()
    finally:
        if own_storage:
            store.close()
    result = ExecutionResult(
        run_id=outcome.run_id,
        success=outcome.success,
        status=outcome.status,
        events=outcome.events,
        plan=plan,
        graph=graph,
        io_managers=managers,
    )
    if raise_on_failure and not result.success:
        _raise_failure(result)
    return result


def open_project_storage(project: Project | ProjectDefaults) -> Storage:
    """The project's run store, with runs of dead processes marked abandoned."""
    from catchment.components import ProjectDefaults
    from catchment.storage import open_storage

    defaults = project if isinstance(project, ProjectDefaults) else project.defaults
    storage = open_storage(defaults.storage_url)
    storage.mark_abandoned_runs()
    return storage


def runtime_for_project(project: Project, *, retry: RetryPolicy | None = None) -> StepRuntime:
    """A ``StepRuntime`` from a loaded project (what any worker of it needs)."""
    return StepRuntime(
        graph=project.require_graph(),
        resources=project.resources,
        io_managers=project.io_managers,
        project_root=project.root,
        warehouse=project.defaults.warehouse,
        default_retry=retry,
    )


def run_project(
    project: Project,
    selection: str | Iterable[CoercibleToKey] | None = None,
    partition: str | Sequence[str] | None = None,
    workers: int | None = None,
    *,
    storage: Storage | None = None,
    executor: Executor | None = None,
    on_event: EventCallback | None = None,
    parent_run_id: str | None = None,
    extra_checks: Iterable[str] = (),
    stop_on_failed_checks: bool = True,
    tags: dict[str, str] | None = None,
    plan: Plan | None = None,
) -> ExecutionResult:
    """Plan and run ``selection`` of a loaded project, recording to its run store."""
    runtime = runtime_for_project(project)
    if plan is None:
        plan = build_plan(runtime.graph, selection, partition=partition, extra_checks=extra_checks)
    store = storage if storage is not None else open_project_storage(project)
    try:
        outcome = Engine(
            plan,
            runtime,
            store,
            executor or executor_for(workers),
            hooks=project.hooks,
            on_event=on_event,
            stop_on_failed_checks=stop_on_failed_checks,
            parent_run_id=parent_run_id,
            tags=tags,
        ).run()
    finally:
        if storage is None:
            store.close()
    return ExecutionResult(
        run_id=outcome.run_id,
        success=outcome.success,
        status=outcome.status,
        events=outcome.events,
        plan=plan,
        graph=runtime.graph,
        io_managers=runtime.io_managers,
    )


run = run_project

"""The Python API: ``materialize(definitions)`` runs definitions in this process, for tests and
notebooks."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from catchment.dynamic import bind_dynamic_partitions
from catchment.errors import ExecutionError
from catchment.events import EventType
from catchment.execution.engine import Engine, EventCallback, HookRelay
from catchment.execution.executors import Executor, executor_for
from catchment.execution.plan import build_plan
from catchment.execution.result import ExecutionResult
from catchment.execution.step import StepRuntime
from catchment.io import IOManager
from catchment.keys import CoercibleToKey
from catchment.specs import RetryPolicy

if TYPE_CHECKING:
    from catchment.definitions import AssetsDefinition
    from catchment.storage import Storage

__all__ = ["ExecutionResult", "materialize"]


def _raise_failure(result: ExecutionResult) -> None:
    lines = []
    for e in result.failures:
        if e.type is EventType.STEP_FAILED and any(
            f.type is EventType.ASSET_FAILED and f.step_key == e.step_key for f in result.failures
        ):
            continue
        what = f"asset {e.asset_key}" if e.asset_key else f"step {e.step_key}"
        failure = e.failure
        where = f" ({failure.where})" if failure.where else ""
        lines.append(f"{what}: {failure.error_class}: {failure.message}{where}")
    failed_checks = [
        f"check {c.asset_key}:{c.check_name} failed"  # a run's check results all name their asset
        for c in result.check_results
        if not c.passed and c.severity == "error"
    ]
    # a partitioned asset fails once per partition, with the same cause: say it once
    summary = "; ".join(list(dict.fromkeys([*lines, *failed_checks]))[:5]) or result.status
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
    own_storage = storage is None
    store: Storage = storage if storage is not None else SqliteStorage(":memory:")
    try:
        bind_dynamic_partitions(graph, store)
        plan = build_plan(graph, selection, partition=partition)
    except BaseException:
        if own_storage:
            store.close()
        raise
    runtime = StepRuntime(
        graph=graph,
        resources=dict(resources or {}),
        io_managers=managers,
        default_retry=retry,
    )
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

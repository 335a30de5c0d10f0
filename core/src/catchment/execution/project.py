"""Running a loaded project (what the CLI and the conformance kit do): its step runtime, its
run store (dynamic partition keys bound from it), and ``run_project``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from catchment.dynamic import bind_dynamic_partitions
from catchment.execution.choose import executor_for_project
from catchment.execution.engine import Engine, EventCallback
from catchment.execution.executors import Executor
from catchment.execution.plan import Plan, build_plan
from catchment.execution.result import ExecutionResult
from catchment.execution.step import StepRuntime
from catchment.keys import CoercibleToKey
from catchment.specs import RetryPolicy

if TYPE_CHECKING:
    from catchment.components import ProjectDefaults
    from catchment.project import Project
    from catchment.snapshot import ReadOnlyProject
    from catchment.storage import Storage


def open_project_storage(project: Project | ReadOnlyProject | ProjectDefaults) -> Storage:
    """The project's run store, with runs of dead processes marked abandoned."""
    from catchment.components import ProjectDefaults
    from catchment.storage import StorageError, open_storage

    defaults = project if isinstance(project, ProjectDefaults) else project.defaults
    if defaults.storage_problem is not None:
        raise StorageError(
            f"the configured run store cannot be used: {defaults.storage_problem}",
            hint="fix defaults.storage in catchment.yaml (or its environment variable); "
            "catchment never records runs anywhere else instead",
        )
    storage = open_storage(defaults.storage_url)
    storage.mark_abandoned_runs()
    graph = getattr(project, "graph", None)
    if graph is not None:
        bind_dynamic_partitions(graph, storage)
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
        default_timeout=project.defaults.timeout,
        pools=project.defaults.queue.pools,
        pool_lease_seconds=project.defaults.queue.pool_lease_seconds,
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
    run_id: str | None = None,
) -> ExecutionResult:
    """Plan and run ``selection`` of a loaded project, recording to its run store, with the
    versions of the external sources it reads observed before and what it built after (every
    run path: the CLI, queued runs the daemon or the queue launch, workspace workers).
    ``run_id`` runs under an id already claimed (a queued run, see ``catchment.runs``)."""
    runtime = runtime_for_project(project)
    store = storage if storage is not None else open_project_storage(project)
    try:
        if storage is not None:
            bind_dynamic_partitions(runtime.graph, store)
        if plan is None:
            plan = build_plan(
                runtime.graph, selection, partition=partition, extra_checks=extra_checks
            )
    except BaseException:
        if storage is None:
            store.close()
        raise
    from catchment.execution.observing import observe_materialized, observe_sources

    try:
        observe_sources(project, store, plan.asset_keys)  # the source versions it reads
        outcome = Engine(
            plan,
            runtime,
            store,
            executor or executor_for_project(project, workers=workers),
            hooks=project.hooks,
            on_event=on_event,
            stop_on_failed_checks=stop_on_failed_checks,
            parent_run_id=parent_run_id,
            tags=tags,
            run_id=run_id,
        ).run()
        observe_materialized(project, store, outcome.run_id)  # the baseline drift is judged on
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

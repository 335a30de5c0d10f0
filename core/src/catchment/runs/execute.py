"""``catchment runs execute RUN_ID``: claim a queued run and carry it out in this process.

The claim (``queued`` -> ``started`` with this pid and host) is one transaction, so of two
processes launched for one run only one runs it. From the claim on, the run has a pid the
record store can check: if this process dies, the run is marked abandoned as any other.
A project that no longer loads or a request that no longer plans fails the run with the
reason recorded, never leaves it hanging.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from catchment.errors import CatchmentError
from catchment.events import Event, EventType
from catchment.storage import RunRecord, RunStatus, Storage
from catchment.storage.base import HOSTNAME

if TYPE_CHECKING:
    from catchment.execution.engine import EventCallback
    from catchment.execution.result import ExecutionResult
    from catchment.graph import AssetGraph
    from catchment.project import Project


class RunNotQueued(CatchmentError):
    """The run is not (or no longer) waiting for a process."""


def claim(storage: Storage, run_id: str) -> RunRecord:
    """Claim queued run ``run_id`` for this process, or raise ``RunNotQueued`` saying who
    has it."""
    run = storage.get_run(run_id)
    if run is None:
        raise CatchmentError(
            f"no run {run_id!r} in the run store", hint="run `catchment runs list --status queued`"
        )
    if run.status in ("queued", "starting") and storage.claim_run(
        run_id, os.getpid(), HOSTNAME, time.time()
    ):
        claimed = storage.get_run(run_id)
        assert claimed is not None
        return claimed
    now = storage.get_run(run_id) or run
    where = f" by pid {now.pid} on {now.host}" if now.pid is not None else ""
    raise RunNotQueued(
        f"run {run_id} is {now.status}{where}, not queued",
        hint="a queued run is executed once; `catchment runs retry` re-runs a finished one",
    )


def hear_cancels() -> None:
    """Make SIGINT interrupt this process again when it was started with SIGINT ignored (a
    background job of a non-interactive shell, a test runner's worker): a cancel (``runs
    cancel``, ``backfill cancel``, the UI) is a SIGINT, and would otherwise go unheard until the
    engine installs its own handler, letting a run canceled while its project loads succeed."""
    import signal
    import threading

    main = threading.current_thread() is threading.main_thread()
    if main and signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def fail_claimed(storage: Storage, run: RunRecord, error: CatchmentError | BaseException) -> None:
    """Record that a claimed run could not start: the project or its plan is broken
    (failure), or it was interrupted before its engine started (canceled)."""
    status: RunStatus = "canceled" if isinstance(error, KeyboardInterrupt) else "failure"
    message = (
        str(error)
        if isinstance(error, CatchmentError)
        else "interrupted before it started"
        if status == "canceled"
        else f"{type(error).__name__}: {error}"
    )
    storage.append_events(
        [
            Event(
                run_id=run.run_id,
                type=EventType.RUN_FINISHED,
                data={"status": status, "error": message},
            )
        ]
    )
    storage.update_run_status(run.run_id, status)


def selected_keys(graph: AssetGraph, run: RunRecord) -> list[str]:
    """The assets a queued run asks for: its selection expression and its explicit keys."""
    from catchment.keys import AssetKey

    keys = {k.to_string() for k in graph.select(run.selection)} if run.selection else set()
    for name in run.asset_keys:
        key = AssetKey.parse(name)
        if key not in graph:
            raise CatchmentError(
                f"the run asks for asset {key}, which is not in the project",
                where=f"run {run.run_id}",
                hint="the project changed since the run was requested",
            )
        keys.add(key.to_string())
    if not run.selection and not run.asset_keys:
        keys = {k.to_string() for k in graph.select(None)}
    return sorted(keys)


def execute_run(
    project_path: Path | str | None,
    run_id: str,
    *,
    on_event: EventCallback | None = None,
    load: Callable[[Path | str | None], Project] | None = None,
) -> ExecutionResult:
    """Claim queued run ``run_id`` and run it to the end in this process."""
    hear_cancels()
    from catchment.dynamic import bind_dynamic_partitions
    from catchment.execution.plan import build_plan
    from catchment.execution.project import open_project_storage, run_project
    from catchment.project import load_defaults, load_project
    from catchment.runs.retry import RESUME_TAG, done_before

    storage = open_project_storage(load_defaults(project_path))
    try:
        run = claim(storage, run_id)
        try:
            project = (load or load_project)(project_path)
            graph = project.require_graph()
            bind_dynamic_partitions(graph, storage)  # keys a sensor may just have added
            keys = selected_keys(graph, run)
            if run.parent_run_id is not None and RESUME_TAG in run.tags:
                done = done_before(storage, run)
                keys = [k for k in keys if k not in done]
            plan = build_plan(
                graph,
                keys,
                partition=(run.partition_keys or None) if keys else None,  # all done before
                extra_checks=run.check_ids,
            )
        except (Exception, KeyboardInterrupt) as exc:
            fail_claimed(storage, run, exc)
            raise
        try:
            return run_project(
                project,
                plan=msgspec.structs.replace(plan, selection=run.selection),
                storage=storage,
                run_id=run.run_id,
                tags=dict(run.tags),
                parent_run_id=run.parent_run_id,
                on_event=on_event,
            )
        except (Exception, KeyboardInterrupt) as exc:
            # before its engine started (observing the sources it reads), nothing ended it
            if not storage.events_for_run(run.run_id, [EventType.RUN_FINISHED]):
                fail_claimed(storage, run, exc)
            raise
    finally:
        storage.close()

"""`catchment materialize`: run a selection, with live progress and a summary."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import typer

from catchment.cli.common import (
    EXECUTOR_OPTION_HELP,
    PROJECT_OPTION_HELP,
    allow_broken_option,
    load_for_run,
    parse_tags,
    run_with_display,
)

if TYPE_CHECKING:
    from catchment.runs.request import RunRequest
    from catchment.storage import Storage

HELP = """Materialize the selected assets (all by default).

Plans the steps, runs them in dependency order and records every event in the project's run
store.

Selection syntax: key:raw/orders, group:marts, tag:team=sales, kind:dbt, owner:ana@x.com,
+orders (with upstream), orders+ (with downstream), and/or/not.

Exit code 1 when any asset fails or an error-severity check fails, and when parts of the
project did not load (nothing runs; --allow-broken runs what loaded).

Examples:

  catchment materialize

  catchment materialize -s '+marts/orders'

  catchment materialize -s daily_sales --partition 2024-01-01...2024-01-31 --workers 2

  catchment materialize -s '+marts/orders' --json | jq .status

With --json there is no live display and no summary: stdout holds one JSON document, the
finished run as `catchment runs show RUN --json` prints it ({"run_id", "status", "run",
"events"}), also when the run failed (exit code 1 as without --json). Progress lines go to
stderr. With --queue it is the queued run (status "queued", and its "queue_position"); when
nothing is selected it is {"run_id": null, "status": "nothing selected", "run": null,
"events": []}. On a workspace, which records one run per project, it is {"status", "runs",
"skipped", "errors"}: "status" is "success", "failure", "canceled", "queued" or "nothing
selected", and each project run is one of "runs" as `runs show RUN --json` prints it.

In a folder holding catchment.workspace.yaml (or with -p naming one) it acts on the whole
workspace: every project in its own Python environment.
"""


def materialize(
    select: str | None = typer.Option(None, "-s", "--select", help="Selection expression."),
    partition: str | None = typer.Option(
        None, "--partition", help="A partition key, or a range START...END."
    ),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Parallel worker processes."),
    executor: str | None = typer.Option(None, "--executor", help=EXECUTOR_OPTION_HELP),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
    no_check_blocking: bool = typer.Option(
        False,
        "--no-check-blocking",
        help="Run downstream assets even when a blocking error-severity check failed.",
    ),
    queue: bool = typer.Option(
        False, "--queue", help="Queue the run for the daemon (limits, priorities) instead."
    ),
    priority: int = typer.Option(0, "--priority", help="With --queue: higher starts first."),
    tag: list[str] = typer.Option(
        [], "--tag", help="With --queue: a run tag KEY=VALUE (tag limits use them)."
    ),
    allow_broken: bool = allow_broken_option(),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print the finished run as JSON on stdout (as `runs show RUN --json`) instead "
        "of the live display and summary; same exit code.",
    ),
) -> None:
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is not None:
        from catchment.workspace.cli import materialize as materialize_workspace

        queued = (priority, parse_tags(tag)) if queue else None
        materialize_workspace(workspace, select, partition, allow_broken, queued, as_json)
        return
    from catchment.execution.plan import build_plan
    from catchment.execution.project import open_project_storage

    project = load_for_run(project_path, allow_broken=allow_broken)
    graph = project.require_graph()
    storage = open_project_storage(project)  # first: it binds dynamic partition keys
    try:
        plan = build_plan(graph, select, partition=partition)
        if not plan.steps:
            if as_json:
                from catchment.cli.runs_cmd import nothing_to_run_json

                nothing_to_run_json("nothing selected")
            else:
                typer.echo("nothing selected")
            if any(p.kind != "adapter" for p in project.problems):
                raise typer.Exit(1)  # what would have been selected did not load
            return
        if queue:
            _queue_run(storage, select, plan.partition_keys, priority, tag, as_json=as_json)
            return
        result = run_with_display(
            project,
            storage,
            plan,
            workers=workers,
            executor_option=executor,
            stop_on_failed_checks=not no_check_blocking,
            as_json=as_json,
        )
    finally:
        storage.close()
    if not result.success:
        raise typer.Exit(1)


def _queue_run(
    storage: Storage,
    select: str | None,
    partitions: tuple[str, ...],
    priority: int,
    tags: list[str],
    *,
    as_json: bool = False,
) -> None:
    """Record the run as queued (the daemon starts it under the limits) and say where."""
    from catchment.runs.request import RunRequest

    request = RunRequest(
        selection=select,
        partition_keys=partitions,
        priority=priority,
        tags=parse_tags(tags),
        origin="cli",
        reason="catchment materialize --queue",
    )
    submit_and_tell(storage, request, as_json=as_json)


def submit_and_tell(storage: Storage, request: RunRequest, *, as_json: bool = False) -> str:
    """Queue ``request`` for the daemon and print the run's id and place in the queue (with
    ``as_json``: the queued run as ``runs show RUN --json`` prints it, and its
    ``queue_position``)."""
    from catchment.runs.submit import submit_run

    run_id = submit_run(storage, request).run_id
    place = next((e.position for e in storage.queue_entries() if e.run_id == run_id), None)
    if as_json:
        from catchment.cli.runs_cmd import echo_run_json

        echo_run_json(storage, run_id, queue_position=place)
    else:
        typer.echo(f"queued run {run_id} (position {place}); the daemon starts it")
    return run_id


def register(app: typer.Typer) -> None:
    """Add ``catchment materialize``."""
    app.command("materialize", help=HELP)(materialize)

"""`catchment materialize`: run a selection, with live progress and a summary."""

from __future__ import annotations

from pathlib import Path

import typer

from catchment.cli.common import (
    EXECUTOR_OPTION_HELP,
    PROJECT_OPTION_HELP,
    load_for_run,
    run_with_display,
)

HELP = """Materialize the selected assets (all by default).

Plans the steps, runs them in dependency order and records every event in the project's run
store.

Selection syntax: key:raw/orders, group:marts, tag:team=sales, kind:dbt, owner:ana@x.com,
+orders (with upstream), orders+ (with downstream), and/or/not.

Exit code 1 when any asset fails or an error-severity check fails.

Examples:

  catchment materialize

  catchment materialize -s '+marts/orders'

  catchment materialize -s daily_sales --partition 2024-01-01...2024-01-31 --workers 2
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
) -> None:
    from catchment.execution.plan import build_plan
    from catchment.execution.project import open_project_storage

    project = load_for_run(project_path)
    graph = project.require_graph()
    storage = open_project_storage(project)  # first: it binds dynamic partition keys
    try:
        plan = build_plan(graph, select, partition=partition)
        if not plan.steps:
            typer.echo("nothing selected")
            return
        result = run_with_display(
            project,
            storage,
            plan,
            workers=workers,
            executor_option=executor,
            stop_on_failed_checks=not no_check_blocking,
        )
    finally:
        storage.close()
    if not result.success:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``catchment materialize``."""
    app.command("materialize", help=HELP)(materialize)

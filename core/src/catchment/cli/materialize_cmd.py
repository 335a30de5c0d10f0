"""`catchment materialize`: run a selection, with live progress and a summary."""

from __future__ import annotations

from pathlib import Path

import typer

from catchment.cli.common import (
    PROJECT_OPTION_HELP,
    allow_broken_option,
    load_for_run,
    run_with_display,
)

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
"""


def materialize(
    select: str | None = typer.Option(None, "-s", "--select", help="Selection expression."),
    partition: str | None = typer.Option(
        None, "--partition", help="A partition key, or a range START...END."
    ),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Parallel worker processes."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
    no_check_blocking: bool = typer.Option(
        False,
        "--no-check-blocking",
        help="Run downstream assets even when a blocking error-severity check failed.",
    ),
    allow_broken: bool = allow_broken_option(),
) -> None:
    from catchment.execution.plan import build_plan
    from catchment.execution.project import open_project_storage

    project = load_for_run(project_path, allow_broken=allow_broken)
    graph = project.require_graph()
    storage = open_project_storage(project)  # first: it binds dynamic partition keys
    try:
        plan = build_plan(graph, select, partition=partition)
        if not plan.steps:
            typer.echo("nothing selected")
            if any(p.kind != "adapter" for p in project.problems):
                raise typer.Exit(1)  # what would have been selected did not load
            return
        result = run_with_display(
            project, storage, plan, workers=workers, stop_on_failed_checks=not no_check_blocking
        )
    finally:
        storage.close()
    if not result.success:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``catchment materialize``."""
    app.command("materialize", help=HELP)(materialize)

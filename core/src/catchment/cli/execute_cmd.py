"""`catchment runs execute RUN_ID`: carry out a queued run in this process (what the daemon
launches, detached, for every run it starts)."""

from __future__ import annotations

from pathlib import Path

import typer

from catchment.cli.common import PROJECT_OPTION_HELP

HELP = """Claim a queued run and execute it in this process.

The daemon (and later the run queue) starts each run this way, in a process of its own that
outlives the daemon. A run is claimed once: a second `execute` of the same run exits 1 and
says which process has it.

Examples:

  catchment runs execute 3f2a9c... --project examples/platform
"""


def execute(
    run_id: str = typer.Argument(..., help="The id of a queued run."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    from catchment.cli.display import RunDisplay
    from catchment.runs.execute import execute_run

    display = RunDisplay(0, tty=False)
    result = execute_run(project_path, run_id, on_event=display.on_event)
    display.summary(result)
    if not result.success:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add ``catchment runs execute``."""
    from catchment.cli.runs_cmd import runs_app

    runs_app.command("execute", help=HELP)(execute)

"""`catchment runs cancel` and `catchment pools list|set|delete`: act on the run queue and
the pool slot limits kept in the record store."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from catchment.cli.common import PROJECT_OPTION_HELP

if TYPE_CHECKING:
    from catchment.storage import RunRecord

pools_app = typer.Typer(
    name="pools",
    help="Pools: named slot limits on steps across all runs.\n\nExamples:\n\n"
    "  catchment pools list\n\n  catchment pools set warehouse 4\n\n"
    "  catchment pools delete warehouse",
    no_args_is_help=True,
)

CANCEL_HELP = """Cancel a run: a queued run is canceled at once; a running one is asked to stop
(SIGINT to its process, which records what it finished and ends as canceled).

Examples:

  catchment runs cancel 3f2a

  catchment runs cancel 3f2a --json
"""


def signal_run(run: RunRecord) -> bool:
    """Ask a run's process on this host to stop (SIGINT: the engine records what finished and
    ends the run canceled); False when it is elsewhere or already gone (the daemon then marks
    it canceled once its process is seen gone)."""
    from catchment.storage.base import HOSTNAME

    if run.pid is None or run.host != HOSTNAME:
        return False
    try:
        os.kill(run.pid, signal.SIGINT)
    except ProcessLookupError:
        return False
    return True


def cancel(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    from catchment.cli.runs_cmd import _open, resolve_run
    from catchment.errors import CatchmentError

    storage = _open(project_path)
    try:
        run = resolve_run(storage, run_id)
        status = storage.cancel_run(run.run_id, time.time(), reason="canceled from the CLI")
    finally:
        storage.close()
    if status is None:
        raise CatchmentError(
            f"run {run.run_id} has already ended ({run.status})",
            where="RUN_ID",
            hint="only queued, starting or started runs can be canceled",
        )
    signaled = status == "canceling" and signal_run(run)
    if as_json:
        payload = {"run_id": run.run_id, "status": status, "signaled": signaled}
        typer.echo(json.dumps(payload))
        return
    if status == "canceled":
        typer.echo(f"run {run.run_id} canceled (it had not started)")
    elif signaled:
        typer.echo(f"run {run.run_id} canceling: asked process {run.pid} to stop")
    else:
        typer.echo(f"run {run.run_id} canceling: its process on {run.host} stops it")


@pools_app.command("list")
def list_pools(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    """Every pool: its limit (set here, or the project's `pools:`; on a workspace: set here,
    or the workspace's `pools:`), slots in use and holders."""
    from catchment.cli.runs_cmd import _open
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is not None:
        from catchment.workspace.cli import pool_limits

        configured, notes = pool_limits(workspace)
        stored_from = "store"
    else:
        from catchment.project import load_defaults

        project = load_defaults(project_path).queue.pools
        configured, notes = {n: (v, "project") for n, v in project.items()}, []
        stored_from = "cli"
    storage = _open(project_path)
    try:
        stored = {p.name: p for p in storage.pools()}
    finally:
        storage.close()
    rows: list[dict[str, Any]] = []
    for name in sorted(set(stored) | set(configured)):
        info = stored.get(name)
        limit, source = configured.get(name, (None, None))
        if info is not None and info.limit is not None:
            limit, source = info.limit, stored_from
        holders = [f"{c.run_id[:8]}/{c.step_key} ({c.slots})" for c in info.claims] if info else []
        rows.append(
            {
                "pool": name,
                "limit": limit,
                "limit_from": source if limit is not None else None,
                "used": info.used if info is not None else 0,
                "holders": holders,
            }
        )
    for note in notes:
        typer.secho(f"note: {note}", err=True, fg="yellow")
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no pools: set one with `catchment pools set NAME SLOTS` or `pools:`")
        return
    for row in rows:
        usage = "no limit" if row["limit"] is None else f"{row['used']}/{row['limit']}"
        held = f"  held by {', '.join(row['holders'])}" if row["holders"] else ""
        typer.echo(f"{row['pool']:<20} {usage:<10} ({row['limit_from'] or '-'}){held}")


@pools_app.command("set")
def set_pool(
    name: str = typer.Argument(..., help="The pool's name."),
    slots: int = typer.Argument(..., min=0, help="Slots (0 holds every step that uses it)."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    """Set a pool's slot limit in the record store (it wins over the project's `pools:`, and
    on a workspace over the workspace's)."""
    from catchment.cli.runs_cmd import _open

    storage = _open(project_path)
    try:
        storage.set_pool(name, slots)
    finally:
        storage.close()
    typer.echo(f"pool {name}: {slots} slot(s)")


@pools_app.command("delete")
def delete_pool(
    name: str = typer.Argument(..., help="The pool's name."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    """Forget the limit set with `pools set` (the project's `pools:` value applies again)."""
    from catchment.cli.runs_cmd import _open

    storage = _open(project_path)
    try:
        found = storage.delete_pool(name)
    finally:
        storage.close()
    typer.echo(f"pool {name}: limit removed" if found else f"pool {name} had no stored limit")


def register(app: typer.Typer) -> None:
    """Add ``catchment runs cancel`` and ``catchment pools``."""
    from catchment.cli.runs_cmd import runs_app

    runs_app.command("cancel", help=CANCEL_HELP)(cancel)
    app.add_typer(pools_app, name="pools")

"""`catchment schedules list`, `catchment sensors list|preview` and `catchment ticks`: what the
daemon evaluates, when it next will, and what it decided."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from catchment.cli.common import NO_CACHE_OPTION_HELP, PROJECT_OPTION_HELP

if TYPE_CHECKING:
    from catchment.daemon.workspace import Workspace as DaemonView
    from catchment.project import Project
    from catchment.snapshot import ReadOnlyProject
    from catchment.storage import Storage
    from catchment.storage.control import TickRecord

schedules_app = typer.Typer(
    name="schedules",
    help="Cron schedules of the project.\n\nExamples:\n\n  catchment schedules list --json",
    no_args_is_help=True,
)
sensors_app = typer.Typer(
    name="sensors",
    help="Sensors of the project.\n\nExamples:\n\n  catchment sensors list\n\n"
    "  catchment sensors preview landing_files --json",
    no_args_is_help=True,
)

TICKS_HELP = """Show the daemon's ticks, newest first: what each sensor, schedule and
automation evaluation decided, why, and which runs it started.

Examples:

  catchment ticks

  catchment ticks --kind sensor --name landing_files --json
"""


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


def _declared(
    project_path: Path | None, no_cache: bool = False
) -> tuple[ReadOnlyProject | DaemonView, Storage]:
    """The project's schedules and sensors (from its definitions snapshot when current: no
    tool or user code imported; or, on a workspace, the daemon's view of every project's,
    read in its own environment) and its record store."""
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is None:
        return _read(project_path, no_cache)
    from catchment.workspace import open_workspace_storage
    from catchment.workspace.daemon import load_for_daemon

    view = load_for_daemon(workspace, no_cache=no_cache)
    for p in view.problems:
        typer.secho(f"warning: {p}", err=True, fg="yellow")
    return view, open_workspace_storage(workspace)


def _read(project_path: Path | None, no_cache: bool) -> tuple[ReadOnlyProject, Storage]:
    """The project for listing (from its snapshot when current) and its record store, with a
    warning for each problem, as ``_load`` gives them."""
    from catchment.cli.common import load_for_reading
    from catchment.execution.project import open_project_storage

    project = load_for_reading(project_path, no_cache)
    _warn_graph_problems(project)
    return project, open_project_storage(project)


def _warn_graph_problems(project: Project | ReadOnlyProject) -> None:
    for p in project.problems:
        if p.kind == "graph":
            typer.secho(f"warning: {p}", err=True, fg="yellow")


def _load(project_path: Path | None) -> tuple[Project, Storage]:
    from catchment.cli.common import load_for_run
    from catchment.execution.project import open_project_storage

    project = load_for_run(project_path, acting=False)
    _warn_graph_problems(project)
    return project, open_project_storage(project)


def tick_dict(tick: TickRecord) -> dict[str, Any]:
    """A tick as JSON-able data."""
    import msgspec

    data: dict[str, Any] = msgspec.to_builtins(tick)
    data["run_ids"] = list(tick.run_ids)
    return data


@schedules_app.command("list")
def list_schedules(
    next_ticks: int = typer.Option(3, "--next", "-n", help="How many next ticks to show."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
    no_cache: bool = typer.Option(False, "--no-cache", help=NO_CACHE_OPTION_HELP),
) -> None:
    """List schedules with their cron, target, next ticks and last tick."""
    from catchment.daemon.schedule_loop import cursor_name

    project, storage = _declared(project_path, no_cache)
    try:
        latest = storage.latest_ticks("schedule")
        cursors = storage.get_cursors([cursor_name(s.name) for s in project.schedules])
    finally:
        storage.close()
    now = time.time()
    rows: list[dict[str, Any]] = []
    for s in project.schedules:
        cron = s.cron_schedule()
        ticks, t = [], now
        for _ in range(next_ticks):
            moment = cron.next_after(t)
            ticks.append(moment.isoformat())
            t = moment.timestamp()
        last = latest.get(("schedule", s.name))
        handled = cursors.get(cursor_name(s.name))
        rows.append(
            {
                "name": s.name,
                "cron": s.cron,
                "timezone": s.timezone,
                "description": cron.describe(),
                "target": s.target,
                "partitions": s.partitions,
                "enabled": s.enabled,
                "next_ticks": ticks,
                "last_handled_tick": float(handled) if handled else None,
                "last_tick": tick_dict(last) if last else None,
                "source": s.source,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo(
            "no schedules (declare them under `schedules:` in catchment.yaml); assets on a "
            "cron through an `on_cron(...)` automation condition are listed by "
            "`catchment automation list`"
        )
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("schedule", "cron", "target", "next tick", "last tick")
    for r in rows:
        last = r["last_tick"]
        table.add_row(
            r["name"] + ("" if r["enabled"] else " (off)"),
            f"{r['cron']} {r['timezone']}",
            r["target"],
            r["next_ticks"][0] if r["next_ticks"] else "",
            f"{last['status']} {_when(last['started_at'])}" if last else "never",
        )
    Console(highlight=False).print(table)


@sensors_app.command("list")
def list_sensors(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
    no_cache: bool = typer.Option(False, "--no-cache", help=NO_CACHE_OPTION_HELP),
) -> None:
    """List sensors with their type, interval, target, cursor and last tick."""
    from catchment.daemon.sensor_loop import cursor_name

    project, storage = _declared(project_path, no_cache)
    try:
        latest = storage.latest_ticks("sensor")
        cursors = storage.get_cursors([cursor_name(s.name) for s in project.sensors])
    finally:
        storage.close()
    rows: list[dict[str, Any]] = []
    for s in project.sensors:
        last = latest.get(("sensor", s.name))
        rows.append(
            {
                "name": s.name,
                "type": s.type,
                "interval": s.interval,
                "timeout": s.timeout,
                "target": s.target,
                "enabled": s.enabled,
                "config": s.config,
                "function": s.function,
                "cursor": cursors.get(cursor_name(s.name)),
                "last_tick": tick_dict(last) if last else None,
                "source": s.source,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no sensors (declare them under `sensors:` in catchment.yaml)")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("sensor", "type", "every", "target", "last tick")
    for r in rows:
        last = r["last_tick"]
        table.add_row(
            r["name"] + ("" if r["enabled"] else " (off)"),
            r["type"],
            f"{r['interval']:g}s",
            r["target"],
            f"{last['status']} {_when(last['started_at'])}" if last else "never",
        )
    Console(highlight=False).print(table)


@sensors_app.command("preview")
def preview_sensor(
    name: str = typer.Argument(..., help="The sensor's name."),
    cursor: str | None = typer.Option(
        None, "--cursor", help="Evaluate from this cursor (default: the stored one)."
    ),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    """Evaluate a sensor once and show what it would request; nothing is run or stored.
    On a workspace name it PROJECT:NAME (`catchment sensors list`): its code runs in its
    project's environment and folder, as the workspace daemon runs it."""
    import msgspec

    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is not None:
        from catchment.workspace.cli import preview_sensor as preview_on_workspace

        outcome = preview_on_workspace(workspace, name, cursor)
    else:
        from catchment.daemon.preview import preview

        project, storage = _load(project_path)
        try:
            outcome = preview(project, storage, name, cursor)
        finally:
            storage.close()
    if as_json:
        data = {
            "sensor": name,
            "error": outcome.error,
            "result": msgspec.to_builtins(outcome.result) if outcome.result else None,
            "output": outcome.output,
        }
        typer.echo(json.dumps(data, indent=2))
    elif outcome.result is not None:
        result = outcome.result
        for r in result.run_requests:
            parts = f" [{', '.join(r.partition_keys)}]" if r.partition_keys else ""
            what = ", ".join([*r.asset_keys, *([r.selection] if r.selection else [])])
            typer.echo(f"would request {what}{parts} (run key {r.run_key}): {r.reason}")
        if not result.run_requests:
            typer.echo(f"no runs: {result.skip_reason or 'nothing new'}")
        for set_name, keys in result.dynamic_partitions.items():
            typer.echo(f"would add to {set_name}: {', '.join(keys)}")
        typer.echo(f"cursor: {result.cursor}")
    if outcome.error is not None:
        if not as_json:
            typer.secho(f"error: {outcome.error}", err=True, fg="red")
            if outcome.output.strip():
                typer.echo(outcome.output, err=True)
        raise typer.Exit(1)


def ticks(
    kind: str | None = typer.Option(
        None, "--kind", help="sensor, schedule, automation or freshness."
    ),
    name: str | None = typer.Option(None, "--name", help="Only this sensor / schedule."),
    status: str | None = typer.Option(
        None, "--status", help="success, skipped, failure, started or interrupted."
    ),
    limit: int = typer.Option(20, "--limit", "-n", help="How many ticks, newest first."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON (with each tick's body)."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    from catchment.workspace import find_workspace, open_workspace_storage

    workspace = find_workspace(project_path)
    if workspace is not None:  # the workspace daemon's ticks, in its shared store
        storage = open_workspace_storage(workspace)
    else:
        from catchment.execution.project import open_project_storage
        from catchment.project import load_defaults

        storage = open_project_storage(load_defaults(project_path))
    try:
        found = storage.list_ticks(
            kind=kind, name=name, limit=limit, statuses=[status] if status else None
        )
    finally:
        storage.close()
    if as_json:
        typer.echo(json.dumps([tick_dict(t) for t in found], indent=2))
        return
    if not found:
        typer.echo("no ticks recorded (is `catchment daemon` running?)")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    colors = {"success": "green", "failure": "red", "interrupted": "red", "skipped": "dim"}
    table = Table("tick", "kind", "name", "started", "status", "runs", "detail")
    for t in found:
        detail = t.error or str(t.body.get("reason") or "")
        table.add_row(
            str(t.tick_id),
            t.kind,
            t.name,
            _when(t.started_at),
            f"[{colors.get(t.status, 'default')}]{t.status}[/]",
            ", ".join(r[:12] for r in t.run_ids),
            escape(detail[:100]),
        )
    Console(highlight=False).print(table)


def register(app: typer.Typer) -> None:
    """Add ``catchment schedules``, ``catchment sensors`` and ``catchment ticks``."""
    app.add_typer(schedules_app, name="schedules")
    app.add_typer(sensors_app, name="sensors")
    app.command("ticks", help=TICKS_HELP)(ticks)

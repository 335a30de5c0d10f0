"""`catchment daemon`: run the control plane's loops (sensors, schedules, automation) for one
project until stopped."""

from __future__ import annotations

import signal
import time
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import typer

from catchment.cli.common import PROJECT_OPTION_HELP

if TYPE_CHECKING:
    from catchment.storage.control import TickRecord

HELP = """Run sensors, schedules and automation for the project, starting the runs they ask for.

One daemon acts per record store: a second one started on the same store waits and takes
over when the first stops or its lease lapses. Every tick is recorded (`catchment ticks`);
runs start in processes of their own and outlive the daemon. Stop it with Ctrl-C or SIGTERM.

Examples:

  catchment daemon

  catchment daemon --project examples/platform --catch-up 6h

In a folder holding catchment.workspace.yaml (or with -p naming one) it runs the schedules
and automation of every project over the merged graph, each run's assets in their projects'
own environments (each project's sensors run in its environment too).
"""


def _duration(value: str, option: str) -> float:
    from catchment.errors import CatchmentError
    from catchment.project.control import parse_duration

    try:
        return parse_duration(value, option)
    except ValueError as exc:
        raise CatchmentError(str(exc), where=option, hint="write e.g. 30s, 5m, 1h") from None


def _show(tick: TickRecord) -> None:
    when = time.strftime("%H:%M:%S", time.localtime(tick.started_at))
    runs = f" -> {len(tick.run_ids)} run(s): {', '.join(r[:12] for r in tick.run_ids)}"
    detail = tick.error or tick.body.get("reason") or ""
    line = f"{when} {tick.kind} {tick.name} {tick.status}{runs if tick.run_ids else ''}"
    color = {"failure": "red", "success": "green"}.get(tick.status)
    typer.secho(f"{line}{': ' + str(detail) if detail else ''}", fg=color)


def _summarize(ticks: list[TickRecord], *, verbose: bool) -> None:
    """The closing line of ``--once`` (a step where nothing was due printed nothing at all);
    exit 1 when a tick failed, so that cron and CI see it."""
    failed = sum(1 for t in ticks if t.status == "failure")
    skipped = sum(1 for t in ticks if t.status == "skipped")
    runs = sum(len(t.run_ids) for t in ticks)
    line = (
        f"one step: {len(ticks)} tick(s), {runs} run(s) started, {skipped} skipped, {failed} failed"
    )
    hint = "" if verbose or not skipped else " (-v shows the skipped ones; `catchment ticks`)"
    typer.secho(line + hint, fg="red" if failed else None)
    if failed:
        raise typer.Exit(1)


def daemon(
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
    catch_up: str = typer.Option(
        "24h", "--catch-up", help="Run cron ticks missed while no daemon ran, this far back."
    ),
    lease_ttl: str = typer.Option(
        "30s", "--lease-ttl", help="How long the lease lasts unless renewed (takeover delay)."
    ),
    poll: str = typer.Option(
        "250ms", "--poll", help="Time between steps (how fast materializations are noticed)."
    ),
    once: bool = typer.Option(
        False,
        "--once",
        help="Do one step (and wait for the sensors it started), say what it did, then exit "
        "(1 if a tick failed).",
    ),
    verbose: bool = typer.Option(
        False, "--verbose", "-v", help="Also print ticks that found nothing to do."
    ),
) -> None:
    from catchment.daemon.daemon import Daemon, DaemonSettings

    settings = DaemonSettings(
        catch_up=_duration(catch_up, "--catch-up"),
        lease_ttl=_duration(lease_ttl, "--lease-ttl"),
        poll_interval=_duration(poll, "--poll"),
    )
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is not None:
        from catchment.workspace.daemon import (
            WorkspaceLauncher,
            WorkspaceSensorRunner,
            load_for_daemon,
        )

        d = Daemon(
            workspace,
            settings=settings,
            load=load_for_daemon,
            launcher=WorkspaceLauncher(workspace),
            sensor_runner=WorkspaceSensorRunner(workspace),
        )
    else:
        d = Daemon(project_path, settings=settings)
    for problem in d.workspace.problems:
        typer.secho(f"warning: {problem}", err=True, fg="yellow")

    def show(tick: TickRecord) -> None:
        if verbose or tick.status != "skipped":
            _show(tick)

    if once:
        try:
            ticks = d.settle()
        finally:
            d.close()
        for tick in ticks:
            show(tick)
        _summarize(ticks, verbose=verbose)
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        d.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    what = f"{len(d.workspace.schedules)} schedule(s), {len(d.workspace.sensors)} sensor(s)"
    typer.echo(f"catchment daemon for {d.workspace.root} ({d.storage.url}): {what}")
    d.run(on_tick=show)
    typer.echo("daemon stopped; the lease is released")


def register(app: typer.Typer) -> None:
    """Add ``catchment daemon``."""
    app.command("daemon", help=HELP)(daemon)

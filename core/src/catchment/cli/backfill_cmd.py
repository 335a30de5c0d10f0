"""`catchment backfill create|run|list|status|cancel`: partition ranges as recorded backfills
whose runs go through the run queue."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from catchment.cli.common import PROJECT_OPTION_HELP

if TYPE_CHECKING:
    from catchment.runs.backfill import Progress
    from catchment.storage import Storage
    from catchment.storage.queue import BackfillRecord

backfill_app = typer.Typer(
    name="backfill",
    help="Backfills: a selection over a partition range, split into queued runs.\n\n"
    "Examples:\n\n"
    "  catchment backfill create -s daily_sales --partitions 2024-01-01...2024-12-31\n\n"
    "  catchment backfill create -s +daily_sales --partitions 2024-01-01...2024-01-31 "
    "--policy chunks:7 --dry-run\n\n"
    "  catchment backfill run 3f2a\n\n  catchment backfill status 3f2a\n\n"
    "  catchment backfill cancel 3f2a",
    no_args_is_help=True,
)


def _open(project_path: Path | None) -> Storage:
    from catchment.cli.runs_cmd import _open as open_runs

    return open_runs(project_path)


def _find(storage: Storage, backfill_id: str) -> BackfillRecord:
    from catchment.errors import CatchmentError

    found = storage.get_backfill(backfill_id)
    if found is None:
        raise CatchmentError(
            f"no backfill {backfill_id!r} (or the prefix is ambiguous)",
            where="BACKFILL_ID",
            hint="run `catchment backfill list`",
        )
    return found


def _show(state: Progress) -> None:
    b = state.backfill
    first, last = (b.partitions[0], b.partitions[-1]) if b.partitions else ("", "")
    typer.echo(f"backfill {b.backfill_id}  {state.status}")
    typer.echo(f"  selection {b.selection or '(all)'}  partitions {first}...{last}")
    typer.echo(f"  {len(b.partitions)} partition(s), policy {b.policy}, priority {b.priority}")
    typer.echo(f"  {state.bar()}  {state.partitions_done}/{len(b.partitions)} partitions done")
    counts = ", ".join(f"{n} {s}" for s, n in sorted(state.by_status.items()))
    if counts:
        typer.echo(f"  runs: {counts}")


@backfill_app.command("create")
def create(
    select: str | None = typer.Option(None, "-s", "--select", help="Selection expression."),
    partitions: str = typer.Option(
        ..., "--partitions", help="START...END, or keys separated by commas."
    ),
    policy: str = typer.Option(
        "per-partition", "--policy", help="per-partition, single-run or chunks:N."
    ),
    priority: int = typer.Option(-10, "--priority", help="Run priority (scheduled runs: 0)."),
    tag: list[str] = typer.Option(
        [], "--tag", help="A run tag KEY=VALUE for every run (tag limits use them)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Plan and show; record nothing."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    """Record a backfill and queue its runs (the daemon, or `backfill run`, starts them)."""
    from catchment.cli.common import load_for_run, parse_tags
    from catchment.execution.project import open_project_storage
    from catchment.runs.backfill import create_backfill, progress, submit_backfill
    from catchment.workspace import find_workspace

    tags = parse_tags(tag)
    workspace = find_workspace(project_path)
    if workspace is not None:  # the merged graph, team tags, the shared store
        from catchment.workspace.backfilling import prepare_backfill

        graph, tags, open_store = prepare_backfill(workspace, select, tags)
    else:
        project = load_for_run(project_path)
        graph = project.require_graph()

        def open_store() -> Storage:
            return open_project_storage(project)

    started = time.perf_counter()
    backfill = create_backfill(
        graph, select, partitions, policy=policy, priority=priority, tags=tags
    )
    planned = time.perf_counter() - started
    if dry_run:
        chunks = backfill.chunks()
        if as_json:
            payload = {
                "dry_run": True,
                "partitions": len(backfill.partitions),
                "runs": len(chunks),
                "first_run_partitions": list(chunks[0]),
            }
            typer.echo(json.dumps(payload))
            return
        typer.echo(
            f"dry run: {len(backfill.partitions)} partition(s) in {len(chunks)} run(s), "
            f"policy {policy}; first run: {', '.join(chunks[0][:5])}"
            f"{' ...' if len(chunks[0]) > 5 else ''} (planned in {planned:.2f} s)"
        )
        return
    storage = open_store()
    try:
        storage.create_backfill(backfill)
        queued = submit_backfill(storage, backfill)
        state = progress(storage, backfill)
    finally:
        storage.close()
    if as_json:
        typer.echo(json.dumps({**state.to_dict(), "queued_runs": queued}))
        return
    typer.echo(f"backfill {backfill.backfill_id}: {queued} run(s) queued")
    _show(state)


@backfill_app.command("run")
def run(
    backfill_id: str = typer.Argument(..., help="Backfill id (or a unique prefix)."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    """Run a backfill in the foreground: queue what is missing (resuming after a kill:
    succeeded runs are not run again, failed or abandoned ones are retried), then execute
    its queued runs here, one after another (on a workspace: through the workspace runner,
    each project's assets in its own environment)."""
    from catchment.runs.backfill import progress, submit_backfill
    from catchment.runs.execute import RunNotQueued, execute_run
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    storage = _open(project_path)
    try:
        storage.mark_abandoned_runs()
        backfill = _find(storage, backfill_id)
        queued = submit_backfill(storage, backfill)
        typer.echo(f"backfill {backfill.backfill_id}: {queued} run(s) queued")
        failed = 0
        while True:
            state = progress(storage, backfill)
            todo = [r for _, r in sorted(state.runs.items()) if r.status == "queued"]
            if not todo or storage.get_backfill(backfill.backfill_id).status == "canceled":  # type: ignore[union-attr]
                break
            try:
                if workspace is not None:  # as the workspace daemon's process would
                    from catchment.workspace.execute import execute_workspace_run

                    success = execute_workspace_run(workspace, todo[0].run_id)
                    ended = "success" if success else "failure"
                else:
                    result = execute_run(project_path, todo[0].run_id)
                    success, ended = result.success, result.status
            except RunNotQueued:
                continue  # the daemon took it
            failed += not success
            typer.echo(
                f"  {', '.join(todo[0].partition_keys[:3])}: {ended}  "
                f"{progress(storage, backfill).bar()}"
            )
        _show(progress(storage, backfill))
    finally:
        storage.close()
    if failed:
        raise typer.Exit(1)


@backfill_app.command("list")
def list_backfills(
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    """Backfills, newest first, with their progress."""
    from catchment.runs.backfill import progress

    storage = _open(project_path)
    try:
        states = [progress(storage, b) for b in storage.list_backfills()]
    finally:
        storage.close()
    if as_json:
        typer.echo(json.dumps([s.to_dict() for s in states], indent=2))
        return
    if not states:
        typer.echo("no backfills: create one with `catchment backfill create`")
    for s in states:
        b = s.backfill
        typer.echo(f"{b.backfill_id}  {s.status:<10} {s.bar(20)}  {b.selection or '(all)'}")


@backfill_app.command("status")
def status(
    backfill_id: str = typer.Argument(..., help="Backfill id (or a unique prefix)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    """One backfill's progress: a bar, runs by status, partitions done."""
    from catchment.runs.backfill import progress

    storage = _open(project_path)
    try:
        state = progress(storage, _find(storage, backfill_id))
    finally:
        storage.close()
    if as_json:
        typer.echo(json.dumps(state.to_dict(), indent=2))
        return
    _show(state)


@backfill_app.command("cancel")
def cancel(
    backfill_id: str = typer.Argument(..., help="Backfill id (or a unique prefix)."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    """Cancel a backfill: its queued runs are canceled, its running ones asked to stop."""
    from catchment.cli.queue_cmd import signal_run
    from catchment.runs.backfill import cancel_backfill

    storage = _open(project_path)
    try:
        backfill = _find(storage, backfill_id)
        changed = cancel_backfill(storage, backfill)
    finally:
        storage.close()
    for run, new in changed:
        if new == "canceling":
            signal_run(run)
    canceled = sum(new == "canceled" for _, new in changed)
    stopping = sum(new == "canceling" for _, new in changed)
    if as_json:
        payload = {"backfill_id": backfill.backfill_id, "canceled": canceled, "stopping": stopping}
        typer.echo(json.dumps(payload))
        return
    typer.echo(
        f"backfill {backfill.backfill_id} canceled: {canceled} queued run(s) canceled, "
        f"{stopping} running run(s) asked to stop"
    )


def register(app: typer.Typer) -> None:
    """Add ``catchment backfill`` (and ``backfills`` for ``list|status|cancel``)."""
    app.add_typer(backfill_app, name="backfill")
    app.add_typer(backfill_app, name="backfills", hidden=True)

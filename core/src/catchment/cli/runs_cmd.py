"""`catchment runs list|show|retry` and `catchment assets show`: read and act on run records."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from catchment.cli.common import (
    EXECUTOR_OPTION_HELP,
    NO_CACHE_OPTION_HELP,
    PROJECT_OPTION_HELP,
    allow_broken_option,
    load_for_run,
    run_with_display,
)
from catchment.cli.display import describe

if TYPE_CHECKING:
    from catchment.snapshot import ReadOnlyProject
    from catchment.storage import RunRecord, Storage

runs_app = typer.Typer(
    name="runs",
    help="Inspect recorded runs and re-execute failed ones.\n\nExamples:\n\n"
    "  catchment runs list\n\n  catchment runs show 3f2a --json\n\n"
    "  catchment runs retry 3f2a --from-failure\n\n"
    "  catchment runs retry 3f2a --from-failure --json | jq .status",
    no_args_is_help=True,
)

ASSET_SHOW_HELP = """Show one asset: its spec (deps, table, code version, checks), its latest
materialization, whether it is fresh, and its check history.

With --columns, also where each output column comes from: the asset's SQL (dbt's compiled
SQL of its latest run, a Sling `sql:` stream's query) parsed for column lineage.

Examples:

  catchment assets show marts/orders

  catchment assets show marts/orders --columns

  catchment assets show raw/events --json

In a folder holding catchment.workspace.yaml (or with -p naming one) it shows an asset of
the workspace's merged graph, with its project and team, from the shared run store.
"""


def _when(ts: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts)) if ts else ""


def _duration(run: RunRecord) -> str:
    end = run.finished_at or (time.time() if run.status == "started" else None)
    return f"{end - run.created_at:.1f}s" if end else ""


def _run_dict(run: RunRecord) -> dict[str, Any]:
    return {
        "run_id": run.run_id,
        "status": run.status,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "heartbeat_at": run.heartbeat_at,
        "pid": run.pid,
        "host": run.host,
        "parent_run_id": run.parent_run_id,
        "selection": run.selection,
        "asset_keys": list(run.asset_keys),
        "partition_keys": list(run.partition_keys),
        "tags": run.tags,
    }


def run_json(storage: Storage, run: RunRecord) -> dict[str, Any]:
    """A run as ``runs show --json`` (and ``materialize --json``, ``runs retry --json``) print
    it: ``run_id`` and ``status`` (for ``jq .status``), the ``run`` record and its ``events``
    (each asset's materialization, failure or skip, each check), oldest first."""
    import msgspec

    events = storage.events_for_run(run.run_id)
    return {
        "run_id": run.run_id,
        "status": run.status,
        "run": _run_dict(run),
        "events": msgspec.to_builtins(events),
    }


def echo_run_json(storage: Storage, run_id: str, **extra: Any) -> None:
    """Print the run with this id as ``run_json`` (with ``extra`` keys) on stdout."""
    typer.echo(json.dumps({**run_json(storage, resolve_run(storage, run_id)), **extra}, indent=2))


def nothing_to_run_json(status: str, **extra: Any) -> None:
    """Print, for ``--json``, that no run was started and why: ``run_id`` null, ``status``
    saying why (``nothing selected``, ``nothing left to run``), no run, no events."""
    payload = {"run_id": None, "status": status, "run": None, "events": [], **extra}
    typer.echo(json.dumps(payload, indent=2))


def _open(project_path: Path | None) -> Storage:
    """The project's run store, after marking runs of dead processes abandoned. Only the
    project's defaults are read: listing runs imports no adapter and builds no component."""
    from catchment.execution.project import open_project_storage
    from catchment.project import load_defaults
    from catchment.workspace import find_workspace, open_workspace_storage

    workspace = find_workspace(project_path)
    if workspace is not None:
        return open_workspace_storage(workspace)
    return open_project_storage(load_defaults(project_path))


def resolve_run(storage: Storage, run_id: str) -> RunRecord:
    """The run with this id, or the only one whose id starts with it."""
    from catchment.errors import CatchmentError

    run = storage.get_run(run_id)
    if run is not None:
        return run
    matches = [r for r in storage.list_runs(limit=10_000) if r.run_id.startswith(run_id)]
    if len(matches) == 1:
        return matches[0]
    hint = "run `catchment runs list` to see run ids"
    if matches:
        raise CatchmentError(f"run id prefix {run_id!r} is ambiguous", where="RUN_ID", hint=hint)
    raise CatchmentError(f"no run {run_id!r} in the run store", where="RUN_ID", hint=hint)


_STATUS_COLORS = {
    "success": "green",
    "failure": "red",
    "abandoned": "red",
    "canceled": "yellow",
    "started": "cyan",
    "queued": "blue",
    "starting": "cyan",
    "canceling": "yellow",
}


@runs_app.command("list")
def list_runs(
    limit: int = typer.Option(20, "--limit", "-n", help="How many runs, newest first."),
    status: str | None = typer.Option(None, "--status", help="Only runs with this status."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    """List recent runs with status, start time, duration and what they built."""
    storage = _open(project_path)
    try:
        runs = storage.list_runs(limit=limit, status=status)
        queue = {e.run_id: e for e in storage.queue_entries()}  # one query: place and reason
    finally:
        storage.close()
    if as_json:
        out = []
        for r in runs:
            entry = queue.get(r.run_id)
            row = _run_dict(r)
            row["queue_position"] = entry.position if entry else None
            row["wait_reason"] = entry.wait_reason if entry else None
            out.append(row)
        typer.echo(json.dumps(out, indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    waits = {}
    for r in runs:
        entry = queue.get(r.run_id)
        if entry is not None and entry.position is not None:
            waits[r.run_id] = f"#{entry.position} " + (
                entry.wait_reason or "waiting for the daemon"
            )
        elif "backfill" in r.tags:
            waits[r.run_id] = f"backfill {r.tags['backfill'][:8]}"
    columns = ["run", "status", "started", "duration", "assets", "parent"]
    table = Table(*columns, *(["queue"] if waits else []))  # the column only when it says something
    for r in runs:
        color = _STATUS_COLORS.get(r.status, "default")
        cells = [
            r.run_id[:12],
            f"[{color}]{r.status}[/]",
            _when(r.created_at),
            _duration(r),
            str(len(r.asset_keys)),
            (r.parent_run_id or "")[:12],
        ]
        table.add_row(*cells, *([waits.get(r.run_id, "")] if waits else []))
    Console(highlight=False).print(table)


@runs_app.command("show")
def show_run(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
    as_json: bool = typer.Option(False, "--json", help="Print the run and its events as JSON."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    """Show a run and its events (--json: {"run_id", "status", "run", "events"})."""
    storage = _open(project_path)
    try:
        run = resolve_run(storage, run_id)
        if as_json:
            typer.echo(json.dumps(run_json(storage, run), indent=2))
            return
        events = storage.events_for_run(run.run_id)
    finally:
        storage.close()
    typer.echo(f"run {run.run_id}  {run.status}")
    typer.echo(f"  started {_when(run.created_at)}  duration {_duration(run)}")
    typer.echo(f"  pid {run.pid} on {run.host}")
    if run.parent_run_id:
        typer.echo(f"  retry of {run.parent_run_id}")
    if run.selection:
        typer.echo(f"  selection {run.selection}")
    if run.partition_keys:
        typer.echo(f"  partitions {', '.join(run.partition_keys)}")
    for e in events:
        shown = describe(e)
        if shown is None:
            detail = f"{e.type.value} {json.dumps(e.data)}" if e.data else e.type.value
            shown = ("·", detail)
        typer.echo(f"  {_when(e.timestamp)} {shown[0]} {shown[1]}")


def _claim_retry(storage: Storage, parent_run_id: str, selection: str | None) -> str:
    """A new run id that holds ``parent_run_id`` in the record store (atomically, so two
    retries of one run cannot both run); a ``CatchmentError`` naming the retry that holds it."""
    import os
    from uuid import uuid4

    from catchment.errors import CatchmentError
    from catchment.storage.base import HOSTNAME, RunRecord

    retry = RunRecord(
        run_id=uuid4().hex,
        pid=os.getpid(),
        host=HOSTNAME,
        parent_run_id=parent_run_id,
        selection=selection,
    )
    holder = storage.claim_retry(parent_run_id, retry)
    if holder is not None:
        raise CatchmentError(
            f"run {parent_run_id} is already being retried by run {holder}",
            hint=f"wait for it (`catchment runs show {holder}`); if it fails, retry {holder}",
        )
    return retry.run_id


@runs_app.command("retry")
def retry_run(
    run_id: str = typer.Argument(..., help="Run id (or a unique prefix)."),
    from_failure: bool = typer.Option(
        False,
        "--from-failure",
        help="Re-run only the assets (and checks) that did not succeed; otherwise all of them.",
    ),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Parallel worker processes."),
    executor: str | None = typer.Option(None, "--executor", help=EXECUTOR_OPTION_HELP),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
    allow_broken: bool = allow_broken_option(),
    as_json: bool = typer.Option(
        False,
        "--json",
        help="Print the finished retry run as JSON on stdout (as `runs show RUN --json`) "
        "instead of the live display and summary; same exit code. With nothing left to run: "
        '{"run_id": null, "status": "nothing left to run", "parent_run_id": RUN, ...}.',
    ),
) -> None:
    """Re-execute a run as a new run whose parent is the old one (on a workspace: through
    the workspace runner, each project's assets in its environment; with --json
    {"status", "runs", "skipped", "errors"}, each project run as `runs show RUN --json`)."""
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is not None:
        from catchment.workspace.cli import retry

        retry(workspace, run_id, from_failure, allow_broken, as_json)
        return
    from catchment.errors import CatchmentError
    from catchment.execution.plan import build_plan
    from catchment.execution.project import open_project_storage

    project = load_for_run(project_path, allow_broken=allow_broken)
    graph = project.require_graph()
    storage = open_project_storage(project)
    try:
        run = resolve_run(storage, run_id)
        if run.status == "started":
            raise CatchmentError(
                f"run {run.run_id} is still running (pid {run.pid} on {run.host})",
                hint="wait for it to finish, or stop that process first",
            )
        if from_failure:
            from catchment.runs.retry import left_to_do

            assets, checks = left_to_do(storage, run)
        else:
            assets, checks = list(run.asset_keys), []
        gone = [k for k in assets if k not in graph]
        for k in gone:
            typer.secho(f"warning: asset {k} is no longer in the project", err=True, fg="yellow")
        assets = [k for k in assets if k in graph]
        if not assets and not checks:
            if as_json:
                nothing_to_run_json("nothing left to run", parent_run_id=run.run_id)
            else:
                typer.echo(f"run {run.run_id} has nothing left to run")
            return
        plan = build_plan(graph, assets, partition=run.partition_keys or None, extra_checks=checks)
        retry_id = _claim_retry(storage, run.run_id, plan.selection)
        typer.echo(
            f"retrying {run.run_id}: {len(assets)} asset(s), {len(checks)} check(s)",
            err=as_json,  # stdout holds only the JSON
        )
        result = run_with_display(
            project,
            storage,
            plan,
            workers=workers,
            executor_option=executor,
            run_id=retry_id,
            parent_run_id=run.run_id,
            tags={"retry_of": run.run_id, "from_failure": str(from_failure).lower()},
            as_json=as_json,
        )
    finally:
        storage.close()
    if not result.success:
        raise typer.Exit(1)


def show_asset(
    key: str = typer.Argument(..., help="Asset key, e.g. marts/orders."),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    history: int = typer.Option(10, "--history", help="How many check results to show."),
    columns: bool = typer.Option(
        False, "--columns", help="Show column lineage (from the asset's SQL)."
    ),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
    no_cache: bool = typer.Option(False, "--no-cache", help=NO_CACHE_OPTION_HELP),
) -> None:
    from catchment.cli.assets_cmd import asset_dict, column_lines
    from catchment.cli.common import load_for_reading
    from catchment.errors import CatchmentError
    from catchment.execution.project import open_project_storage
    from catchment.execution.reconcile import reconcile
    from catchment.keys import AssetKey
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    owner: tuple[str | None, str | None] | None = None
    asset_key = AssetKey.parse(key)
    if workspace is not None:
        from catchment.workspace.cli import load_view, owner_of

        wsg, view = load_view(workspace, no_cache)
        project: ReadOnlyProject = view
        owner = owner_of(wsg, asset_key) if asset_key in wsg.require_graph() else None
    else:
        project = load_for_reading(project_path, no_cache)
    graph = project.require_graph()
    if asset_key not in graph:
        where = "workspace" if workspace is not None else "project"
        raise CatchmentError(
            f"no asset {asset_key} in the {where}", hint="run `catchment assets list`"
        )
    spec = graph.specs[asset_key]
    info = asset_dict(project, graph, asset_key)
    definition = graph.definition_of(asset_key)
    info.update(
        {
            "downstream": sorted(k.to_string() for k in graph.downstream(asset_key)),
            "code_version": spec.code_version,
            "partitioned": spec.partitions is not None,
            "tags": dict(spec.tags),
            "source": definition.source if definition is not None else None,
        }
    )
    if owner is not None:
        info["project"], info["team"] = owner
    storage = open_project_storage(project)
    try:
        (status,) = reconcile(graph, storage, [asset_key])
        latest = storage.latest_materializations([asset_key]).get(asset_key)
        checks = storage.check_history(asset_key, limit=history)
        freshness = None
        if spec.freshness is not None:
            from catchment.automation.freshness import evaluate_freshness

            freshness = next(
                (
                    s
                    for s in evaluate_freshness(graph, storage).statuses
                    if s.asset == str(asset_key)
                ),
                None,
            )
    finally:
        storage.close()
    info["state"] = status.state
    info["reasons"] = list(status.reasons)
    info["automation"] = str(spec.automation) if spec.automation is not None else None
    info["partition_scope"] = str(spec.partition_scope) if spec.partition_scope else None
    info["freshness"] = (
        {"policy": freshness.policy, "overdue": freshness.overdue, "reason": freshness.reason}
        if freshness is not None
        else None
    )
    info["latest_materialization"] = (
        {
            "run_id": latest.run_id,
            "timestamp": latest.timestamp,
            "partition": latest.partition,
            "code_version": latest.code_version,
            "data_version": latest.data_version,
            "input_versions": dict(latest.input_versions),
            "metadata": dict(latest.metadata),
        }
        if latest is not None
        else None
    )
    info["check_history"] = [
        {
            "check": c.check_name,
            "passed": c.passed,
            "severity": c.severity,
            "run_id": c.run_id,
            "timestamp": c.timestamp,
        }
        for c in checks
    ]
    lines: list[str] = []
    if columns:
        info["columns"], lines = column_lines(spec, latest.metadata if latest else None)
    if as_json:
        typer.echo(json.dumps(info, indent=2, default=str))
        return
    typer.echo(f"{info['key']}{' (external source)' if info['external'] else ''}")
    for label, value in (
        ("description", info["description"]),
        ("project", info.get("project")),
        ("team", info.get("team")),
        ("group", info["group"]),
        ("kinds", ", ".join(info["kinds"])),
        ("owners", ", ".join(info["owners"])),
        ("deps", ", ".join(info["deps"])),
        ("downstream", ", ".join(info["downstream"])),
        ("table", str(spec.table) if spec.table else None),
        ("code version", info["code_version"]),
        ("definition", f"{info['definition']} ({info['source']})" if info["source"] else None),
        ("checks", ", ".join(info["checks"])),
        ("automation", info["automation"]),
        ("partitions", f"{info['partition_scope']} in scope" if info["partition_scope"] else None),
    ):
        if value:
            typer.echo(f"  {label:13} {value}")
    reasons = f" ({'; '.join(status.reasons)})" if status.reasons else ""
    typer.echo(f"  {'state':13} {status.state}{reasons}")
    if freshness is not None:
        verdict = "OVERDUE" if freshness.overdue else "fresh"
        typer.echo(f"  {'freshness':13} {verdict}: {freshness.reason}")
    if latest is None:
        typer.echo("  never materialized")
    else:
        part = f" partition {latest.partition}" if latest.partition else ""
        typer.echo(
            f"  last materialized {_when(latest.timestamp)} by run {latest.run_id[:12]}{part}"
        )
        typer.echo(f"    data version {latest.data_version}  code version {latest.code_version}")
        for k, v in latest.metadata.items():
            typer.echo(f"    {k}: {v}")
    if checks:
        typer.echo("  check history (newest first):")
        for c in checks:
            verdict = "passed" if c.passed else f"FAILED ({c.severity})"
            typer.echo(f"    {_when(c.timestamp)} {c.check_name} {verdict} run {c.run_id[:12]}")
    for line in lines:
        typer.echo(line)


def register(app: typer.Typer) -> None:
    """Add ``catchment runs`` and ``catchment assets show``."""
    from catchment.cli.assets_cmd import assets_app

    app.add_typer(runs_app, name="runs")
    assets_app.command("show", help=ASSET_SHOW_HELP)(show_asset)

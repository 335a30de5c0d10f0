"""`catchment plan` and `catchment apply`: compare code with the records and the warehouse,
then fix the gap.

`plan` says per asset: missing, stale (why), fresh or unknown (could not observe). `apply`
materializes exactly the assets that are missing or stale (only the missing partitions when
that is all that is wrong).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from catchment.cli.common import (
    EXECUTOR_OPTION_HELP,
    NO_CACHE_OPTION_HELP,
    PROJECT_OPTION_HELP,
    allow_broken_option,
    load_for_observing,
    load_for_reading,
    load_for_run,
    parse_tags,
    run_with_display,
)

if TYPE_CHECKING:
    from collections.abc import Sequence

    from catchment.automation.freshness import FreshnessStatus
    from catchment.execution.reconcile import AssetStatus
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey
    from catchment.observation import Observation
    from catchment.storage import Storage

PLAN_HELP = """Say, per asset, whether it is missing, stale (and why), fresh or unknown.

Missing: never materialized, or its table is gone from the warehouse. Stale: the code
changed, an upstream is newer or stale, a partition in scope is missing, its columns drifted,
its rows changed outside catchment or a source it reads changed, with the reason. Fresh: the
table is what the code says it should be. Unknown: the warehouse could not be observed (the
cause is shown). Partitioned assets are judged on their partitions in scope (partition_scope:
the latest time window by default). Assets past their freshness policy are marked overdue.
Reads the code, the run store and the warehouse's catalog (--no-observe: not the warehouse);
runs nothing.

Examples:

  catchment plan

  catchment plan -s 'marts/*' --json

In a folder holding catchment.workspace.yaml (or with -p naming one) it acts on the whole
workspace: every project in its own Python environment.
"""

APPLY_HELP = """Materialize exactly the assets that are missing or stale.

Runs what `catchment plan` reports as missing or stale (tables gone and drifted included), in
dependency order; unknown assets are left alone. Exit code 1 if a run fails.

Examples:

  catchment apply

  catchment apply -s '+marts/orders' --workers 2

  catchment apply --json | jq '.runs[].status'

With --json, stdout holds one JSON document: {"status", "runs"}, each run as `catchment runs
show RUN --json` prints it; "status" is "success", "failure" (exit code 1), "canceled" (exit
130), "fresh" (nothing to do, no runs) or "queued" (with --queue). Progress lines go to
stderr. On a workspace each project run is one of "runs", beside "skipped" and "errors".

In a folder holding catchment.workspace.yaml (or with -p naming one) it acts on the whole
workspace: every project in its own Python environment.
"""

STATE_COLORS = {"missing": "red", "stale": "yellow", "fresh": "green", "unknown": "magenta"}
_OBSERVE_HELP = (
    "Observe the warehouse (tables gone, drifted, sources changed); --no-observe: records only."
)
_TTL_HELP = (
    "Seconds a previous plan's observations may be reused (nothing recorded since); 0: never."
)


def plan(
    select: str | None = typer.Option(None, "-s", "--select", help="Selection expression."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list, one object per asset."),
    observe: bool = typer.Option(True, "--observe/--no-observe", help=_OBSERVE_HELP),
    ttl: float = typer.Option(5.0, "--observe-ttl", min=0, help=_TTL_HELP),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
    allow_broken: bool = allow_broken_option(),
    no_cache: bool = typer.Option(False, "--no-cache", help=NO_CACHE_OPTION_HELP),
) -> None:
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is not None:
        from catchment.workspace.cli import plan as plan_workspace

        plan_workspace(workspace, select, as_json, allow_broken, no_cache, observe=observe, ttl=ttl)
        return
    from catchment.execution.observing import observe_project
    from catchment.execution.project import open_project_storage
    from catchment.execution.reconcile import reconcile

    # The graph from the definitions snapshot when current; observing asks the warehouse
    # through observers that need the resources (connections), and the components whose
    # definitions carry observers: only those are loaded. `--no-observe`: the records alone.
    observing = snapshot_graph = None
    if observe:
        project, observing, snapshot_graph = load_for_observing(
            project_path, no_cache, allow_broken=allow_broken, selection=select
        )
    else:
        project = load_for_reading(project_path, no_cache, allow_broken=allow_broken, acting=True)
    graph = project.require_graph()
    storage = open_project_storage(project)
    try:
        observed = (
            observe_project(observing, storage, select, ttl=ttl, graph=snapshot_graph)
            if observing is not None
            else None
        )
        statuses = reconcile(graph, storage, select, observed=observed)
        freshness = freshness_by_asset(graph, storage)
    finally:
        storage.close()
    if as_json:
        rows = []
        for s in statuses:
            row = s.to_dict()
            seen = observed.observations.get(s.key) if observed else None
            if seen is not None:
                row["observed"] = observed_json(seen)
            policy = freshness.get(s.key.to_string())
            if policy is not None:
                row["freshness"] = freshness_json(policy)
            rows.append(row)
        from catchment.cli.output import print_json

        print_json(rows)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    table = Table("asset", "state", "why")
    for s in statuses:
        table.add_row(escape(s.key.to_string()), *state_cells(s, freshness.get(s.key.to_string())))
    console.print(table)
    console.print(summary_line(statuses, overdue_count(statuses, freshness)))


def apply(
    select: str | None = typer.Option(None, "-s", "--select", help="Selection expression."),
    workers: int = typer.Option(1, "--workers", "-w", min=1, help="Parallel worker processes."),
    executor: str | None = typer.Option(None, "--executor", help=EXECUTOR_OPTION_HELP),
    observe: bool = typer.Option(True, "--observe/--no-observe", help=_OBSERVE_HELP),
    queue: bool = typer.Option(
        False,
        "--queue",
        help="Queue what is missing or stale as one run for the daemon (limits, priorities) "
        "instead of running it here.",
    ),
    priority: int = typer.Option(0, "--priority", help="With --queue: higher starts first."),
    tag: list[str] = typer.Option(
        [], "--tag", help="With --queue: a run tag KEY=VALUE (tag limits use them)."
    ),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
    allow_broken: bool = allow_broken_option(),
    as_json: bool = typer.Option(
        False,
        "--json",
        help='Print {"status", "runs"} as JSON on stdout (each run as `runs show RUN --json`) '
        "instead of the live display and summaries; same exit code.",
    ),
) -> None:
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is not None:
        from catchment.workspace.cli import apply as apply_workspace

        queued = (priority, parse_tags(tag)) if queue else None
        apply_workspace(workspace, select, allow_broken, queued, observe=observe, as_json=as_json)
        return
    from catchment.execution.observing import observe_project
    from catchment.execution.plan import build_plan
    from catchment.execution.project import open_project_storage
    from catchment.execution.reconcile import apply_groups, reconcile

    project = load_for_run(project_path, allow_broken=allow_broken)
    graph = project.require_graph()
    storage = open_project_storage(project)
    failed = False
    ran: list[str] = []  # with --json: the runs' ids, printed as one document at the end
    try:
        observed = observe_project(project, storage, select, ttl=0) if observe else None
        groups = apply_groups(reconcile(graph, storage, select, observed=observed), graph)
        if not groups:
            if as_json:
                _echo_apply_json(storage, "fresh", ran)
            else:
                typer.echo("everything selected is fresh; nothing to do")
            return
        if queue:
            run_id = _queue_apply(storage, groups, select, priority, tag, as_json=as_json)
            if as_json:
                _echo_apply_json(storage, "queued", [run_id])
            return
        for keys, partitions in groups:
            names = ", ".join(k.to_string() for k in keys)
            where = f" (partitions {', '.join(partitions)})" if partitions else ""
            typer.echo(f"applying {len(keys)} asset(s){where}: {names}", err=as_json)
            the_plan = build_plan(graph, keys, partition=partitions or None)
            try:
                result = run_with_display(
                    project,
                    storage,
                    the_plan,
                    workers=workers,
                    executor_option=executor,
                    tags={"trigger": "apply"},
                    as_json=as_json,
                    report=ran.append,
                )
            except typer.Exit:
                if as_json:
                    _echo_apply_json(storage, "canceled", ran)
                raise
            failed = failed or not result.success
        if as_json:
            _echo_apply_json(storage, "failure" if failed else "success", ran)
    finally:
        storage.close()
    if failed:
        raise typer.Exit(1)


def _echo_apply_json(storage: Storage, status: str, run_ids: list[str]) -> None:
    """Print ``apply --json``'s document: its status and each run as ``runs show --json``."""
    from catchment.cli.runs_cmd import resolve_run, run_json

    runs = [run_json(storage, resolve_run(storage, r)) for r in run_ids]
    typer.echo(json.dumps({"status": status, "runs": runs}, indent=2))


def _queue_apply(
    storage: Storage,
    groups: list[tuple[tuple[AssetKey, ...], tuple[str, ...]]],
    select: str | None,
    priority: int,
    tags: list[str],
    *,
    as_json: bool = False,
) -> str:
    """Queue the one group of missing and stale assets as a run (its id; printed unless
    ``as_json``); several groups (different partition sets) must run one after the other,
    which queued runs cannot promise: refused."""
    from catchment.cli.common import parse_tags
    from catchment.cli.materialize_cmd import submit_and_tell
    from catchment.errors import CatchmentError
    from catchment.runs.request import RunRequest

    if len(groups) > 1:
        where = f" -s '{select}'" if select else ""
        raise CatchmentError(
            f"the missing and stale assets need {len(groups)} runs, one after the other (their "
            "partition sets differ), and queued runs have no order between them",
            where="--queue",
            hint=f"run `catchment apply{where}` without --queue, or queue each group with "
            "`catchment materialize --queue -s ... --partition ...`",
        )
    keys, partitions = groups[0]
    names = ", ".join(k.to_string() for k in keys)
    typer.echo(f"queuing {len(keys)} asset(s): {names}", err=as_json)
    request = RunRequest.for_assets(
        keys,
        partition_keys=partitions,
        priority=priority,
        tags={**parse_tags(tags), "trigger": "apply", "apply_selection": select or "*"},
        origin="cli",
        reason="catchment apply --queue",
    )
    if as_json:
        from catchment.runs.submit import submit_run

        return submit_run(storage, request).run_id
    return submit_and_tell(storage, request)


def observed_json(seen: Observation) -> dict[str, object]:
    """The ``observed`` object of a ``plan --json`` row."""
    return {
        "exists": seen.exists,
        "row_count": seen.row_count,
        "data_version": seen.data_version,
        "error": seen.error,
        "observed_at": seen.observed_at,
    }


def freshness_by_asset(graph: AssetGraph, storage: Storage) -> dict[str, FreshnessStatus]:
    """Asset (as a string) -> where it stands against its ``freshness`` policy, for every
    asset that has one (the project's, or a workspace's merged graph on its shared store)."""
    from catchment.automation.freshness import evaluate_freshness

    return {s.asset: s for s in evaluate_freshness(graph, storage).statuses}


def freshness_json(policy: FreshnessStatus) -> dict[str, object]:
    """The ``freshness`` object of a ``plan --json`` row."""
    return {"policy": policy.policy, "overdue": policy.overdue, "reason": policy.reason}


def state_cells(status: AssetStatus, policy: FreshnessStatus | None) -> tuple[str, str]:
    """A plan table's ``state`` and ``why`` cells (rich markup): the state, and ``overdue``
    with the freshness reason when the asset is past its policy."""
    from rich.markup import escape

    state = f"[{STATE_COLORS[status.state]}]{status.state}[/]"
    why = escape("; ".join(status.reasons))
    if policy is not None and policy.overdue:
        state += " [red]overdue[/]"
        why = "; ".join(filter(None, [why, f"freshness: {escape(policy.reason)}"]))
    return state, why


def overdue_count(statuses: Sequence[AssetStatus], freshness: dict[str, FreshnessStatus]) -> int:
    """How many of ``statuses`` are past their freshness policy (the summary's ``overdue``)."""
    overdue = (freshness.get(s.key.to_string()) for s in statuses)
    return sum(1 for policy in overdue if policy is not None and policy.overdue)


def register(app: typer.Typer) -> None:
    """Add ``catchment plan`` and ``catchment apply``."""
    app.command("plan", help=PLAN_HELP)(plan)
    app.command("apply", help=APPLY_HELP)(apply)


def summary_line(statuses: Sequence[AssetStatus], overdue: int = 0) -> str:
    """The plan's last line: how many assets are in each state, and what apply would do."""
    counts = {state: sum(1 for s in statuses if s.state == state) for state in STATE_COLORS}
    todo = counts["missing"] + counts["stale"]
    return (
        f"{counts['missing']} missing, {counts['stale']} stale, {counts['fresh']} fresh"
        + (f", {counts['unknown']} unknown" if counts["unknown"] else "")
        + (f", {overdue} overdue" if overdue else "")
        + (f" — `catchment apply` would materialize {todo}" if todo else "")
    )

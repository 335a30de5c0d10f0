"""The commands on a workspace: what `check`, `assets list`, `plan`, `apply` and
`materialize` do when they run in a folder holding ``catchment.workspace.yaml`` (or ``-p``
names one). Each project is read from its snapshot, never imported here; runs happen in the
projects' own environments (``workspace.running``)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from catchment.automation.freshness import FreshnessStatus
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey
    from catchment.runs.request import RunRequest
    from catchment.sensors.runner import SensorOutcome
    from catchment.storage import Storage
    from catchment.workspace.graph import WorkspaceGraph
    from catchment.workspace.observing import WorkspaceObserved
    from catchment.workspace.running import WorkspaceRun
    from catchment.workspace.view import WorkspaceProject

__all__ = [
    "SUPPORTED",
    "apply",
    "assets_list",
    "check",
    "dynamic_store",
    "load_view",
    "materialize",
    "observe",
    "owner_of",
    "plan",
    "pool_limits",
    "preview_sensor",
    "refuse_unsupported",
    "retry",
    "workspace_store",
]

SUPPORTED = (
    "check",
    "assets list",
    "assets show",
    "graph",
    "daemon",
    "ticks",
    "automation",
    "schedules list",
    "sensors list",
    "observe",
    "plan",
    "apply",
    "materialize",
    "runs list",
    "runs show",
    "runs cancel",
    "runs retry",
    "ui",
    "pools",
    "backfill",
    "partitions",
    "sensors preview",
)

ALIASES = ("backfills",)
"""Hidden aliases of supported commands (``backfills`` is ``backfill``): work as those do."""


def _n(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def _load(file: Path, no_cache: bool = False) -> WorkspaceGraph:
    from catchment.workspace import load_workspace

    return load_workspace(file, no_cache=no_cache)


def load_view(file: Path, no_cache: bool = False) -> tuple[WorkspaceGraph, WorkspaceProject]:
    """The workspace for a command that only reads its graph and records (``assets show``,
    ``graph``): exit 1 naming every problem when the merged graph does not build, else warn
    about the problems and go on with what loaded."""
    from catchment.workspace.view import workspace_project

    wsg = _load(file, no_cache)
    if wsg.graph is None:
        _print_problems(wsg)
        typer.secho("the workspace's asset graph could not be built", err=True, fg="red")
        raise typer.Exit(1)
    _warn(wsg)
    return wsg, workspace_project(wsg)


@contextmanager
def workspace_store(file: Path) -> Iterator[tuple[WorkspaceProject, AssetGraph, Storage]]:
    """``cli.common.project_store`` for a workspace: its view (problems warned about), merged
    graph and shared store (closed however the command ends), the graph's dynamic
    partition sets bound to their keys in that store."""
    from catchment.dynamic import bind_dynamic_partitions
    from catchment.workspace import open_workspace_storage

    _, view = load_view(file)
    graph = view.require_graph()
    storage = open_workspace_storage(file)
    try:
        bind_dynamic_partitions(graph, storage)
        yield view, graph, storage
    finally:
        storage.close()


@contextmanager
def dynamic_store(file: Path) -> Iterator[tuple[AssetGraph, Storage, dict[str, list[str]]]]:
    """`catchment partitions` on a workspace: the merged graph (its dynamic sets bound to
    their keys), the shared store, and each dynamic set's name -> the projects whose assets
    use it. Keys live in the store by set name, so projects naming the same set share it."""
    from catchment.dynamic import bind_dynamic_partitions
    from catchment.partitions import DynamicPartitions
    from catchment.workspace import open_workspace_storage

    wsg, view = load_view(file)
    graph = view.require_graph()
    users: dict[str, list[str]] = {}
    for key, spec in graph.specs.items():
        project = wsg.project_of.get(key)
        if isinstance(spec.partitions, DynamicPartitions) and project is not None:
            found = users.setdefault(spec.partitions.name, [])
            if project not in found:
                found.append(project)
    storage = open_workspace_storage(file)
    try:
        bind_dynamic_partitions(graph, storage)
        yield graph, storage, {name: sorted(p) for name, p in sorted(users.items())}
    finally:
        storage.close()


def preview_sensor(file: Path, name: str, cursor: str | None) -> SensorOutcome:
    """`catchment sensors preview PROJECT:NAME` on a workspace: one evaluation of the
    sensor as the workspace daemon makes it (its code in its project's environment and
    folder, ``WorkspaceSensorRunner``), from ``cursor`` (default: the stored one) on the
    shared store; nothing submitted, no cursor stored. Problems reading the projects'
    sensors are warnings."""
    from catchment.daemon.preview import evaluate_once
    from catchment.dynamic import bind_dynamic_partitions
    from catchment.workspace import open_workspace_storage
    from catchment.workspace.daemon import WorkspaceSensorRunner, load_for_daemon

    view = load_for_daemon(file)
    for p in view.problems:
        typer.secho(f"warning: {p}", err=True, fg="yellow")
    storage = open_workspace_storage(file)
    try:
        if view.graph is not None:
            bind_dynamic_partitions(view.graph, storage)
        runner = WorkspaceSensorRunner(file)
        where = f"the workspace ({file.name}; its sensors are named PROJECT:NAME)"
        return evaluate_once(view.sensors, view.graph, storage, runner, name, cursor, where)
    finally:
        storage.close()


def owner_of(wsg: WorkspaceGraph, key: AssetKey) -> tuple[str | None, str | None]:
    """The project and team owning ``key`` (None for an external source)."""
    project = wsg.project_of.get(key)
    if project is None:
        return None, None
    return project, wsg.workspace.project(project).team


def _print_problems(wsg: WorkspaceGraph) -> None:
    from catchment.cli.common import print_problems

    print_problems(wsg.problems)


def _warn(wsg: WorkspaceGraph) -> None:
    if wsg.problems:
        n = len(wsg.problems)
        troubled = ", ".join(wsg.troubled)
        extra = f"; projects with problems: {troubled}" if troubled else ""
        typer.secho(
            f"warning: {n} problem{'s' if n != 1 else ''} in the workspace (run `catchment "
            f"check`){extra}; going on with what loaded",
            err=True,
            fg="yellow",
        )


def _stop_if_blocked(wsg: WorkspaceGraph, allow_broken: bool) -> None:
    import os

    allow = allow_broken or os.environ.get("CATCHMENT_ALLOW_BROKEN", "") not in ("", "0")
    blocking = wsg.blocking
    if blocking and not allow:
        from catchment.cli.common import print_problems

        print_problems(blocking)
        n = len(blocking)
        typer.secho(
            f"{n} problem{'s' if n != 1 else ''} in workspace {wsg.workspace.name}: nothing "
            "was run (fix them, or pass --allow-broken to act on the rest)",
            err=True,
            fg="red",
        )
        raise typer.Exit(1)
    _warn(wsg)


def check(file: Path) -> None:
    """Load every project in its environment and report each one and every problem."""
    wsg = _load(file)
    graph = wsg.graph
    for lp in wsg.projects:
        team = f" (team {lp.entry.team})" if lp.entry.team else ""
        if lp.project is None:
            typer.secho(f"✗ {lp.entry.name}{team}: did not load", fg="red")
            continue
        n = sum(len(d.specs) for d in lp.project.definitions)
        how = (
            "unchanged, from the workspace cache" if lp.cached else f"loaded in {lp.seconds:.1f} s"
        )
        mark, color = ("✓", "green") if lp.project.ok else ("!", "yellow")
        typer.secho(
            f"{mark} {lp.entry.name}{team}: {n} asset{'s' if n != 1 else ''} ({how})", fg=color
        )
    for note in [*_pool_notes(wsg), *_queue_notes(wsg)]:
        typer.secho(f"note: {note}", fg="yellow")
    if wsg.problems:
        _print_problems(wsg)
        n = len(wsg.problems)
        typer.secho(
            f"{n} problem{'s' if n != 1 else ''} in workspace {wsg.workspace.name}",
            err=True,
            fg="red",
        )
        raise typer.Exit(1)
    assets = sum(1 for i in graph.order_ids if i not in graph.external_ids) if graph else 0
    typer.secho(
        f"OK {wsg.workspace.name}: {_n(assets, 'asset')} in {_n(len(wsg.projects), 'project')}, "
        f"{_n(len(wsg.cross_edges), 'cross-project edge')}",
        fg="green",
    )


def _pool_notes(wsg: WorkspaceGraph) -> list[str]:
    """The projects' own ``pools:`` values that the workspace's replace, one line each."""
    from catchment.workspace.pools import disagreements

    pools = wsg.workspace.queue.pools
    return [
        line
        for lp in wsg.projects
        if lp.project is not None
        for line in disagreements(pools, lp.project.defaults.queue.pools, lp.entry.name)
    ]


def _queue_notes(wsg: WorkspaceGraph) -> list[str]:
    """The projects whose own ``queue:`` run limits the workspace does not use, a line each."""
    from catchment.workspace.pools import unused_queue

    return [
        line
        for lp in wsg.projects
        if lp.project is not None
        for line in unused_queue(lp.project.defaults.queue.limits, lp.entry.name)
    ]


def pool_limits(file: Path) -> tuple[dict[str, tuple[int, str]], list[str]]:
    """`catchment pools list` on a workspace: pool -> (limit, where it comes from) of the
    configured limits (the workspace's ``pools:``; for a pool it does not name, the first
    project naming it: each project's steps claim under their own), and notes on the
    projects' values that are not used or disagree. Stored limits go over these."""
    wsg = _load(file)
    limits = {name: (slots, "workspace") for name, slots in wsg.workspace.queue.pools.items()}
    notes = _pool_notes(wsg)
    said: dict[str, list[str]] = {}
    for lp in wsg.projects:
        if lp.project is None:
            continue
        for name, slots in sorted(lp.project.defaults.queue.pools.items()):
            if name in wsg.workspace.queue.pools:
                continue
            limits.setdefault(name, (slots, f"project {lp.entry.name}"))
            said.setdefault(name, []).append(f"{lp.entry.name} {slots}")
    for name, values in sorted(said.items()):
        if len({v.rsplit(" ", 1)[1] for v in values}) > 1:
            notes.append(
                f"pool {name} has no workspace limit and its projects disagree "
                f"({', '.join(values)}): each project's steps claim under its own; set one "
                f"with pools: in {file.name} or `catchment pools set {name} N`"
            )
    return limits, notes


def assets_list(file: Path, select: str | None, as_json: bool, no_cache: bool) -> None:
    """`catchment assets list` on a workspace."""
    from catchment.cli.output import print_json
    from catchment.workspace.listing import rows

    wsg = _load(file, no_cache)
    if wsg.graph is None:
        _print_problems(wsg)
        typer.secho("the workspace's asset graph could not be built", err=True, fg="red")
        raise typer.Exit(1)
    _warn(wsg)
    data = rows(wsg, select)
    if as_json:
        print_json(data)
        return
    from rich.console import Console
    from rich.table import Table

    table = Table("key", "project", "team", "kinds", "deps", "table")
    for r in data:
        key = r["key"]
        if r["external"]:
            key += (
                f" (unknown: {', '.join(r['unknown'])} did not load)"
                if r["unknown"]
                else (" (external)")
            )
        table.add_row(
            key,
            r["project"] or "",
            r["team"] or "",
            ", ".join(r["kinds"]),
            str(len(r["deps"])),
            r["table"]["qualified_name"] if r["table"] else "",
        )
    Console(width=max(120, Console().width)).print(table)


def _statuses(
    wsg: WorkspaceGraph,
    select: str | None,
    ttl: float | None = None,
    freshness: dict[str, FreshnessStatus] | None = None,
) -> tuple[list[Any], WorkspaceObserved | None]:
    """``reconcile`` of the merged graph on the shared records and, unless ``ttl`` is None,
    on the warehouses as each project's environment observes them (observations younger
    than ``ttl`` seconds reused); an asset reading a table a failed project may write is
    unknown (that project could not be asked), and one whose project could not observe is
    judged from the records, with the reason. ``freshness`` is filled, when given, with where
    each asset stands against its freshness policy (``plan``), read from the same store."""
    import msgspec

    from catchment.execution.reconcile import reconcile
    from catchment.storage import open_storage
    from catchment.workspace.observing import observe_workspace

    graph = wsg.require_graph()
    storage = open_storage(wsg.workspace.storage_url)
    try:
        seen = None if ttl is None else observe_workspace(wsg, storage, select, ttl=ttl)
        observed = seen.observed if seen is not None else None
        statuses = reconcile(graph, storage, select, observed=observed)
        if freshness is not None:
            from catchment.cli.plan_cmd import freshness_by_asset

            freshness.update(freshness_by_asset(graph, storage))
    finally:
        storage.close()
    unknown_upstream: dict[AssetKey, list[AssetKey]] = {}
    for u in sorted(wsg.unknown):
        for d in graph.descendants([u]):
            unknown_upstream.setdefault(d, []).append(u)
    not_observed = seen.not_observed if seen is not None else {}
    out = []
    for s in statuses:
        reads = unknown_upstream.get(s.key)
        if reads and not s.external:
            why = "; ".join(
                f"reads {u}, which project {', '.join(wsg.unknown[u])} (did not load) may write"
                for u in reads
            )
            s = msgspec.structs.replace(s, state="unknown", reasons=(*s.reasons, why))
        if s.key in not_observed and not s.external:
            why = f"{not_observed[s.key]}; judged from the records"
            s = msgspec.structs.replace(s, reasons=(*s.reasons, why))
        out.append(s)
    return out, seen


def plan(
    file: Path,
    select: str | None,
    as_json: bool,
    allow_broken: bool,
    no_cache: bool,
    *,
    observe: bool = True,
    ttl: float = 5.0,
) -> None:
    """`catchment plan` on a workspace: judged on the shared records and (``observe``) the
    warehouses, each project's observed by its own environment (``workspace.observing``);
    assets past the freshness policy their project declares are ``overdue``, as on a
    project."""
    from catchment.cli.plan_cmd import (
        freshness_json,
        observed_json,
        overdue_count,
        state_cells,
        summary_line,
    )

    wsg = _load(file, no_cache)
    _stop_if_blocked(wsg, allow_broken)
    freshness: dict[str, FreshnessStatus] = {}
    statuses, seen = _statuses(wsg, select, ttl if observe else None, freshness)
    if as_json:
        from catchment.cli.output import print_json

        rows = []
        for s in statuses:
            row = {**s.to_dict(), "project": wsg.project_of.get(s.key)}
            obs = seen.observed.observations.get(s.key) if seen is not None else None
            if obs is not None:
                row["observed"] = observed_json(obs)
            policy = freshness.get(s.key.to_string())
            if policy is not None:
                row["freshness"] = freshness_json(policy)
            rows.append(row)
        print_json(rows)
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False, width=max(120, Console().width))
    table = Table("asset", "project", "state", "why")
    for s in statuses:
        table.add_row(
            escape(s.key.to_string()),
            wsg.project_of.get(s.key, ""),
            *state_cells(s, freshness.get(s.key.to_string())),
        )
    console.print(table)
    console.print(summary_line(statuses, overdue_count(statuses, freshness)))


def observe(file: Path, select: str | None, as_json: bool) -> None:
    """`catchment observe` on a workspace: the selected assets and their upstreams observed
    by each project's own code in its environment, recorded in the shared store; exit 1
    when something could not be observed (a project that did not load included)."""
    from catchment.cli.observe_cmd import observation_rows, print_rows
    from catchment.execution.observing import observed_keys
    from catchment.keys import AssetKey

    wsg = _load(file)
    _warn(wsg)
    graph = wsg.require_graph()
    statuses, seen = _statuses(wsg, select, 0.0)
    assert seen is not None  # observed with a ttl of 0
    by_key = {s.key: s for s in statuses}
    rows = observation_rows(graph, observed_keys(graph, select), seen.observed, by_key)
    for row in rows:
        key = AssetKey.parse(str(row["key"]))
        row["project"] = wsg.project_of.get(key)
        why = seen.not_observed.get(key) or _unknown_source(wsg, key)
        if why is not None:
            row["error"] = why
            if graph.is_external(key):
                row["state"], row["reasons"] = "unknown", [why]
    rows.extend(_rows_of_failed(wsg, select))
    for lp in wsg.failed:
        typer.secho(
            f"✗ {lp.entry.name}: did not load, so its assets were not observed "
            "(run `catchment check`)",
            err=True,
            fg="red",
        )
    if as_json:
        import json

        typer.echo(json.dumps(rows, indent=2))
    else:
        print_rows(rows)
    unknown = any(r["observed"] and r["exists"] is None for r in rows)
    if unknown or seen.not_observed or wsg.failed:
        raise typer.Exit(1)


def _unknown_source(wsg: WorkspaceGraph, key: AssetKey) -> str | None:
    projects = wsg.unknown.get(key)
    if not projects:
        return None
    return f"not observed: project {', '.join(projects)} (did not load) may write it"


def _rows_of_failed(wsg: WorkspaceGraph, select: str | None) -> list[dict[str, object]]:
    """A row per asset of each project that did not load (from its last good snapshot),
    ``unknown`` with the reason; only with no selection (the merged graph cannot select
    them)."""
    if select:
        return []
    rows: list[dict[str, object]] = []
    for lp in wsg.failed:
        why = f"not observed: project {lp.entry.name} did not load ({lp.error})"
        specs = [s for d in lp.previous.definitions for s in d.specs] if lp.previous else []
        for spec in specs:
            rows.append(
                {
                    "key": spec.key.to_string(),
                    "project": lp.entry.name,
                    "table": str(spec.table) if spec.table else None,
                    "exists": None,
                    "row_count": None,
                    "columns": None,
                    "data_version": None,
                    "last_modified": None,
                    "observed_at": None,
                    "observed": False,
                    "error": why,
                    "state": "unknown",
                    "reasons": [why],
                }
            )
    return rows


def _run(
    wsg: WorkspaceGraph,
    keys: list[AssetKey],
    partition: str | None,
    tags: dict[str, str],
    *,
    as_json: bool = False,
    before: set[AssetKey] | None = None,
) -> WorkspaceRun:
    """Run ``keys`` through the workspace runner, telling what happens (on stderr with
    ``as_json``) and its summary; exit 130 when canceled (with ``as_json`` after printing
    the project runs it made). ``before``: the runner's ``failed_before``."""
    import uuid

    from catchment.workspace.running import run_workspace

    def echo(text: str) -> None:
        typer.echo(text, err=as_json)
        sys.stdout.flush()

    run_id = uuid.uuid4().hex[:12]
    try:
        result = run_workspace(
            wsg,
            keys,
            partition=partition,
            tags=tags,
            echo=echo,
            run_id=run_id,
            failed_before=before or (),
        )
    except KeyboardInterrupt:  # the project's run got the signal too and records itself
        typer.secho("canceled", err=True, fg="yellow")
        if as_json:
            _echo_json(wsg, "canceled", [], canceled=run_id)
        raise typer.Exit(130) from None
    ok = sum(1 for r in result.runs for s in r.status.values() if s == "success")
    bad = sum(1 for r in result.runs for s in r.status.values() if s != "success")
    bad += sum(len(r.keys) for r in result.runs if r.error is not None)
    typer.secho(
        f"workspace run {result.run_id}: {ok} materialized, {bad} failed, "
        f"{len(result.skipped)} skipped in {len(result.runs)} project run(s)",
        fg="green" if result.success else "red",
        err=as_json,
    )
    return result


def _finish(wsg: WorkspaceGraph, results: list[WorkspaceRun], as_json: bool) -> None:
    """After the workspace runs: with ``as_json`` print them as one document; exit 1 when
    one did not succeed."""
    success = all(r.success for r in results)
    if as_json:
        _echo_json(wsg, "success" if success else "failure", results)
    if not success:
        raise typer.Exit(1)


def _echo_json(
    wsg: WorkspaceGraph,
    status: str,
    results: list[WorkspaceRun],
    *,
    canceled: str | None = None,
    **extra: Any,
) -> None:
    """Print ``--json``'s document on a workspace: ``{"status", "runs", "skipped",
    "errors"}``, each project run as ``runs show RUN --json`` prints it (``canceled``: the
    id of a workspace run stopped midway, whose project runs are read from the store)."""
    import json

    from catchment.cli.runs_cmd import resolve_run, run_json
    from catchment.storage import open_storage

    ids = [r.run_id for res in results for r in res.runs if r.run_id is not None]
    storage = open_storage(wsg.workspace.storage_url)
    try:
        if canceled is not None:
            made = [
                r
                for r in storage.list_runs(limit=10_000)
                if r.tags.get("workspace_run") == canceled
            ]
            ids += [r.run_id for r in sorted(made, key=lambda r: r.created_at)]
        runs = [run_json(storage, resolve_run(storage, i)) for i in ids]
    finally:
        storage.close()
    document = {
        "status": status,
        "runs": runs,
        "skipped": [
            {"key": k.to_string(), "reason": why}
            for res in results
            for k, why in res.skipped.items()
        ],
        "errors": [
            {"project": r.project, "error": r.error}
            for res in results
            for r in res.runs
            if r.error is not None
        ],
        **extra,
    }
    typer.echo(json.dumps(document, indent=2))


Queued = tuple[int, dict[str, str]]
"""``--queue``'s priority and ``--tag`` tags."""


def _enqueue(wsg: WorkspaceGraph, request: RunRequest, as_json: bool = False) -> None:
    """Record ``request`` as a queued run in the workspace's store: the daemon on the
    workspace starts it (``python -m catchment.workspace.execute``), tagged with the teams
    and projects of its assets (``workspace.teams``); with ``as_json`` print
    ``{"status": "queued", "runs": [the queued run]}`` (with its ``queue_position``)."""
    from catchment.cli.materialize_cmd import submit_and_tell
    from catchment.storage import open_storage
    from catchment.workspace.teams import tag_request

    storage = open_storage(wsg.workspace.storage_url)
    try:
        request = tag_request(wsg.require_graph(), request)
        if not as_json:
            submit_and_tell(storage, request)
            return
        import json

        from catchment.cli.runs_cmd import resolve_run, run_json
        from catchment.runs.submit import submit_run

        run_id = submit_run(storage, request).run_id
        place = next((e.position for e in storage.queue_entries() if e.run_id == run_id), None)
        queued = {**run_json(storage, resolve_run(storage, run_id)), "queue_position": place}
        document = {"status": "queued", "runs": [queued], "skipped": [], "errors": []}
        typer.echo(json.dumps(document, indent=2))
    finally:
        storage.close()


def materialize(
    file: Path,
    select: str | None,
    partition: str | None,
    allow_broken: bool,
    queued: Queued | None = None,
    as_json: bool = False,
) -> None:
    """`catchment materialize` on a workspace: the selected assets, each project's in its
    own environment, recorded in the shared run store (``queued``: queued for the daemon;
    ``as_json``: the project runs as one JSON document, see ``_echo_json``)."""
    wsg = _load(file)
    _stop_if_blocked(wsg, allow_broken)
    graph = wsg.require_graph()
    chosen = graph.select(select) if select else graph.keys_of(graph.order_ids)
    keys = [k for k in chosen if not graph.is_external(k)]
    if not keys:
        if as_json:
            _echo_json(wsg, "nothing selected", [])
        else:
            typer.echo("nothing selected")
        raise typer.Exit(1 if wsg.failed else 0)
    if queued is not None:
        from catchment.dynamic import bind_dynamic_partitions
        from catchment.execution.plan import build_plan
        from catchment.runs.request import RunRequest
        from catchment.storage import open_storage

        storage = open_storage(wsg.workspace.storage_url)
        try:  # the keys `catchment partitions add` stored, for --partition
            bind_dynamic_partitions(graph, storage)
        finally:
            storage.close()
        plan = build_plan(graph, keys, partition=partition)
        priority, tags = queued
        request = RunRequest.for_assets(
            keys,
            partition_keys=plan.partition_keys,
            priority=priority,
            tags={**tags, "trigger": "materialize"},
            origin="cli",
            reason="catchment materialize --queue",
        )
        _enqueue(wsg, request, as_json)
        return
    result = _run(wsg, keys, partition, {"trigger": "materialize"}, as_json=as_json)
    _finish(wsg, [result], as_json)


def apply(
    file: Path,
    select: str | None,
    allow_broken: bool,
    queued: Queued | None = None,
    *,
    observe: bool = True,
    as_json: bool = False,
) -> None:
    """`catchment apply` on a workspace: what `plan` reports missing or stale, the
    warehouses observed first unless not ``observe`` (``queued``: queued as one run for
    the daemon; ``as_json``: ``{"status", "runs"}`` as for materialize). As on a project,
    partitioned assets run on the partition keys they lack, in groups of one partition set
    each, upstream groups first."""
    from catchment.errors import CatchmentError
    from catchment.execution.reconcile import apply_groups
    from catchment.workspace.running import passes

    wsg = _load(file)
    _stop_if_blocked(wsg, allow_broken)
    statuses, _ = _statuses(wsg, select, 0.0 if observe else None)
    keys = [s.key for s in statuses if s.state in ("missing", "stale") and not s.external]
    groups = apply_groups(statuses, wsg.require_graph())
    if not keys:
        if as_json:
            _echo_json(wsg, "fresh", [])
        else:
            typer.echo("everything selected is fresh; nothing to do")
        return
    if queued is not None:
        from catchment.runs.request import RunRequest

        priority, tags = queued
        typer.echo(
            f"queuing {len(keys)} asset(s): {', '.join(k.to_string() for k in keys)}", err=as_json
        )
        if len(groups) > 1:  # as on a project: queued runs have no order between them
            where = f" -s '{select}'" if select else ""
            raise CatchmentError(
                f"the missing and stale assets need {len(groups)} runs, one after the other "
                "(their partition sets differ), and queued runs have no order between them",
                where="--queue",
                hint=f"run `catchment apply{where}` without --queue, or queue each group with "
                "`catchment materialize --queue -s ... --partition ...`",
            )
        request = RunRequest.for_assets(
            keys,
            partition_keys=groups[0][1],
            priority=priority,
            tags={**tags, "trigger": "apply", "apply_selection": select or "*"},
            origin="cli",
            reason="catchment apply --queue",
        )
        _enqueue(wsg, request, as_json)
        return
    results: list[WorkspaceRun] = []
    for group, parts in groups:
        where = f" (partitions {', '.join(parts)})" if parts else ""
        names = ", ".join(k.to_string() for k in group)
        typer.echo(f"applying {_n(len(group), 'asset')}{where}: {names}", err=as_json)
        todo: dict[str | None, tuple[AssetKey, ...]] = dict.fromkeys(parts or (None,), group)
        for partition, each, _ in passes(wsg, todo):  # one workspace run per partition key
            results.append(_run(wsg, each, partition, {"trigger": "apply"}, as_json=as_json))
    _finish(wsg, results, as_json)


def retry(
    file: Path, run_id: str, from_failure: bool, allow_broken: bool, as_json: bool = False
) -> None:
    """`catchment runs retry` on a workspace: run again, through the workspace runner, the
    assets of a run (a queued workspace run, or one project's run); with ``from_failure``
    only those that did not materialize (for a workspace run: in none of its project runs);
    ``as_json``: ``{"status", "runs"}`` as for materialize. A run with several partition
    keys is retried one workspace run per key, as the daemon runs it (``workspace.execute``):
    every key, even after one failed, then exit 1 when one did not succeed."""
    from catchment.cli.runs_cmd import resolve_run
    from catchment.errors import CatchmentError
    from catchment.keys import AssetKey
    from catchment.runs.execute import selected_keys
    from catchment.storage.base import ACTIVE_RUN_STATUSES
    from catchment.workspace import open_workspace_storage
    from catchment.workspace.execute import left_by_partition
    from catchment.workspace.running import passes

    wsg = _load(file)
    _stop_if_blocked(wsg, allow_broken)
    graph = wsg.require_graph()
    storage = open_workspace_storage(file)
    try:
        run = resolve_run(storage, run_id)
        if run.status in ACTIVE_RUN_STATUSES:
            raise CatchmentError(
                f"run {run.run_id} is {run.status}",
                hint="wait for it to finish, or cancel it first (`catchment runs cancel`)",
            )
        if from_failure:  # per partition key: only the keys each asset failed for
            left = left_by_partition(storage, run, graph)
        else:
            every = list(run.asset_keys) or selected_keys(graph, run)
            parts: list[str | None] = list(run.partition_keys) or [None]
            left = dict.fromkeys(parts, every)
    finally:
        storage.close()
    names = list(dict.fromkeys(k for keys in left.values() for k in keys))
    for name in names:
        if name not in graph:
            typer.secho(
                f"warning: asset {name} is no longer in the workspace", err=True, fg="yellow"
            )
    keys = [AssetKey.parse(k) for k in names if k in graph]
    if not keys:
        if as_json:
            _echo_json(wsg, "nothing left to run", [], parent_run_id=run.run_id)
        else:
            typer.echo(f"run {run.run_id} has no asset left to run")
        return
    todo = {p: [AssetKey.parse(k) for k in ks if k in graph] for p, ks in left.items()}
    plan = passes(wsg, todo)  # once before the keys, one per key, once after them
    partitions = [p for p, _, stage in plan if stage == "key" and p is not None]
    what = _n(len(keys), "asset") + (f", {_n(len(partitions), 'partition')}" if partitions else "")
    typer.echo(f"retrying {run.run_id}: {what}", err=as_json)
    tags = {"trigger": "retry", "retry_of": run.run_id, "from_failure": str(from_failure).lower()}
    results: list[WorkspaceRun] = []
    failed: list[str] = []
    not_done: set[AssetKey] = set()  # by the passes so far
    first_not_done: set[AssetKey] = set()  # by the first pass
    i = 0
    for partition, todo_keys, stage in plan:
        if stage != "key":
            when = "before" if stage == "first" else "after"
            typer.echo(f"once {when} every partition", err=as_json)
        elif len(partitions) > 1:
            i += 1
            typer.echo(f"partition {partition} ({i}/{len(partitions)})", err=as_json)
        before = not_done if stage == "last" else first_not_done
        results.append(_run(wsg, todo_keys, partition, tags, as_json=as_json, before=before))
        not_done |= results[-1].not_done
        if stage == "first":
            first_not_done |= results[-1].not_done
        if partition is not None and not results[-1].success:
            failed.append(partition)
    if len(partitions) > 1 and failed:
        typer.secho(
            f"{len(failed)} of {_n(len(partitions), 'partition')} did not succeed: "
            f"{', '.join(failed)}",
            err=True,
            fg="red",
        )
    _finish(wsg, results, as_json)


def refuse_unsupported(argv: list[str]) -> None:
    """Exit 1 with a clear message when ``argv`` is a command that does not support
    workspaces yet but would act on one (``-p`` names one, or the current folder holds one
    and has no catchment.yaml)."""
    from catchment.workspace import WORKSPACE_FILE, find_workspace

    words = [a for a in argv if not a.startswith("-")]
    if not words or any(a in ("--help", "-h", "--version") for a in argv):
        return
    paired = ("assets", "runs", "schedules", "sensors")
    command = " ".join(words[:2]) if words[0] in paired else words[0]
    if command in SUPPORTED or command in ALIASES or words[0] in ("new", "plugins"):
        return
    target = None
    for i, a in enumerate(argv):
        if a in ("-p", "--project") and i + 1 < len(argv):
            target = argv[i + 1]
        elif a.startswith("--project="):
            target = a.partition("=")[2]
    if target is None and (Path.cwd() / "catchment.yaml").is_file():
        return
    ws = find_workspace(target)
    if ws is None:
        return
    typer.secho(
        f"error: {ws}: `catchment {command}` does not work on a workspace ({WORKSPACE_FILE}) "
        f"yet\n  hint: on a workspace use {', '.join(SUPPORTED)}; or run it on one project "
        "with -p PROJECT_FOLDER (it then loads that project in this environment)",
        err=True,
        fg="red",
    )
    raise typer.Exit(1)

"""`catchment observe`: look at what the warehouse holds for each asset and record it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from catchment.cli.common import PROJECT_OPTION_HELP, project_store

if TYPE_CHECKING:
    from catchment.execution.drift import Observed
    from catchment.execution.reconcile import AssetStatus
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey

OBSERVE_HELP = """Observe the selected assets (and their upstreams) in the warehouse and record it.

For each asset: whether its table exists, its row count, columns and data version, and what
differs from the records: table gone, columns drifted, rows changed outside catchment, a
source changed. An asset that cannot be observed is "unknown" with the cause. Observations
that say something new are recorded as `asset_observed` events. Exit code 1 if any selected
asset could not be observed.

Examples:

  catchment observe

  catchment observe -s 'marts/*' --json

In a folder holding catchment.workspace.yaml (or with -p naming one) it observes the whole
workspace: each project's assets by its own code, in its own Python environment.
"""


def observe(
    select: str | None = typer.Option(None, "-s", "--select", help="Selection expression."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list, one object per asset."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is not None:
        from catchment.workspace.cli import observe as observe_workspace

        observe_workspace(workspace, select, as_json)
        return
    from catchment.execution.observing import observe_project, observed_keys
    from catchment.execution.reconcile import reconcile

    with project_store(project_path) as (project, graph, storage):
        observed = observe_project(project, storage, select, ttl=0)
        statuses = {s.key: s for s in reconcile(graph, storage, select, observed=observed)}
    rows = observation_rows(graph, observed_keys(graph, select), observed, statuses)
    unknown = [r for r in rows if r["observed"] and r["exists"] is None]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        print_rows(rows)
    if unknown:
        raise typer.Exit(1)


def observation_rows(
    graph: AssetGraph,
    keys: Iterable[AssetKey],
    observed: Observed,
    statuses: Mapping[AssetKey, AssetStatus],
) -> list[dict[str, Any]]:
    """One row per key, as ``observe --json`` prints it: the observation and the state."""
    rows: list[dict[str, Any]] = []
    for key in keys:
        status = statuses.get(key)
        state, reasons = (status.state, status.reasons) if status else observed.external_status(key)
        obs = observed.observations.get(key)
        table = graph.specs[key].table
        rows.append(
            {
                "key": key.to_string(),
                "table": str(table) if table else None,
                "exists": obs.exists if obs else None,
                "row_count": obs.row_count if obs else None,
                "columns": obs.columns if obs else None,
                "data_version": obs.data_version if obs else None,
                "last_modified": obs.last_modified if obs else None,
                "observed_at": obs.observed_at if obs else None,
                "observed": obs is not None,
                "error": obs.error if obs else "not observable (nothing can look at it)",
                "state": state,
                "reasons": list(reasons),
            }
        )
    return rows


def print_rows(rows: list[dict[str, Any]]) -> None:
    """The rows as a table (with a project column when they name projects) and a summary."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    projects = any("project" in r for r in rows)
    table = Table("asset", *(["project"] if projects else []), "exists", "rows", "columns")
    table.add_column("version")
    table.add_column("state")
    table.add_column("why")
    for r in rows:
        exists = {True: "[green]yes[/]", False: "[red]gone[/]", None: "[magenta]unknown[/]"}
        if not r["observed"]:
            exists[None] = "-"
        cols = r["columns"]
        why = "; ".join(str(x) for x in r["reasons"]) if r["reasons"] else (r["error"] or "")
        table.add_row(
            escape(str(r["key"])),
            *([escape(str(r.get("project") or ""))] if projects else []),
            exists[r["exists"]],
            "" if r["row_count"] is None else str(r["row_count"]),
            "" if cols is None else str(len(cols)),
            str(r["data_version"] or "")[:8],
            str(r["state"]),
            escape(str(why)),
        )
    console.print(table)
    gone = sum(1 for r in rows if r["exists"] is False)
    unknown = sum(1 for r in rows if r["observed"] and r["exists"] is None)
    observed = sum(1 for r in rows if r["observed"])
    console.print(f"observed {observed} of {len(rows)} asset(s): {gone} gone, {unknown} unknown")


def register(app: typer.Typer) -> None:
    """Add ``catchment observe``."""
    app.command("observe", help=OBSERVE_HELP)(observe)

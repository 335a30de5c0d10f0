"""`catchment observe`: look at what the warehouse holds for each asset and record it."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from catchment.cli.common import PROJECT_OPTION_HELP, project_store

OBSERVE_HELP = """Observe the selected assets (and their upstreams) in the warehouse and record it.

For each asset: whether its table exists, its row count, columns and data version, and what
differs from the records: table gone, columns drifted, rows changed outside catchment, a
source changed. An asset that cannot be observed is "unknown" with the cause. Observations
that say something new are recorded as `asset_observed` events. Exit code 1 if any selected
asset could not be observed.

Examples:

  catchment observe

  catchment observe -s 'marts/*' --json
"""


def observe(
    select: str | None = typer.Option(None, "-s", "--select", help="Selection expression."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list, one object per asset."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    from catchment.execution.observing import observe_project, observed_keys
    from catchment.execution.reconcile import reconcile

    with project_store(project_path) as (project, graph, storage):
        observed = observe_project(project, storage, select, ttl=0)
        statuses = {s.key: s for s in reconcile(graph, storage, select, observed=observed)}
    rows: list[dict[str, object]] = []
    for key in observed_keys(graph, select):
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
    unknown = [r for r in rows if r["observed"] and r["exists"] is None]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
    else:
        _print(rows)
    if unknown:
        raise typer.Exit(1)


def _print(rows: list[dict[str, object]]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(highlight=False)
    table = Table("asset", "exists", "rows", "columns", "version", "state", "why")
    for r in rows:
        exists = {True: "[green]yes[/]", False: "[red]gone[/]", None: "[magenta]unknown[/]"}
        if not r["observed"]:
            exists[None] = "-"
        cols = r["columns"]
        why = "; ".join(str(x) for x in r["reasons"]) if r["reasons"] else (r["error"] or "")  # type: ignore[attr-defined]
        table.add_row(
            escape(str(r["key"])),
            exists[r["exists"]],  # type: ignore[index]
            "" if r["row_count"] is None else str(r["row_count"]),
            "" if cols is None else str(len(cols)),  # type: ignore[arg-type]
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

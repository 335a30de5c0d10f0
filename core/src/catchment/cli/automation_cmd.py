"""`catchment automation list|evaluate|explain`: see what the daemon's automation decides.

Nothing here launches a run: ``evaluate`` is one tick on the side (the state the daemon
recorded last is read, not written), ``explain`` shows one asset partition's condition tree
with each operand's value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from catchment.cli.common import PROJECT_OPTION_HELP, load_for_run, project_store

if TYPE_CHECKING:
    from catchment.automation.result import EvaluationResult
    from catchment.graph import AssetGraph
    from catchment.storage import Storage

automation_app = typer.Typer(
    name="automation",
    help="Inspect automation conditions and what they decide (nothing is launched).\n\n"
    "Examples:\n\n  catchment automation list\n\n  catchment automation evaluate --json\n\n"
    "  catchment automation explain marts/orders --partition 2026-01-04\n\n"
    "In a folder holding catchment.workspace.yaml (or with -p naming one) they read the "
    "workspace's merged graph and shared store.",
    no_args_is_help=True,
)

LIST_HELP = """List the assets that have an automation condition, with their partition scope
and freshness policy.

Examples:

  catchment automation list

  catchment automation list -s 'group:marts' --json
"""

EVALUATE_HELP = """Evaluate every automation condition once, now, and say what would run and
why. Nothing is launched or recorded; the memory of `.since()`, `.newly_true()` and cron
operands comes from the daemon's last recorded evaluation, if there is one.

Examples:

  catchment automation evaluate

  catchment automation evaluate --json
"""

EXPLAIN_HELP = """Show an asset's condition tree with each operand's value (✓ true, ✗ false)
at the daemon's last recorded evaluation, or evaluated now when none is recorded (or with
--now, which also says what made each operand true).

Partitioned assets: --partition picks the partition (default: the newest in scope).

Examples:

  catchment automation explain marts/orders

  catchment automation explain raw/events --partition 2026-01-04 --now --json
"""


@contextmanager
def _store(project_path: Path | None) -> Iterator[tuple[Any, AssetGraph, Storage]]:
    """``project_store``, or on a workspace its merged graph and shared store."""
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is not None:
        from catchment.workspace.cli import workspace_store

        with workspace_store(workspace) as found:
            yield found
    else:
        with project_store(project_path) as found:
            yield found


def _when(ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


@automation_app.command("list", help=LIST_HELP)
def list_automation(
    select: str | None = typer.Option(None, "-s", "--select", help="Selection expression."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list, one object per asset."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    from catchment.partitions import default_scope
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is not None:
        from catchment.workspace.cli import load_view

        graph = load_view(workspace)[0].require_graph()
    else:
        graph = load_for_run(project_path, acting=False).require_graph()
    chosen = graph.select(select) if select else None
    rows: list[dict[str, Any]] = []
    for key in graph:
        spec = graph.specs[key]
        if chosen is not None and key not in chosen:
            continue
        if spec.automation is None and spec.freshness is None:
            continue
        scope = None
        if spec.partitions is not None:
            scope = str(spec.partition_scope or default_scope(spec.partitions))
        rows.append(
            {
                "asset": key.to_string(),
                "condition": str(spec.automation) if spec.automation is not None else None,
                "partition_scope": scope,
                "freshness": str(spec.freshness) if spec.freshness is not None else None,
            }
        )
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    if not rows:
        typer.echo("no asset has an automation condition or a freshness policy")
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table("asset", "condition", "partitions in scope", "freshness")
    for r in rows:
        table.add_row(
            escape(r["asset"]),
            escape(r["condition"] or ""),
            r["partition_scope"] or "",
            escape(r["freshness"] or ""),
        )
    Console(highlight=False).print(table)


def _previous_state(storage: Any) -> Any:
    from catchment.automation.explain import latest_evaluation

    recorded = latest_evaluation(storage)
    return recorded[1].state if recorded is not None else None


def _summary(result: EvaluationResult) -> dict[str, Any]:
    return {
        "evaluated_at": result.evaluated_at,
        "assets": result.assets,
        "partitions": result.subjects,
        "queries": result.queries,
        "duration": result.duration,
        "run_requests": [
            {
                "asset_keys": list(r.asset_keys),
                "partition_keys": list(r.partition_keys),
                "reason": r.reason,
            }
            for r in result.run_requests
        ],
        "decisions": [
            {
                "asset": d.asset,
                "partition": d.partition,
                "condition": d.condition,
                "reason": d.reason,
            }
            for d in result.decisions
        ],
        "problems": result.problems,
    }


@automation_app.command("evaluate", help=EVALUATE_HELP)
def evaluate_now(
    as_json: bool = typer.Option(False, "--json", help="Print the evaluation as JSON."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    from catchment.automation.evaluator import evaluate

    with _store(project_path) as (_, graph, storage):
        result = evaluate(graph, storage, None, _previous_state(storage))
    summary = _summary(result)
    if as_json:
        typer.echo(json.dumps(summary, indent=2))
        return
    typer.echo(
        f"evaluated {result.assets} asset(s), {result.subjects} partition(s) in scope, "
        f"in {result.duration * 1000:.0f} ms and {result.queries} queries"
    )
    for problem_asset, problem in result.problems.items():
        typer.secho(f"warning: {problem_asset}: {problem}", err=True, fg="yellow")
    if not result.run_requests:
        typer.echo("nothing would run")
        return
    typer.echo(f"would start {len(result.run_requests)} run(s):")
    for r in result.run_requests:
        parts = f" (partitions {', '.join(r.partition_keys)})" if r.partition_keys else ""
        typer.echo(f"  - {', '.join(r.asset_keys)}{parts}")
    typer.echo("because:")
    for d in result.decisions:
        part = f" [{d.partition}]" if d.partition else ""
        typer.echo(f"  {d.asset}{part}: {d.reason}")


@automation_app.command("explain", help=EXPLAIN_HELP)
def explain(
    asset: str = typer.Argument(..., help="The asset key, e.g. marts/orders."),
    partition: str | None = typer.Option(None, "--partition", help="The partition to explain."),
    now: bool = typer.Option(False, "--now", help="Evaluate now instead of reading the last tick."),
    as_json: bool = typer.Option(False, "--json", help="Print the tree as JSON."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
) -> None:
    from catchment.automation.evaluator import explain_now
    from catchment.automation.explain import explain_result, latest_evaluation, render
    from catchment.errors import CatchmentError
    from catchment.keys import AssetKey

    with _store(project_path) as (_, graph, storage):
        key = AssetKey.parse(asset)
        if key not in graph:
            raise CatchmentError(
                f"no asset {key} in the project", hint="run `catchment assets list`"
            )
        recorded = None if now else latest_evaluation(storage)
        if recorded is not None:
            tick_id, result = recorded
            explanation = explain_result(graph, result, key, partition, tick_id=tick_id)
        else:
            previous = _previous_state(storage)
            explanation = explain_now(graph, storage, key, partition, None, previous)
    if as_json:
        typer.echo(json.dumps(explanation.to_dict(), indent=2))
        return
    typer.echo(render(explanation))


def register(app: typer.Typer) -> None:
    """Add ``catchment automation``."""
    app.add_typer(automation_app, name="automation")

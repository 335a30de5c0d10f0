"""`catchment assets`: list (and, from other modules, show) the assets of the project."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from catchment.cli.common import NO_CACHE_OPTION_HELP, PROJECT_OPTION_HELP, load_for_listing
from catchment.cli.listing import asset_dict, asset_json_rows, asset_rows

if TYPE_CHECKING:
    from collections.abc import Mapping

    from catchment.specs import AssetSpec

assets_app = typer.Typer(
    name="assets",
    help="Inspect the assets of the project.\n\nExamples:\n\n  catchment assets list\n\n"
    "  catchment assets list -s 'group:marts and +orders' --json",
    no_args_is_help=True,
)

LIST_HELP = """List the project's assets in dependency order.

Without -s, every asset is listed, external sources (tables no asset writes) included.

Selection syntax: key:raw/orders, group:marts, tag:team=sales, kind:dbt, owner:ana@x.com,
+orders (with upstream), orders+ (with downstream), and/or/not.

Examples:

  catchment assets list

  catchment assets list -s 'kind:dbt' --json

  catchment assets list --project path/to/project

In a folder holding catchment.workspace.yaml (or with -p naming one) it acts on the whole
workspace: every project in its own Python environment.
"""


def column_lines(
    spec: AssetSpec, metadata: Mapping[str, Any] | None
) -> tuple[dict[str, Any] | None, list[str]]:
    """Column lineage of ``spec`` for `assets show --columns`: the JSON form (None when the
    asset has no SQL) and the text lines."""
    from catchment.columns import SqlParseError, asset_column_lineage

    try:
        lineage = asset_column_lineage(spec, metadata)
    except SqlParseError as error:
        return None, [f"  columns       its SQL does not parse: {error}"]
    if lineage is None:
        return None, ["  columns       no SQL to read column lineage from"]
    data = {
        name: {
            "kind": lineage.kinds.get(name, "transformation"),
            "sources": [f"{s.table}.{s.column}" for s in sources],
        }
        for name, sources in lineage.columns.items()
    }
    lines = [f"  columns ({len(data)}, from {', '.join(lineage.tables) or 'no table'}):"]
    width = max((len(n) for n in data), default=0)
    for name, entry in data.items():
        sources = ", ".join(entry["sources"]) or "(no column)"
        lines.append(f"    {name:{width}}  <- {sources}  [{entry['kind']}]")
    return data, lines


@assets_app.command("list", help=LIST_HELP)
def list_assets(
    select: str | None = typer.Option(None, "-s", "--select", help="Selection expression."),
    as_json: bool = typer.Option(False, "--json", help="Print a JSON list, one object per asset."),
    project_path: Path | None = typer.Option(None, "--project", "-p", help=PROJECT_OPTION_HELP),
    no_cache: bool = typer.Option(False, "--no-cache", help=NO_CACHE_OPTION_HELP),
) -> None:
    from catchment.cli.output import print_json
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path)
    if workspace is not None:
        from catchment.workspace.cli import assets_list

        assets_list(workspace, select, as_json, no_cache)
        return
    project, graph = load_for_listing(project_path, no_cache)
    if as_json:
        print_json(asset_json_rows(graph, select))
        return
    rows = asset_rows(project, graph, select)
    from rich.console import Console
    from rich.table import Table

    table = Table("key", "group", "kinds", "deps", "table", "checks", "component")
    for r in rows:
        table.add_row(
            r["key"] + (" (external)" if r["external"] else ""),
            r["group"] or "",
            ", ".join(r["kinds"]),
            str(len(r["deps"])),
            r["table"]["qualified_name"] if r["table"] else "",
            str(len(r["checks"])),
            r["component"] or "",
        )
    Console().print(table)


__all__ = ["asset_dict", "assets_app", "column_lines", "list_assets", "register"]


def register(app: typer.Typer) -> None:
    """Add ``catchment assets``."""
    app.add_typer(assets_app, name="assets")

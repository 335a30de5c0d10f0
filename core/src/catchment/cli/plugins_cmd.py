"""`catchment plugins`: every adapter found, its version, status and error."""

from __future__ import annotations

import json

import typer

HELP = """Show every installed adapter and whether it loaded.

For each: name, distribution, version, core API range, status (ok, failed, incompatible,
disabled), the component types it serves, and its error.

A broken adapter is listed with its error and skipped; the others still work.

Examples:

  catchment plugins

  catchment plugins --json | jq '.[] | select(.status != "ok")'

  CATCHMENT_ADAPTERS=dbt,sling catchment plugins     # load only these (builtin always loads)

  CATCHMENT_STRICT=1 catchment plugins               # re-raise the first failure (adapter authors)
"""


def plugins(
    as_json: bool = typer.Option(
        False, "--json", help="Print a JSON list, one object per adapter."
    ),
) -> None:
    from catchment.plugins import get_registry

    registry = get_registry()
    if as_json:
        typer.echo(json.dumps([r.to_dict() for r in registry.adapters], indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    colors = {"ok": "green", "failed": "red", "incompatible": "yellow", "disabled": "dim"}
    table = Table()
    table.add_column("name", no_wrap=True)
    for column in ("distribution", "version", "api", "status", "component types"):
        table.add_column(column)
    for r in registry.adapters:
        table.add_row(
            r.name,
            r.distribution or "",
            r.version or "",
            r.api or "",
            f"[{colors[r.status]}]{r.status}[/]",
            ", ".join(r.component_types),
        )
    console = Console()
    console.print(table)
    for r in registry.adapters:
        if r.error and r.status != "disabled":
            color = colors[r.status]
            console.print(f"[{color}]{escape(r.name)}[/] ({r.status}): {escape(r.error)}")
            if r.hint:
                console.print(f"    hint: {r.hint}", markup=False)


def register(app: typer.Typer) -> None:
    """Add ``catchment plugins``."""
    app.command("plugins", help=HELP)(plugins)

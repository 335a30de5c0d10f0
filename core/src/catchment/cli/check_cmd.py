"""`catchment check`: load the project and report every problem (adapters, components, graph)."""

from __future__ import annotations

from pathlib import Path

import typer

HELP = """Load the project and report every problem (exit code 1 if any).

Problems are: broken adapters, components that fail to validate or build, graph errors
(duplicate keys, cycles, two writers of a table) and policy rejections. CI can gate on it.

Examples:

  catchment check                    # the project in this folder

  catchment check path/to/project    # or its catchment.yaml
"""


def check(
    path: Path | None = typer.Argument(None, help="Project folder or catchment.yaml (default: .)"),
) -> None:
    from catchment.project import load_project

    project = load_project(path)
    if project.problems:
        from catchment.cli.common import print_problems

        print_problems(project.problems)
        n = len(project.problems)
        typer.secho(f"{n} problem{'s' if n != 1 else ''} in {project.name}", err=True, fg="red")
        raise typer.Exit(1)
    graph = project.graph
    assets = sum(1 for k in graph.specs if not graph.is_external(k)) if graph else 0
    checks = sum(len(d.all_check_specs) for d in project.definitions)
    adapters = sum(1 for r in project.registry.adapters if r.status == "ok")
    typer.secho(
        f"OK {project.name}: {assets} assets, {checks} checks, "
        f"{len(project.components)} components, {adapters} adapters",
        fg="green",
    )


def register(app: typer.Typer) -> None:
    """Add ``catchment check``."""
    app.command("check", help=HELP)(check)

"""`catchment check`: load the project and report every problem (adapters, components, graph)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

import typer

if TYPE_CHECKING:
    from catchment.problems import Problem

HELP = """Load the project and report every problem (exit code 1 if any).

Problems are: broken adapters, components that fail to validate or build, graph errors
(duplicate keys, cycles, two writers of a table) and policy rejections. CI can gate on it.

Examples:

  catchment check                    # the project in this folder

  catchment check path/to/project    # or its catchment.yaml

  catchment check --fast             # from the definitions snapshot when it is current

In a folder holding catchment.workspace.yaml (or with -p naming one) it acts on the whole
workspace: every project in its own Python environment.
"""


def _report(name: str, problems: Sequence[Problem]) -> NoReturn:
    """Print every problem with its hint, then exit 1."""
    from catchment.cli.common import print_problems

    print_problems(problems)
    n = len(problems)
    typer.secho(f"{n} problem{'s' if n != 1 else ''} in {name}", err=True, fg="red")
    raise typer.Exit(1)


def check(
    path: Path | None = typer.Argument(None, help="Project folder or catchment.yaml (default: .)"),
    fast: bool = typer.Option(
        False,
        "--fast",
        help="Report the problems kept in the definitions snapshot when it is current "
        "(importing no adapter); otherwise load the project.",
    ),
) -> None:
    from catchment.workspace import find_workspace

    workspace = find_workspace(path)
    if workspace is not None:
        from catchment.workspace.cli import check as check_workspace

        check_workspace(workspace)
        return
    if fast:
        _check_fast(path)
        return
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


def _check_fast(path: Path | None) -> None:
    """`check --fast`: the same report, from the snapshot's problems and graph."""
    from catchment.snapshot import load_read_only

    project = load_read_only(path)
    if project.problems:
        _report(project.name, project.problems)
    graph = project.graph
    assets = sum(1 for k in graph.specs if not graph.is_external(k)) if graph else 0
    checks = sum(len(d.all_check_specs) for d in project.definitions)
    source = "definitions snapshot" if project.from_snapshot else "fresh load"
    typer.secho(
        f"OK {project.name}: {assets} assets, {checks} checks, "
        f"{len(project.components)} components ({source})",
        fg="green",
    )


def register(app: typer.Typer) -> None:
    """Add ``catchment check``."""
    app.command("check", help=HELP)(check)

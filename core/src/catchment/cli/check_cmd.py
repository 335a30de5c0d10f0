"""`catchment check`: load the project and report every problem (adapters, components, graph)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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

  catchment check --json             # for scripts: {"ok", "problems", counts}; exit 1 if any

In a folder holding catchment.workspace.yaml (or with -p naming one) it acts on the whole
workspace: every project in its own Python environment.
"""


def _report(name: str | None, problems: Sequence[Problem], *, as_json: bool = False) -> NoReturn:
    """Print every problem with its hint (or the JSON report), then exit 1."""
    from catchment.cli.common import print_problems

    if as_json:
        _print_report(name, problems)
        raise typer.Exit(1)
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
    as_json: bool = typer.Option(
        False, "--json", help="Print the result as JSON on stdout (same exit code)."
    ),
) -> None:
    from catchment.workspace import find_workspace

    workspace = find_workspace(path)
    if workspace is not None:
        if as_json:
            typer.secho(
                f"error: {workspace}: `check --json` does not support workspaces yet",
                err=True,
                fg="red",
            )
            typer.echo("  hint: run it in each project's folder (`-p PROJECT`)", err=True)
            raise typer.Exit(1)
        from catchment.workspace.cli import check as check_workspace

        check_workspace(workspace)
        return
    if fast:
        with _unloadable_as_json(as_json):
            _check_fast(path, as_json=as_json)
        return
    from catchment.project import load_project

    with _unloadable_as_json(as_json):
        project = load_project(path)
    if project.problems:
        _report(project.name, project.problems, as_json=as_json)
    graph = project.graph
    assets = sum(1 for k in graph.specs if not graph.is_external(k)) if graph else 0
    checks = sum(len(d.all_check_specs) for d in project.definitions)
    adapters = sum(1 for r in project.registry.adapters if r.status == "ok")
    counts = {"assets": assets, "checks": checks, "components": len(project.components)}
    if as_json:
        _print_report(project.name, [], {**counts, "adapters": adapters})
        return
    typer.secho(f"OK {project.name}: {_counted({**counts, 'adapters': adapters})}", fg="green")


@contextmanager
def _unloadable_as_json(as_json: bool) -> Iterator[None]:
    """With ``--json``, a project that cannot load at all (no or malformed catchment.yaml) is
    a JSON report too, so that a script reading stdout never meets prose instead."""
    from catchment.errors import CatchmentError
    from catchment.problems import Problem

    try:
        yield
    except CatchmentError as exc:
        if not as_json:
            raise
        problem = Problem(kind="project", where=exc.where or "", message=exc.message, hint=exc.hint)
        _report(None, [problem], as_json=True)


def _counted(counts: dict[str, int]) -> str:
    """``3 assets, 1 check, ...``: each count with its noun, singular when it is one."""
    return ", ".join(f"{n} {noun if n != 1 else noun[:-1]}" for noun, n in counts.items())


def _print_report(
    name: str | None, problems: Sequence[Problem], counts: dict[str, int] | None = None
) -> None:
    """The machine-readable result of `check --json`: project, ok, problems and counts."""
    from catchment.cli.output import print_json

    report: dict[str, object] = {
        "project": name,
        "ok": not problems,
        "problems": [p.to_dict() for p in problems],
    }
    print_json({**report, **(counts or {})})


def _check_fast(path: Path | None, *, as_json: bool = False) -> None:
    """`check --fast`: the same report, from the snapshot's problems and graph."""
    from catchment.snapshot import load_read_only

    project = load_read_only(path)
    if project.problems:
        _report(project.name, project.problems, as_json=as_json)
    graph = project.graph
    assets = sum(1 for k in graph.specs if not graph.is_external(k)) if graph else 0
    checks = sum(len(d.all_check_specs) for d in project.definitions)
    source = "definitions snapshot" if project.from_snapshot else "fresh load"
    counts = {"assets": assets, "checks": checks, "components": len(project.components)}
    if as_json:
        _print_report(project.name, [], counts)
        return
    typer.secho(f"OK {project.name}: {_counted(counts)} ({source})", fg="green")


def register(app: typer.Typer) -> None:
    """Add ``catchment check``."""
    app.command("check", help=HELP)(check)

"""What the CLI's commands share: the ``--project`` option, loading a project for a command
(with its open run store), and running a plan under the run display."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from catchment.cli.display import RunDisplay

if TYPE_CHECKING:
    from catchment.execution.plan import Plan
    from catchment.execution.result import ExecutionResult
    from catchment.graph import AssetGraph
    from catchment.project import Project
    from catchment.snapshot import ReadOnlyProject
    from catchment.storage import Storage

PROJECT_OPTION_HELP = "Project folder or catchment.yaml (default: .)"
NO_CACHE_OPTION_HELP = (
    "Load the project afresh instead of using its definitions snapshot "
    "(.catchment/definitions.snapshot), and rewrite the snapshot."
)
EXECUTOR_OPTION_HELP = (
    "Where steps run: inprocess, multiprocess, dask (a local cluster) or "
    "dask:tcp://HOST:8786 (default: defaults.executor in catchment.yaml, else --workers)."
)


def load_for_run(project_path: Path | None) -> Project:
    """Load the project, warn about problems that do not stop a run."""
    from catchment.project import load_project

    project = load_project(project_path)
    for p in project.problems:
        if p.kind != "graph":
            typer.secho(f"warning: {p}", err=True, fg="yellow")
    return project


@contextmanager
def project_store(project_path: Path | None) -> Iterator[tuple[Project, AssetGraph, Storage]]:
    """Load the project (warning about problems that leave its graph usable), open its run
    store (dynamic partition keys bound) and close the store however the command ends."""
    from catchment.execution.project import open_project_storage

    project = load_for_run(project_path)
    graph = project.require_graph()
    storage = open_project_storage(project)
    try:
        yield project, graph, storage
    finally:
        storage.close()


def load_for_reading(project_path: Path | None, no_cache: bool = False) -> ReadOnlyProject:
    """The project for a command that only reads its graph and records (``plan``, ``assets
    show``): from its definitions snapshot when current, warning about problems that do not
    stop it."""
    from catchment.snapshot import load_read_only

    project = load_read_only(project_path, no_cache=no_cache)
    for p in project.problems:
        if p.kind != "graph":
            typer.secho(f"warning: {p}", err=True, fg="yellow")
    return project


def load_for_listing(
    project_path: Path | None, no_cache: bool = False
) -> tuple[ReadOnlyProject, AssetGraph]:
    """Load the project for a command that lists what loaded (from its definitions snapshot
    when current): exit 1 (naming every problem) when there is no graph, else warn about the
    problems and go on with the graph."""
    from catchment.snapshot import load_read_only

    project = load_read_only(project_path, no_cache=no_cache)
    graph = project.graph
    if graph is None:
        for p in project.problems:
            typer.secho(f"✗ [{p.kind}] {p.where}: {p.message}", err=True, fg="red")
        typer.secho("the asset graph could not be built", err=True, fg="red")
        raise typer.Exit(1)
    warn_problems(project)
    return project, graph


def warn_problems(project: Project | ReadOnlyProject) -> None:
    """Tell (on stderr) that parts of the project did not load, without failing."""
    if project.problems:
        n = len(project.problems)
        typer.secho(
            f"warning: {n} problem{'s' if n != 1 else ''} (run `catchment check`); "
            "listing what loaded",
            err=True,
            fg="yellow",
        )


def run_with_display(
    project: Project, storage: Storage, plan: Plan, **options: Any
) -> ExecutionResult:
    """Run ``plan`` (``run_project`` with ``options``) under a ``RunDisplay``, then print the
    summary."""
    from catchment.execution.project import run_project

    option = options.pop("executor_option", None)
    if option is not None:
        from catchment.execution.choose import executor_for_project

        options["executor"] = executor_for_project(project, option, options.get("workers"))
    with RunDisplay(len(plan.steps)) as display:
        try:
            result = run_project(
                project, plan=plan, storage=storage, on_event=display.on_event, **options
            )
        except KeyboardInterrupt:
            display.__exit__(None, None, None)
            typer.secho("canceled", err=True, fg="yellow")
            raise typer.Exit(130) from None
    display.summary(result)
    return result

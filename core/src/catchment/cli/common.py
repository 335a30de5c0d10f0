"""What the CLI's commands share: the ``--project`` option, loading a project for a command
(with its open run store), and running a plan under the run display."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from catchment.cli.display import RunDisplay

if TYPE_CHECKING:
    from catchment.events import Event
    from catchment.execution.plan import Plan
    from catchment.execution.result import ExecutionResult
    from catchment.graph import AssetGraph
    from catchment.problems import Problem
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
    "dask:tcp://HOST:8786, optionally with ,kill_grace_seconds=N "
    "(default: defaults.executor in catchment.yaml, else --workers)."
)


ALLOW_BROKEN_HELP = (
    "Act on what loaded although parts of the project did not (they are listed as warnings); "
    "also CATCHMENT_ALLOW_BROKEN=1."
)


def allow_broken_option() -> Any:
    """The ``--allow-broken`` option of the commands that act on a project."""
    return typer.Option(False, "--allow-broken", help=ALLOW_BROKEN_HELP)


def print_problems(problems: Sequence[Problem]) -> None:
    """Every problem on stderr as ``✗ [kind] file:line: message`` with its hint."""
    for p in problems:
        typer.secho(f"✗ [{p.kind}] {p.where}: {p.message}", err=True, fg="red")
        if p.hint:
            typer.echo(f"    hint: {p.hint}", err=True)


def load_for_run(
    project_path: Path | None, *, allow_broken: bool = False, acting: bool = True
) -> Project:
    """Load the project for a command. A command that acts (``acting``: runs, plans) exits 1
    naming every problem of the project's own files (components, sections, graph) unless
    ``allow_broken`` (or CATCHMENT_ALLOW_BROKEN=1) says to go on with what loaded; a broken
    adapter no component uses, and any problem of a command that only shows, is a warning."""
    from catchment.project import load_project

    project = load_project(project_path)
    _stop_or_warn(project, allow_broken=allow_broken, acting=acting)
    return project


def _stop_or_warn(project: Project | ReadOnlyProject, *, allow_broken: bool, acting: bool) -> None:
    """Exit 1 naming the problems when an acting command meets a broken project (see
    ``load_for_run``); otherwise warn about each problem that leaves the graph usable."""
    import os

    blocking = [p for p in project.problems if p.kind != "adapter"]
    allow_broken = allow_broken or os.environ.get("CATCHMENT_ALLOW_BROKEN", "") not in ("", "0")
    if acting and blocking and not allow_broken:
        print_problems(project.problems)
        n = len(blocking)
        typer.secho(
            f"{n} problem{'s' if n != 1 else ''} in {project.name}: nothing was run "
            "(fix them, or pass --allow-broken to act on the parts that loaded)",
            err=True,
            fg="red",
        )
        raise typer.Exit(1)
    for p in project.problems:
        if p.kind != "graph":
            typer.secho(f"warning: {p}", err=True, fg="yellow")


@contextmanager
def project_store(project_path: Path | None) -> Iterator[tuple[Project, AssetGraph, Storage]]:
    """Load the project (warning about problems that leave its graph usable), open its run
    store (dynamic partition keys bound) and close the store however the command ends."""
    from catchment.execution.project import open_project_storage

    project = load_for_run(project_path, acting=False)
    graph = project.require_graph()
    storage = open_project_storage(project)
    try:
        yield project, graph, storage
    finally:
        storage.close()


def load_for_reading(
    project_path: Path | None,
    no_cache: bool = False,
    *,
    allow_broken: bool = False,
    acting: bool = False,
) -> ReadOnlyProject:
    """The project for a command that only reads its graph and records (``plan``, ``assets
    show``): from its definitions snapshot when current. Problems stop an ``acting`` command
    (``plan``) as in ``load_for_run``; otherwise they are warnings."""
    from catchment.snapshot import load_read_only

    project = load_read_only(project_path, no_cache=no_cache)
    _stop_or_warn(project, allow_broken=allow_broken, acting=acting)
    return project


def load_for_observing(
    project_path: Path | None,
    no_cache: bool = False,
    *,
    allow_broken: bool = False,
    selection: str | None = None,
) -> tuple[Project | ReadOnlyProject, Project, AssetGraph | None]:
    """For ``plan``, which reads the graph and observes the warehouse: (the project whose
    graph to judge, the project to observe with, the graph to observe when it is not the
    latter's). From a current definitions snapshot, observing loads only the resources, IO
    managers and the components whose definitions carry observers (no tool or user code
    otherwise); else the project is loaded once (and its snapshot written)."""
    from catchment.execution.observing import load_observing_project
    from catchment.snapshot.cache import (
        locate_file,
        project_from_snapshot,
        read_snapshot,
        refresh,
    )

    file = locate_file(project_path)
    snapshot = None if no_cache else read_snapshot(file)
    if snapshot is not None:
        try:
            read_only: ReadOnlyProject | None = project_from_snapshot(snapshot)
        except (ValueError, TypeError, KeyError):  # corrupt: loaded and rewritten below
            read_only = None
        if read_only is not None:
            _stop_or_warn(read_only, allow_broken=allow_broken, acting=True)
            observing = load_observing_project(read_only, selection)
            if observing is not None:
                return read_only, observing, read_only.require_graph()
    project = refresh(file)[0]
    _stop_or_warn(project, allow_broken=allow_broken, acting=True)
    return project, project, None


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
        print_problems(project.problems)
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
    project: Project,
    storage: Storage,
    plan: Plan,
    *,
    as_json: bool = False,
    report: Callable[[str], None] | None = None,
    **options: Any,
) -> ExecutionResult:
    """Run ``plan`` (``run_project`` with ``options``) under a ``RunDisplay``, then print the
    summary. With ``as_json``: progress lines on stderr (and anything the run prints on stdout
    goes there too), then the run as ``catchment runs show RUN --json`` prints it, also when
    it is canceled (Ctrl-C, exit 130); ``report`` receives the run's id instead of it being
    printed (a command printing several runs as one document)."""
    from catchment.execution.project import run_project

    option = options.pop("executor_option", None)
    if option is not None:
        from catchment.execution.choose import executor_for_project

        options["executor"] = executor_for_project(project, option, options.get("workers"))
    if as_json:
        return _run_for_json(project, storage, plan, options, report)
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


def _run_for_json(
    project: Project,
    storage: Storage,
    plan: Plan,
    options: dict[str, Any],
    report: Callable[[str], None] | None,
) -> ExecutionResult:
    """``run_with_display`` with ``as_json``."""
    from catchment.cli.display import describe
    from catchment.cli.runs_cmd import echo_run_json
    from catchment.execution.project import run_project

    tell = report or (lambda run_id: echo_run_json(storage, run_id))
    run_ids: list[str] = []

    def on_event(event: Event) -> None:
        if not run_ids:
            run_ids.append(event.run_id)
        shown = describe(event)
        if shown is not None:
            typer.echo(f"{shown[0]} {shown[1]}", err=True)

    try:
        with stdout_to_stderr():
            result = run_project(project, plan=plan, storage=storage, on_event=on_event, **options)
    except KeyboardInterrupt:
        typer.secho("canceled", err=True, fg="yellow")
        if run_ids:
            tell(run_ids[0])
        raise typer.Exit(130) from None
    tell(result.run_id)
    return result


@contextmanager
def stdout_to_stderr() -> Iterator[None]:
    """While inside, what Python code and child processes write to stdout goes to stderr, so
    a ``--json`` command's stdout holds only its JSON."""
    import os
    import sys
    from contextlib import redirect_stdout

    sys.stdout.flush()
    try:
        saved: int | None = os.dup(1)
        os.dup2(2, 1)
    except OSError:  # no file descriptors to move (an embedding host): Python's stdout only
        saved = None
    try:
        with redirect_stdout(sys.stderr):
            yield
    finally:
        if sys.__stdout__ is not None:
            sys.__stdout__.flush()
        if saved is not None:
            os.dup2(saved, 1)
            os.close(saved)


def parse_tags(tags: list[str]) -> dict[str, str]:
    """``--tag KEY=VALUE`` options as a dict; a ``CatchmentError`` naming a malformed one."""
    from catchment.errors import CatchmentError

    pairs = {}
    for item in tags:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise CatchmentError(f"--tag {item!r} is not KEY=VALUE", where="--tag")
        pairs[key] = value
    return pairs

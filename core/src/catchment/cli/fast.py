"""The ``catchment`` entry point: `assets list --json` answered without typer (whose option
handling imports pydantic) when the definitions snapshot is current; every other command, and
any argument this path does not know, goes to the typer app (``cli/main.py``)."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["fast_assets_list", "main"]

_VALUED = {"-s": "select", "--select": "select", "-p": "project", "--project": "project"}
_FLAGS = {"--json": "json", "--no-cache": "no_cache"}


def _parse(argv: Sequence[str]) -> dict[str, str | bool] | None:
    """The options of ``assets list --json ...`` when ``argv`` is exactly that, else None."""
    if len(argv) < 2 or argv[0] != "assets" or argv[1] != "list":
        return None
    out: dict[str, str | bool] = {}
    rest = list(argv[2:])
    while rest:
        arg = rest.pop(0)
        name, eq, value = arg.partition("=")
        if name in _VALUED and name.startswith("--") and eq:
            out[_VALUED[name]] = value
        elif arg in _VALUED and rest:
            out[_VALUED[arg]] = rest.pop(0)
        elif arg in _FLAGS:
            out[_FLAGS[arg]] = True
        else:
            return None
    return out if out.get("json") else None


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


_LIST_COMMAND = ("assets", "list", "--json")
"""The command an output cache entry of an unselected listing is stored under."""


_KEPT: list[object] = []
"""What a listing loaded, kept to the end of the process: ``main`` leaves without freeing it."""


def fast_assets_list(options: dict[str, str | bool]) -> int:
    """`assets list --json` as the typer command does it (same output, messages and exit
    codes), with none of the CLI's own imports. An unselected listing of a project that
    loads without problems is served from its output cache while the definitions snapshot's
    key matches (``catchment.snapshot.output``)."""
    from catchment.cli.output import write_stdout
    from catchment.snapshot.paths import locate_file

    project_path = options.get("project")
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path if isinstance(project_path, str) else None)
    if workspace is not None:
        return _workspace_list(workspace, options)
    file = locate_file(project_path if isinstance(project_path, str) else None)
    no_cache = bool(options.get("no_cache"))
    select = options.get("select")
    select = select if isinstance(select, str) and select else None
    if not no_cache and select is None:
        from catchment.snapshot.output import read_output

        cached = read_output(file, _LIST_COMMAND)
        if cached is not None:
            write_stdout(cached)
            return 0
    from catchment.cli.listing import asset_json_rows
    from catchment.cli.output import json_bytes
    from catchment.snapshot import load_read_only

    project = load_read_only(file, no_cache=no_cache)
    _KEPT.append(project)  # freed by the exit, not one object at a time (see ``main``)
    graph = project.graph
    if graph is None:
        for p in project.problems:
            _err(f"✗ [{p.kind}] {p.where}: {p.message}")
        _err("the asset graph could not be built")
        return 1
    if project.problems:
        n = len(project.problems)
        _err(
            f"warning: {n} problem{'s' if n != 1 else ''} (run `catchment check`); "
            "listing what loaded"
        )
    body = json_bytes(asset_json_rows(graph, select))
    write_stdout(body)
    if select is None and project.stamp is not None and not project.problems:
        from catchment.snapshot.output import write_output

        write_output(file, _LIST_COMMAND, project.stamp, body)
    return 0


def _workspace_list(workspace: Path, options: dict[str, str | bool]) -> int:
    """`assets list --json` on a workspace (projects from their snapshots)."""
    from catchment.cli.output import print_json
    from catchment.workspace import load_workspace
    from catchment.workspace.listing import rows

    wsg = load_workspace(workspace, no_cache=bool(options.get("no_cache")))
    if wsg.graph is None:
        for p in wsg.problems:
            _err(f"✗ [{p.kind}] {p.where}: {p.message}")
        _err("the workspace's asset graph could not be built")
        return 1
    if wsg.problems:
        n = len(wsg.problems)
        troubled = ", ".join(wsg.troubled)
        extra = f"; projects with problems: {troubled}" if troubled else ""
        _err(
            f"warning: {n} problem{'s' if n != 1 else ''} in the workspace (run `catchment "
            f"check`){extra}; going on with what loaded"
        )
    select = options.get("select")
    print_json(rows(wsg, select if isinstance(select, str) else None))
    return 0


def main() -> None:
    """Run the CLI: the fast path when it applies, else the typer app."""
    options = _parse(sys.argv[1:])
    if options is None:
        from catchment.cli.main import main as full

        full()
        return
    # A short read-only command: the cyclic collector would only walk the many acyclic
    # objects a large project decodes into (a tenth of the time); the exit frees them all.
    gc.disable()
    from catchment.errors import CatchmentError

    try:
        code = fast_assets_list(options)
    except CatchmentError as exc:
        if os.environ.get("CATCHMENT_DEBUG"):
            raise
        _err(f"error: {exc}")
        code = 1
    _exit(code)


def _exit(code: int) -> None:
    """Exit with ``code`` as ``sys.exit`` would (exit handlers run, output flushed), without
    tearing the interpreter down: freeing a large project's million objects one by one is
    ~5 % of a cold listing of 10,000 dbt models, and the system reclaims the memory at once."""
    import atexit

    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # pragma: no cover - whatever went wrong, exit the usual way
        sys.exit(code)
    os._exit(code)

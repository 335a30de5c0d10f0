"""The ``catchment`` entry point: `assets list --json` answered without typer (whose option
handling imports pydantic) when the definitions snapshot is current; every other command, and
any argument this path does not know, goes to the typer app (``cli/main.py``)."""

from __future__ import annotations

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


def fast_assets_list(options: dict[str, str | bool]) -> int:
    """`assets list --json` as the typer command does it (same output, messages and exit
    codes), with none of the CLI's own imports."""
    from catchment.cli.listing import asset_rows
    from catchment.cli.output import print_json
    from catchment.snapshot import load_read_only

    project_path = options.get("project")
    from catchment.workspace import find_workspace

    workspace = find_workspace(project_path if isinstance(project_path, str) else None)
    if workspace is not None:
        return _workspace_list(workspace, options)
    project = load_read_only(
        project_path if isinstance(project_path, str) else None,
        no_cache=bool(options.get("no_cache")),
    )
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
    select = options.get("select")
    print_json(asset_rows(project, graph, select if isinstance(select, str) else None))
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
    from catchment.errors import CatchmentError

    try:
        code = fast_assets_list(options)
    except CatchmentError as exc:
        if os.environ.get("CATCHMENT_DEBUG"):
            raise
        _err(f"error: {exc}")
        code = 1
    sys.exit(code)

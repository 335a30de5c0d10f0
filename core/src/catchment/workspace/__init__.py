"""Workspaces: many projects, each in its own Python environment, in one graph.

A ``catchment.workspace.yaml`` names the projects (folders with a ``catchment.yaml``), the
Python each one runs in, its owning team and the shared record store. The control plane never
imports a project's code: each project is loaded by a subprocess of its own environment
(``python -m catchment.snapshot``), cached by a key computed here, merged into one graph by
table identity (``workspace.graph``) and run project by project in its own environment
(``workspace.running``).

Modules: ``model`` (the file and its validation), ``loading`` (subprocesses and the cache),
``graph`` (the merged graph, collisions, the cross-project policy), ``running`` (materialize
across environments), ``observing`` (each project's warehouse observed by its environment),
``worker`` (what runs in a project's environment), ``cli`` (commands).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catchment.storage import Storage
    from catchment.workspace.graph import WorkspaceGraph

__all__ = ["WORKSPACE_FILE", "find_workspace", "load_workspace", "open_workspace_storage"]

WORKSPACE_FILE = "catchment.workspace.yaml"


def find_workspace(path: Path | str | None) -> Path | None:
    """The workspace file that ``path`` means (``-p``: the file itself, or a folder holding
    it; None: the current folder), or None when it is no workspace. Cheap: two stats."""
    p = Path.cwd() if path is None else Path(path).expanduser()
    if p.name == WORKSPACE_FILE and p.is_file():
        return p.resolve()
    candidate = p / WORKSPACE_FILE
    if candidate.is_file():
        return candidate.resolve()
    return None


def load_workspace(file: Path, *, no_cache: bool = False) -> WorkspaceGraph:
    """Validate the workspace file, load its projects (each in its own environment, from the
    workspace's cache when unchanged) and merge them into one graph."""
    from catchment.workspace.graph import build_workspace_graph
    from catchment.workspace.loading import load_projects
    from catchment.workspace.model import load_workspace_file

    ws = load_workspace_file(file)
    return build_workspace_graph(ws, load_projects(ws, no_cache=no_cache))


def open_workspace_storage(file: Path) -> Storage:
    """The workspace's shared run store (runs of dead processes marked abandoned)."""
    from catchment.storage import open_storage
    from catchment.workspace.model import load_workspace_file

    storage = open_storage(load_workspace_file(file).storage_url)
    storage.mark_abandoned_runs()
    return storage

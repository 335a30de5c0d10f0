"""The workspace seen as one read-only project: its name, folder, shared run store, merged
graph and problems. The commands that only read a graph and records (``assets show``,
``graph``, the UI) take it where they would take a project's ``ReadOnlyProject``."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from catchment.snapshot.view import ReadOnlyProject

if TYPE_CHECKING:
    from catchment.workspace.graph import WorkspaceGraph

__all__ = ["WorkspaceProject", "workspace_project"]


@dataclasses.dataclass
class WorkspaceProject(ReadOnlyProject):
    """The workspace as one read-only project: no adapters here (each project loads its
    own), and no schedules or sensors (the daemon reads those from each project's
    environment)."""


def workspace_project(wsg: WorkspaceGraph) -> WorkspaceProject:
    """``wsg`` as one read-only project (its graph required: a ``GraphError`` otherwise)."""
    from catchment.components import ProjectDefaults

    graph = wsg.require_graph()
    ws = wsg.workspace
    defaults = dataclasses.replace(ProjectDefaults.for_root(ws.root), storage_url=ws.storage_url)
    return WorkspaceProject(
        root=ws.root,
        file=ws.file,
        name=ws.name,
        defaults=defaults,
        definitions=tuple(graph.definitions.values()),
        graph=graph,
        problems=list(wsg.problems),
        from_snapshot=True,
    )

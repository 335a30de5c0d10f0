"""`catchment ui` on a workspace: the merged graph and the shared run store, read only.

The UI's state loads the workspace (every project from its snapshot, nothing imported)
instead of one project; actions (materialize, apply, cancel, retry) are refused, since the
UI's actions run steps in its own process and a workspace's steps must run in each project's
environment (use `catchment materialize` in the workspace folder)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from catchment.snapshot.view import ReadOnlyProject
from catchment.ui.state import UiState

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.project import Project

__all__ = ["WorkspaceUiState"]


@dataclasses.dataclass
class _NoAdapters:
    """The control plane loads no adapter for a workspace (each project loads its own)."""

    adapters: tuple[Any, ...] = ()


@dataclasses.dataclass
class _WorkspaceProject(ReadOnlyProject):
    """The workspace seen as the one project the UI shows: no adapters here, and no
    schedules or sensors (the daemon does not run workspaces yet)."""

    registry: _NoAdapters = dataclasses.field(default_factory=_NoAdapters)
    schedules: tuple[Any, ...] = ()
    sensors: tuple[Any, ...] = ()


class WorkspaceUiState(UiState):
    """A ``UiState`` whose "project" is the workspace: its name, folder, shared run store,
    merged graph and problems."""

    def __init__(self, file: Path):
        super().__init__(file.parent)
        self.workspace_file = file

    def _load_project(self) -> tuple[Project, AssetGraph]:
        from catchment.components import ProjectDefaults
        from catchment.workspace import load_workspace

        wsg = load_workspace(self.workspace_file)
        graph = wsg.require_graph()
        ws = wsg.workspace
        defaults = dataclasses.replace(
            ProjectDefaults.for_root(ws.root), storage_url=ws.storage_url
        )
        project = _WorkspaceProject(
            root=ws.root,
            file=ws.file,
            name=ws.name,
            defaults=defaults,
            definitions=tuple(graph.definitions.values()),
            graph=graph,
            problems=list(wsg.problems),
            from_snapshot=True,
        )
        return cast("Project", project), graph

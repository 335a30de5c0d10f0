"""`catchment ui` on a workspace: the merged graph and the shared run store, read only.

The UI's state loads the workspace (every project from its snapshot, nothing imported)
instead of one project; actions (materialize, apply, cancel, retry) are refused, since the
UI's actions run steps in its own process and a workspace's steps must run in each project's
environment (use `catchment materialize` in the workspace folder)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from catchment.ui.state import UiState

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.project import Project

__all__ = ["WorkspaceUiState"]


class WorkspaceUiState(UiState):
    """A ``UiState`` whose "project" is the workspace: its name, folder, shared run store,
    merged graph and problems."""

    def __init__(self, file: Path):
        super().__init__(file.parent)
        self.workspace_file = file

    def _load_project(self) -> tuple[Project, AssetGraph]:
        from catchment.workspace import load_workspace
        from catchment.workspace.view import workspace_project

        project = workspace_project(load_workspace(self.workspace_file))
        graph = project.graph
        assert graph is not None
        return cast("Project", project), graph

"""`catchment ui` on a workspace: the merged graph and the shared run store.

The UI's state loads the workspace (every project from its snapshot, nothing imported)
instead of one project. *Materialize* and *Apply* queue a run in the shared store, which the
workspace's daemon starts (or, with no daemon, the UI launches at once) as ``python -m
catchment.workspace.execute``: each project's assets in its own environment, never in the
UI's process. *Cancel* cancels a queued run; a started workspace run, and *Retry from
failure*, are refused with what to do instead."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

from catchment.ui.state import UiState

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.project import Project
    from catchment.runs.launch import Launcher

__all__ = ["WorkspaceUiState"]


class WorkspaceUiState(UiState):
    """A ``UiState`` whose "project" is the workspace: its name, folder, shared run store,
    merged graph and problems; its runs are launched by the workspace's runner."""

    retry_refusal = (
        "retry from failure does not work on a workspace yet: materialize what failed again "
        "(`catchment apply` in the workspace folder, or Apply here)"
    )

    def __init__(self, file: Path):
        super().__init__(file.parent)
        self.workspace_file = file

    def launcher(self) -> Launcher:
        from catchment.workspace.daemon import WorkspaceLauncher

        return WorkspaceLauncher(self.workspace_file)

    def cancel_refusal(self, run_id: str) -> str | None:
        run = self.storage.get_run(run_id)
        if run is None or run.status in ("queued", "starting"):
            return None
        if run.status == "started":
            return (
                f"run {run_id[:12]} of the workspace has started: a started workspace run "
                "cannot be canceled from the UI yet (stop its process, or wait for it)"
            )
        return None

    def _load_project(self) -> tuple[Project, AssetGraph]:
        from catchment.workspace import load_workspace
        from catchment.workspace.view import workspace_project

        project = workspace_project(load_workspace(self.workspace_file))
        graph = project.graph
        assert graph is not None
        return cast("Project", project), graph

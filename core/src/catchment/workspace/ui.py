"""`catchment ui` on a workspace: the merged graph and the shared run store.

The UI's state loads the workspace (every project from its snapshot, nothing imported)
instead of one project. *Materialize* and *Apply* queue a run in the shared store, which the
workspace's daemon starts (or, with no daemon, the UI launches at once) as ``python -m
catchment.workspace.execute``: each project's assets in its own environment, never in the
UI's process. *Cancel* cancels a queued run, or stops a started one (SIGINT to its process,
which stops its running batch); *Retry from failure* queues, as a workspace run, the assets
that its project runs did not materialize."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from catchment.ui.state import UiState

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.runs.launch import Launcher
    from catchment.snapshot.view import ReadOnlyProject

__all__ = ["WorkspaceUiState"]


class WorkspaceUiState(UiState):
    """A ``UiState`` whose "project" is the workspace: its name, folder, shared run store,
    merged graph and problems; its runs are launched by the workspace's runner."""

    def __init__(self, file: Path):
        super().__init__(file.parent)
        self.workspace_file = file

    def launcher(self) -> Launcher:
        """The workspace's runner; the runs it is given to queue are tagged with the teams and
        projects of their assets (``workspace.teams``)."""
        import functools

        from catchment.workspace.daemon import WorkspaceLauncher
        from catchment.workspace.teams import tag_request

        prepare = functools.partial(tag_request, self.require().graph)
        return WorkspaceLauncher(self.workspace_file, prepare=prepare)

    def retry_run(self, run_id: str) -> str:
        """Queue, as a child of ``run_id``, the assets it (through its project runs) did not
        materialize, on the partition keys they did not, as a workspace run; its id."""
        from catchment.runs.request import RunRequest
        from catchment.storage.base import ACTIVE_RUN_STATUSES
        from catchment.ui.actions import queue_and_launch
        from catchment.ui.params import BadRequest
        from catchment.workspace.execute import left_by_partition

        storage = self.storage
        run = storage.get_run(run_id)
        if run is None:
            raise LookupError(f"no run {run_id!r} in the record store")
        if run.status in ACTIVE_RUN_STATUSES:
            raise BadRequest(f"run {run_id[:12]} is {run.status}: retry it once it has ended")
        graph = self.require().graph
        by_key = left_by_partition(storage, run, graph)
        left = list(dict.fromkeys(k for ks in by_key.values() for k in ks if k in graph))
        if not left:
            raise BadRequest(f"run {run_id[:12]} has no asset left to run")
        request = RunRequest.for_assets(
            left,  # on the partition keys some asset failed for, not those all built
            partition_keys=[p for p, ks in by_key.items() if p is not None and ks],
            origin="ui",
            tags={"retry_of": run_id, "from_failure": "true"},
            reason=f"retry of {run_id[:12]} from failure",
        )
        return queue_and_launch(storage, self.launcher(), request, parent_run_id=run_id)

    def cancel_run(self, run_id: str) -> int | None:
        """A queued run is canceled in the store; a started workspace run's process
        (``python -m catchment.workspace.execute RUN_ID``, on this host) gets SIGINT: it asks
        its running batch to stop and ends canceled. Returns the pid signalled."""
        import os
        import signal
        import time

        from catchment.storage.base import HOSTNAME
        from catchment.ui.params import BadRequest

        storage = self.storage
        run = storage.get_run(run_id)
        if run is None:
            raise LookupError(f"no run {run_id!r} in the record store")
        if "workspace_run" in run.tags:  # one project's batch: canceled as any project run
            return super().cancel_run(run_id)
        if run.status == "started" and (run.host != HOSTNAME or run.pid is None):
            raise BadRequest(f"run {run_id[:12]} runs on {run.host or 'an unknown host'}")
        if run.status == "started":
            try:
                cmdline = Path(f"/proc/{run.pid}/cmdline").read_bytes()
            except OSError:
                raise BadRequest(f"the process of run {run_id[:12]} is gone") from None
            if run_id.encode() not in cmdline:
                raise BadRequest(f"pid {run.pid} does not name run {run_id[:12]}")
        status = storage.cancel_run(run_id, time.time(), reason="canceled from the UI")
        if status is None:
            raise BadRequest(f"run {run_id[:12]} is {run.status}: it has ended")
        if status == "canceled" or run.pid is None:
            return None
        os.kill(run.pid, signal.SIGINT)
        return run.pid

    def _load_project(self) -> tuple[ReadOnlyProject, AssetGraph]:
        from catchment.workspace import load_workspace
        from catchment.workspace.view import workspace_project

        project = workspace_project(load_workspace(self.workspace_file))
        graph = project.graph
        assert graph is not None
        return project, graph

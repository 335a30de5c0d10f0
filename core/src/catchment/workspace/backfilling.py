"""`catchment backfill create` on a workspace: the backfill planned and validated on the
merged graph, recorded in the shared store and split into queued workspace runs.

The backfill itself is the project's (``runs.backfill``): one run per chunk of the range,
keyed ``backfill:ID:CHUNK``, resumed and canceled the same way. What differs is where the
graph and the store come from, and the tags: every run of the backfill carries the ``team``
and ``project`` tags of the selected assets (``workspace.teams``), stored as the backfill's
own tags so the runs a resume queues carry them too, and team tag limits apply. The
workspace daemon starts each run with ``python -m catchment.workspace.execute``, which runs
its partitions one after another, each project's assets in that project's environment;
``catchment backfill run ID`` does the same in its own process, one run after another
(``workspace.execute.execute_workspace_run``), after queuing the chunks that failed again.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.storage import Storage

__all__ = ["prepare_backfill"]


def prepare_backfill(
    file: Path, selection: str | None, tags: Mapping[str, str]
) -> tuple[AssetGraph, dict[str, str], Callable[[], Storage]]:
    """For a backfill of ``selection`` on the workspace ``file``: its merged graph (exit 1
    naming the problems when it does not build; problems warned about otherwise), ``tags``
    with the ``team`` and ``project`` of the selected assets, and how to open the shared
    store."""
    from catchment.runs.request import RunRequest
    from catchment.workspace import open_workspace_storage
    from catchment.workspace.cli import load_view
    from catchment.workspace.teams import tag_request

    _, view = load_view(file)
    graph = view.require_graph()
    tagged = tag_request(graph, RunRequest(selection=selection, tags=dict(tags)))
    return graph, dict(tagged.tags), lambda: open_workspace_storage(file)

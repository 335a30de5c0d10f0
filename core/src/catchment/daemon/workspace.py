"""What the daemon reads of a project: its asset graph, schedules and sensors, and problems.

``load_workspace`` is the one place that reads a project for the daemon. It reads the
project's definitions snapshot (``catchment.snapshot``: specs with their automation conditions
and freshness policies, schedules, sensors), rebuilt in a child process when stale, so the
daemon imports none of the project's tools or code: schedules and automation evaluate from
it, sensors run in subprocesses of their own (``catchment.sensors.runner``), runs in
processes that load what they run. Telling a freshness check to the hooks (the adapters'
hooks and the project's alert resources) reads the project's resources, when it first happens
(no component: none of the tools).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catchment.components import ProjectDefaults
    from catchment.graph import AssetGraph
    from catchment.project import Problem
    from catchment.runs.request import RunRequest
    from catchment.schedules import ScheduleDefinition
    from catchment.sensors import SensorDefinition
    from catchment.snapshot.paths import Stamp


@dataclass(frozen=True)
class Workspace:
    """One read of the project."""

    root: Path
    file: Path
    defaults: ProjectDefaults
    graph: AssetGraph | None
    schedules: tuple[ScheduleDefinition, ...] = ()
    sensors: tuple[SensorDefinition, ...] = ()
    problems: tuple[Problem, ...] = ()
    stamp: tuple[float, ...] = field(default=(), compare=False)
    hooks: Any = field(default=None, compare=False)
    """The plugins' hook relay (freshness checks are told to ``catchment_check_evaluated``)."""
    snapshot: Stamp | None = field(default=None, compare=False)
    """The key of the definitions snapshot it was read from (None: not cached, ``stamp``
    then says when the project changed)."""
    prepare: Callable[[RunRequest], RunRequest] | None = field(default=None, compare=False)
    """What each run request the loops ask for passes through before it is queued (None:
    nothing; a workspace's tags it with its teams and projects: ``catchment.workspace.teams``)."""

    def changed(self) -> bool:
        """Whether the project changed since it was read: its snapshot's key recomputed (every
        project file, the environment), else the project file's modification time."""
        if self.snapshot is not None:
            from catchment.snapshot.cache import stamp_matches

            return not stamp_matches(self.file, self.snapshot)
        return project_stamp(self.file) != self.stamp


class LazyHooks:
    """The project's hook relay (the adapters' hooks and its alert resources), made on first
    use from the project's resources alone (``load_observing`` with no component): the
    daemon reads the project from its snapshot and builds this only to tell the hooks."""

    def __init__(self, path: Path):
        self._path = path
        self._hooks: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._hooks is None:
            from catchment.project.loader import load_observing

            self._hooks = load_observing(self._path, ()).hooks
        return getattr(self._hooks, name)


def project_stamp(file: Path) -> tuple[float, ...]:
    """What says the project changed: the modification time of its project file."""
    try:
        return (os.stat(file).st_mtime,)
    except OSError:
        return ()


def load_workspace(path: Path | str | None) -> Workspace:
    """Read the project at ``path`` (a folder or its ``catchment.yaml``) from its snapshot."""
    from catchment.snapshot.cache import load_isolated

    project = load_isolated(path)
    graph_problems = [p for p in project.problems if p.kind == "graph"]
    return Workspace(
        root=project.root,
        file=project.file,
        defaults=project.defaults,
        graph=project.graph if not graph_problems else None,
        schedules=project.schedules,
        sensors=project.sensors,
        problems=tuple(project.problems),
        stamp=project_stamp(project.file),
        hooks=LazyHooks(project.file),
        snapshot=project.stamp,
    )

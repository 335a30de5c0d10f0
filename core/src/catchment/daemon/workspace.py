"""What the daemon reads of a project: its asset graph, schedules and sensors, and problems.

``load_workspace`` is the one place that reads a project for the daemon. It loads the project
in this process for now; once definitions snapshots (``catchment.snapshot``) exist it reads
the snapshot instead (built in a subprocess), so the daemon runs no project code itself.
Sensors always run in subprocesses (``catchment.sensors.runner``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catchment.components import ProjectDefaults
    from catchment.graph import AssetGraph
    from catchment.project import Problem
    from catchment.schedules import ScheduleDefinition
    from catchment.sensors import SensorDefinition


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


def project_stamp(file: Path) -> tuple[float, ...]:
    """What says the project changed: the modification time of its project file."""
    try:
        return (os.stat(file).st_mtime,)
    except OSError:
        return ()


def load_workspace(path: Path | str | None) -> Workspace:
    """Read the project at ``path`` (a folder or its ``catchment.yaml``)."""
    from catchment.project import load_project

    project = load_project(path)
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
        hooks=project.hooks,
    )

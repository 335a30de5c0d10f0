"""``catchment sensors preview``: evaluate one sensor as the daemon would, submitting nothing."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from catchment.errors import CatchmentError
from catchment.sensors.runner import SensorOutcome, SubprocessSensorRunner

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.project import Project
    from catchment.sensors import SensorDefinition
    from catchment.storage import Storage


def preview(project: Project, storage: Storage, name: str, cursor: str | None) -> SensorOutcome:
    """The outcome of one evaluation of sensor ``name`` from ``cursor`` (default: stored)."""
    runner = SubprocessSensorRunner(project.root)
    return evaluate_once(project.sensors, project.graph, storage, runner, name, cursor)


def evaluate_once(
    sensors: Sequence[SensorDefinition],
    graph: AssetGraph | None,
    storage: Storage,
    runner: SubprocessSensorRunner,
    name: str,
    cursor: str | None,
    where: str = "the project",
) -> SensorOutcome:
    """One evaluation of sensor ``name`` among ``sensors`` (those of ``where``) by
    ``runner``, from ``cursor`` (default: the stored one); nothing submitted or stored. A
    workspace previews its ``PROJECT:NAME`` sensors with its own runner."""
    from catchment.daemon.sensor_loop import SensorLoop, cursor_name

    by_name = {s.name: s for s in sensors}
    if name not in by_name:
        known = ", ".join(sorted(by_name)) or "(none)"
        raise CatchmentError(f"no sensor {name!r} in {where}", hint=f"sensors: {known}")
    if cursor is None:
        cursor = storage.get_cursors([cursor_name(name)]).get(cursor_name(name))
    loop = SensorLoop(by_name[name], graph, storage, None, runner, cursor=cursor)
    return loop.evaluate(time.time())

"""``catchment sensors preview``: evaluate one sensor as the daemon would, submitting nothing."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from catchment.errors import CatchmentError
from catchment.sensors.runner import SensorOutcome, SubprocessSensorRunner

if TYPE_CHECKING:
    from catchment.project import Project
    from catchment.storage import Storage


def preview(project: Project, storage: Storage, name: str, cursor: str | None) -> SensorOutcome:
    """The outcome of one evaluation of sensor ``name`` from ``cursor`` (default: stored)."""
    from catchment.daemon.sensor_loop import SensorLoop, cursor_name

    sensors = {s.name: s for s in project.sensors}
    if name not in sensors:
        known = ", ".join(sorted(sensors)) or "(none)"
        raise CatchmentError(f"no sensor {name!r} in the project", hint=f"sensors: {known}")
    if cursor is None:
        cursor = storage.get_cursors([cursor_name(name)]).get(cursor_name(name))
    runner = SubprocessSensorRunner(project.root)
    loop = SensorLoop(sensors[name], project.graph, storage, None, runner, cursor=cursor)
    return loop.evaluate(time.time())

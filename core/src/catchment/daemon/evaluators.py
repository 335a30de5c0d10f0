"""The automation package's functions the daemon calls, found at run time: the condition
evaluator and the dynamic partitions store. Absent (an older or partial install), the daemon
runs sensors and schedules only."""

from __future__ import annotations

from catchment.daemon.automation_loop import Evaluator
from catchment.daemon.sensor_loop import AddPartitions


def default_evaluator() -> Evaluator | None:
    """The automation condition evaluator, adapted to the daemon's loop."""
    return None


def default_add_partitions() -> AddPartitions | None:
    """What adds keys to a dynamic partition set."""
    return None

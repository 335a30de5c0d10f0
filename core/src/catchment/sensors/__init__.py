"""Sensors: functions the daemon calls every interval that look at the outside world (a folder,
an object store prefix, an API) and answer with runs to start and a cursor to remember.

Declared in ``catchment.yaml`` (``sensors:``) or in Python with :func:`sensor`. User code runs
in a subprocess with a time limit (:mod:`catchment.sensors.host`), never in the daemon.
Built in: the ``files`` sensor (:mod:`catchment.sensors.files`) and the ``asset`` sensor.
"""

from __future__ import annotations

from catchment.sensors.definition import (
    SENSOR_TYPES,
    SensorContext,
    SensorDefinition,
    SensorResult,
    sensor,
)

__all__ = ["SENSOR_TYPES", "SensorContext", "SensorDefinition", "SensorResult", "sensor"]

"""dlt telemetry off by default: dlt reports usage on every ``pipeline.run`` unless
``RUNTIME__DLTHUB_TELEMETRY=false`` (``DO_NOT_TRACK`` does not stop it).

The default is set when ``catchment_dlt`` is imported (the plugin scan does that before any
project module builds a source), and again before each build and run. A value the user set
is never overridden.
"""

from __future__ import annotations

import os
import sys

TELEMETRY_ENV = "RUNTIME__DLTHUB_TELEMETRY"
_USER_VALUE = os.environ.get(TELEMETRY_ENV)


def quiet_dlt() -> None:
    """Set the default, and stop telemetry dlt already started before the default applied."""
    os.environ.setdefault(TELEMETRY_ENV, "false")
    if _USER_VALUE is not None or "dlt" not in sys.modules:
        return
    from dlt.common.runtime import telemetry

    if telemetry.is_telemetry_started():
        telemetry.stop_telemetry()

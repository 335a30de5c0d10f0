"""Definitions snapshots: a project's loaded definitions cached in ``.catchment/``, so commands
that only read the graph start without importing the project's tools or code.

``python -m catchment.snapshot PROJECT_DIR`` prints a project's encoded snapshot on stdout
(loading it in the current environment): how a workspace reads projects living in other
environments.
"""

from __future__ import annotations

from catchment.snapshot.cache import (
    SNAPSHOT_FILE,
    build_snapshot,
    load_read_only,
    project_from_snapshot,
    read_snapshot,
    refresh,
    snapshot_path,
)
from catchment.snapshot.format import FORMAT_VERSION, Snapshot, decode, encode
from catchment.snapshot.view import ReadOnlyProblem, ReadOnlyProject

__all__ = [
    "FORMAT_VERSION",
    "SNAPSHOT_FILE",
    "ReadOnlyProblem",
    "ReadOnlyProject",
    "Snapshot",
    "build_snapshot",
    "decode",
    "encode",
    "load_read_only",
    "project_from_snapshot",
    "read_snapshot",
    "refresh",
    "snapshot_path",
]

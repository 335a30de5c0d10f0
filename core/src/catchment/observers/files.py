"""Observe files and directories of files (parquet datasets, CSV drops) by ``stat``.

A file's data version is its size and modification time; a directory's is the count, total
size and newest modification time of the files under it. Parquet files and datasets also
report their columns (read from the footer with pyarrow, when it is installed).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path

from catchment.observation import Observation, columns_version, gone
from catchment.tables import TableRef


def _files(path: Path) -> list[Path]:
    if path.is_file():
        return [path]
    out: list[Path] = []
    for root, dirs, names in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith((".", "_"))]
        out.extend(Path(root, n) for n in names if not n.startswith((".", "_")))
    return sorted(out)


def _parquet_columns(files: list[Path]) -> dict[str, str] | None:
    first = next((f for f in files if f.suffix == ".parquet"), None)
    if first is None:
        return None
    try:
        import pyarrow.parquet as pq
    except ImportError:
        return None
    schema = pq.read_schema(first)
    return {name.lower(): str(schema.field(name).type) for name in schema.names}


def observe_path(path: Path) -> Observation:
    """What is at ``path`` now: a file or a directory of files, or nothing."""
    if not path.exists():
        return gone()
    files = _files(path)
    stats = [f.stat() for f in files]
    size = sum(s.st_size for s in stats)
    newest = max((s.st_mtime_ns for s in stats), default=path.stat().st_mtime_ns)
    columns = _parquet_columns(files)
    return Observation(
        exists=True,
        columns=columns,
        last_modified=newest / 1e9,
        data_version=columns_version(len(files), size, newest),
        row_count=None,
    )


class FileObserver:
    """Files under the directory ``location`` (a ``file`` relation is ``location/name``)."""

    system = "file"

    def __init__(self, location: str):
        self.location = location

    def observe(self, tables: Sequence[TableRef]) -> Mapping[TableRef, Observation]:
        """``stat`` each relation's path (no query to batch: the filesystem is local)."""
        return {t: observe_path(Path(t.location or self.location, t.name)) for t in tables}

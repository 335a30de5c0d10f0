"""Where a project's cached definitions and outputs live, found without parsing anything (so
that a cache hit imports neither the loader nor the snapshot's structs)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

__all__ = ["SNAPSHOT_FILE", "Stamp", "cache_dir", "locate_file", "snapshot_path"]

SNAPSHOT_FILE = "definitions.snapshot"


class Stamp(NamedTuple):
    """The key a project's definitions were cached under and how to recompute it: the
    folders outside the project that are part of it and the racy-clean threshold (see
    ``catchment.snapshot.key``)."""

    key: str
    watched: tuple[str, ...]
    racy_after: int


def locate_file(path: Path | str | None) -> Path:
    """The ``catchment.yaml`` of ``path`` (a folder or the file; None = cwd), without parsing
    it; a ``ConfigError`` like the loader's when there is none."""
    p = Path.cwd() if path is None else Path(path).expanduser()
    if p.is_dir():
        for name in ("catchment.yaml", "catchment.yml"):
            if (p / name).is_file():
                return (p / name).resolve()
        from catchment.errors import ConfigError

        raise ConfigError(
            "no catchment.yaml here",
            where=str(p),
            hint="run `catchment new project NAME`, or pass the project folder or file",
        )
    return p.resolve()


def cache_dir(file: Path) -> Path:
    """The project's ``.catchment/`` folder (``file`` is its catchment.yaml)."""
    return file.parent / ".catchment"


def snapshot_path(file: Path) -> Path:
    """Where the snapshot of the project of ``file`` lives."""
    return cache_dir(file) / SNAPSHOT_FILE

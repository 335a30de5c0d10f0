"""Cached command output: what a read-only command printed for a project, kept beside the
definitions snapshot under the same key and served again while that key matches.

An entry holds the snapshot's key (with the folders and racy-clean threshold to recompute it),
the command's arguments, the output format version and a stamp of the catchment modules that
shape the output; it is served only when all of them match now, so editing any project file,
upgrading an adapter, changing the environment or catchment's own code makes it a miss.
Serving one imports nothing but ``msgspec`` and the key's standard-library modules.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

import msgspec

from catchment.atomic_write import write_cache
from catchment.snapshot.key import UncacheableError, project_key
from catchment.snapshot.paths import Stamp, cache_dir

__all__ = ["OUTPUT_FORMAT", "output_path", "read_output", "write_output"]

OUTPUT_FORMAT = 1
"""Bumped whenever a cached command's output changes shape."""

_SHAPING = (
    "cli/fast.py",
    "cli/listing.py",
    "cli/output.py",
    "graph.py",
    "keys.py",
    "tables.py",
    "snapshot/output.py",
)
"""The modules whose code decides what a cached output holds (relative to the package)."""


class _Entry(msgspec.Struct, frozen=True, array_like=True):
    format: int
    key: str
    watched: tuple[str, ...]
    racy_after: int
    command: tuple[str, ...]
    code: str
    body: bytes


_decoder = msgspec.msgpack.Decoder(_Entry)
_encoder = msgspec.msgpack.Encoder()


def _code_stamp() -> str:
    """Size and mtime of the modules that shape the output: an edited catchment (an editable
    install, where the version does not change) makes every entry a miss."""
    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parts = []
    for name in _SHAPING:
        try:
            st = os.stat(os.path.join(package, name))
            parts.append(f"{name}\0{st.st_size}\0{st.st_mtime_ns}")
        except OSError:
            parts.append(name)
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def output_path(file: Path, command: Sequence[str]) -> Path:
    """Where the cached output of ``command`` for the project of ``file`` lives."""
    name = hashlib.sha256("\0".join(command).encode()).hexdigest()[:16]
    return cache_dir(file) / "output" / f"{name}.cache"


def read_output(file: Path, command: Sequence[str]) -> bytes | None:
    """The cached output of ``command`` when the project, the environment and catchment are
    what it was made from; None otherwise (missing, corrupt, stale: never an error)."""
    try:
        data = output_path(file, command).read_bytes()
        entry = _decoder.decode(data)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    if (
        entry.format != OUTPUT_FORMAT
        or entry.command != tuple(command)
        or entry.code != _code_stamp()
    ):
        return None
    try:
        key = project_key(file, entry.watched, entry.racy_after)
    except (UncacheableError, OSError):
        return None
    return entry.body if key == entry.key else None


def write_output(file: Path, command: Sequence[str], stamp: Stamp, body: bytes) -> None:
    """Keep ``body`` as the output of ``command`` for the project of ``file`` under ``stamp``
    (the key of the snapshot it was made from); atomically, silently skipped when it fails."""
    entry = _Entry(
        OUTPUT_FORMAT,
        stamp.key,
        tuple(stamp.watched),
        stamp.racy_after,
        tuple(command),
        _code_stamp(),
        body,
    )
    write_cache(output_path(file, command), _encoder.encode(entry))

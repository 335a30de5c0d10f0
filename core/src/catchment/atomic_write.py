"""Atomic file writes: a reader sees a file's old content or its whole new content, never a
half-written one, also when two processes write it at once or one is killed mid-write.

The data goes to a temporary file of a unique name in the same folder, which is renamed over
the target (``os.replace`` is atomic on one filesystem). Snapshots, output caches, the adapter
index, observation caches and adapters' own caches (the dbt manifest copy and translation
entry) all write this way; no ``tempfile`` import, so the cold path pays nothing for it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["write_atomic", "write_cache"]


def write_atomic(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` atomically, creating its folder; the file is readable by
    its owner only (caches can hold table names and paths). Raises ``OSError``, leaving no
    temporary file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_cache(path: Path, data: bytes) -> bool:
    """:func:`write_atomic` for a cache, whose loss only costs the next reader a rebuild: a
    read-only or full disk is not an error. True when the file was written."""
    try:
        write_atomic(path, data)
    except OSError:
        return False
    return True

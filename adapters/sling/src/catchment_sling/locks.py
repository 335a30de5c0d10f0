"""Who holds the lock on a DuckDB file, asked before Sling starts its DuckDB CLI.

Sling 1.4 waits forever when its DuckDB CLI exits early, and a lock held on the warehouse file
(by dbt-duckdb, a DuckDB IO manager or another process) is the usual reason the CLI exits. So
the adapter asks the kernel first, with an open-file-description lock query (``F_OFD_GETLK``),
which also sees locks this very process holds, and fails the stream with the holder's pid.
"""

from __future__ import annotations

import fcntl
import os
import struct
from pathlib import Path

__all__ = ["lock_holder"]

_FLOCK = "hhqqi"  # struct flock on Linux: l_type, l_whence, l_start, l_len, l_pid (+ padding)


def lock_holder(path: Path) -> int | None:
    """The pid holding a lock that blocks writing ``path`` (-1 when the kernel does not say
    which process), or None when nothing does, the file does not exist or the system cannot
    tell (no ``F_OFD_GETLK`` outside Linux)."""
    query = getattr(fcntl, "F_OFD_GETLK", None)
    if query is None:
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        request = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        answer = fcntl.fcntl(fd, query, request)
    except OSError:
        return None
    finally:
        os.close(fd)
    kind, _, _, _, pid = struct.unpack(_FLOCK, answer[: struct.calcsize(_FLOCK)])
    return None if kind == fcntl.F_UNLCK else pid

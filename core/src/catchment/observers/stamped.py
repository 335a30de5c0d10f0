"""A cache of observations keyed on the files a system keeps its data in (their sizes and
modification times): an observer of a local store (a DuckDB file, an emulator's folder) can
answer from it without opening the store, or importing its driver, when nothing changed.

Entries live in ``$CATCHMENT_CACHE_DIR`` (default ``~/.cache/catchment``; ``off`` disables
it). An answer is cached only when the files have been quiet for ``QUIET_SECONDS`` (a later
write then gets a later modification time even where the filesystem's clock is coarse).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import msgspec

from catchment.atomic_write import write_cache
from catchment.observation import Observation
from catchment.tables import TableRef
from catchment.user_cache import cache_file

QUIET_SECONDS = 1.0


class _Entry(msgspec.Struct):
    stamp: list[int]
    tables: list[tuple[TableRef, Observation]]


def files_stamp(paths: Iterable[Path]) -> tuple[list[int], int]:
    """(stamp, newest modification time in ns): the size and modification time of each of
    ``paths`` and of every file under those that are folders, in a stable order."""
    out: list[int] = []
    newest = 0
    for path in paths:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        out.append(len(files))
        for f in files:
            try:
                st = f.stat()
            except FileNotFoundError:
                out += [-1, -1]
                continue
            out += [st.st_size, st.st_mtime_ns]
            newest = max(newest, st.st_mtime_ns)
    return out, newest


def read_cached(
    kind: str, identity: str, stamp: list[int], tables: Sequence[TableRef]
) -> dict[TableRef, Observation] | None:
    """The cached observations of ``tables`` when the files still have ``stamp`` and every
    one of ``tables`` was observed then; None otherwise."""
    cache = cache_file(kind, identity)
    if cache is None or not cache.is_file():
        return None
    try:
        entry = msgspec.msgpack.decode(cache.read_bytes(), type=_Entry)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    found = dict(entry.tables)
    if entry.stamp != stamp or any(t not in found for t in tables):
        return None
    now = time.time()
    return {t: msgspec.structs.replace(found[t], observed_at=now) for t in tables}


def write_cached(
    kind: str,
    identity: str,
    stamp: list[int],
    newest_ns: int,
    found: Mapping[TableRef, Observation],
) -> None:
    """Keep ``found`` under ``stamp`` when the files were quiet (last written ``newest_ns``)
    for ``QUIET_SECONDS``; a cache that cannot be written costs the next observation a query."""
    cache = cache_file(kind, identity)
    if cache is None or time.time() - newest_ns / 1e9 <= QUIET_SECONDS:
        return
    body = _Entry(stamp=stamp, tables=list(found.items()))
    write_cache(cache, msgspec.msgpack.encode(body))

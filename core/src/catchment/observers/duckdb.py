"""Observe the tables and views of one DuckDB file with one catalog query.

The file is opened read-only; a file that is not there means every table in it is gone, and a
file another process holds locked makes them unknown (with the cause). DuckDB keeps no
per-table modification stamp, so the data version is the catalog's row count with the
columns: it changes on inserts and schema changes; deletes and in-place updates do not lower
the catalog count until the table is compacted, so they are not seen.

Opening a file with thousands of tables costs more than the query (DuckDB reads its whole
catalog), so the catalog read is cached on disk keyed on the size and modification time of
the file and of its write-ahead log: committed writes change one of them, and an unchanged
file is not opened at all. A read is cached once the file has been left alone for 50 ms (a
second on filesystems with whole-second times), so the observation a run makes of what it
built serves the next `plan`. The cache lives in ``$CATCHMENT_CACHE_DIR`` (default
``~/.cache/catchment``); ``CATCHMENT_CACHE_DIR=off`` disables it.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from catchment.observation import Observation, columns_version, gone, unknown
from catchment.tables import TableRef

# One statement: every column of every table and view, with its table's row count (a flat
# join, grouped in Python: DuckDB's own GROUP BY with ordered lists is ~4x slower here).
_CATALOG = """
SELECT c.schema_name, c.table_name, c.column_name, c.data_type, t.estimated_size
FROM duckdb_columns() c
LEFT JOIN duckdb_tables() t ON t.table_oid = c.table_oid
WHERE c.database_name = current_database()
"""


def read_catalog(con: Any, mtime: float | None = None) -> dict[tuple[str, str], Observation]:
    """(schema, table) -> observation of every relation of ``con``'s database, in one query."""
    rows: list[tuple[Any, ...]] = con.execute(_CATALOG).fetchall()
    tables: dict[tuple[str, str], tuple[dict[str, str], int | None]] = {}
    for schema, name, column, kind, size in rows:
        where = (str(schema).lower(), str(name).lower())
        found = tables.get(where)
        if found is None:
            found = tables[where] = ({}, None if size is None else int(size))
        found[0][str(column).lower()] = str(kind)
    return {
        where: Observation(
            exists=True,
            row_count=count,
            columns=columns,
            last_modified=mtime,
            data_version=columns_version(count, sorted(columns.items())),
        )
        for where, (columns, count) in tables.items()
    }


QUIET_SECONDS = 1.0
"""A catalog read is cached only when the file has not been written for this long..."""
FINE_QUIET_SECONDS = 0.05
"""...or this long where the filesystem keeps sub-second modification times (a later write
then always gets a later time): the observation right after a run can be cached, so the next
`plan` does not open the file again."""


def _quiet_for(stamp: list[int]) -> float:
    """How long the file must have been left alone for its catalog read to be cached: a
    second where modification times are whole seconds (a coarse clock), else 50 ms."""
    times = [t for t in stamp[1::2] if t > 0]
    coarse = all(t % 1_000_000_000 == 0 for t in times)
    return QUIET_SECONDS if coarse else min(QUIET_SECONDS, FINE_QUIET_SECONDS)


class _Cached(msgspec.Struct):
    stamp: list[int]
    tables: list[tuple[str, str, Observation]]


def _stamp(path: Path) -> list[int]:
    """Size and modification time (ns) of the file and of its write-ahead log."""
    out: list[int] = []
    for p in (path, path.with_name(path.name + ".wal")):
        try:
            st = p.stat()
            out += [st.st_size, st.st_mtime_ns]
        except FileNotFoundError:
            out += [-1, -1]
    return out


def _cache_file(path: Path) -> Path | None:
    from catchment.observers.stamped import cache_file

    return cache_file("duckdb-catalog", str(path.resolve()))


def _read_cache(cache: Path | None, stamp: list[int]) -> dict[tuple[str, str], Observation] | None:
    if cache is None or not cache.is_file():
        return None
    try:
        found = msgspec.msgpack.decode(cache.read_bytes(), type=_Cached)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    if found.stamp != stamp:
        return None
    return {(schema, name): obs for schema, name, obs in found.tables}


def _write_cache(
    cache: Path | None, stamp: list[int], found: dict[tuple[str, str], Observation]
) -> None:
    if cache is None:
        return
    body = _Cached(stamp=stamp, tables=[(s, n, o) for (s, n), o in found.items()])
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(msgspec.msgpack.encode(body))
        tmp.replace(cache)
    except OSError:
        pass  # no cache: the next observation opens the file again


class DuckDBObserver:
    """The tables of the DuckDB file ``location`` (an absolute path)."""

    system = "duckdb"

    def __init__(self, location: str):
        self.location = location

    def catalog(self) -> dict[tuple[str, str], Observation]:
        """(schema, table) -> observation of everything in the file (``{}`` if no file)."""
        import duckdb

        path = Path(self.location)
        if not path.exists():
            return {}
        stamp = _stamp(path)
        cache = _cache_file(path)
        cached = _read_cache(cache, stamp)
        if cached is not None:
            now = time.time()
            return {k: msgspec.structs.replace(o, observed_at=now) for k, o in cached.items()}
        con = duckdb.connect(str(path), read_only=True)
        try:
            found = read_catalog(con, path.stat().st_mtime)
        finally:
            con.close()
        # Cache only a file quiet for a while: a later write then gets a later mtime even
        # where the filesystem's clock is coarse; and only if nobody wrote while we read.
        quiet = time.time() - max(stamp[1], stamp[3]) / 1e9
        if stamp == _stamp(path) and quiet > _quiet_for(stamp):
            _write_cache(cache, stamp, found)
        return found

    def observe(self, tables: Sequence[TableRef]) -> Mapping[TableRef, Observation]:
        """Each of ``tables`` from one catalog read of the file."""
        if self.location == ":memory:":
            cause = "an in-memory DuckDB database cannot be observed from another process"
            return {t: unknown(cause) for t in tables}
        catalog = self.catalog()
        return {t: catalog.get((t.schema or "main", t.name)) or gone() for t in tables}

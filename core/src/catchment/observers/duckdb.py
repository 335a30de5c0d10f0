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

A file another tool changed is opened, and DuckDB 1.4 deserializes its whole catalog at open
(~0.6 s for 10,000 tables): most of it is the column statistics of files in DuckDB's default
storage format (v0.10.2-compatible), half of that of files created with storage version
v1.2.0 or later. A file of many relations in the older format is named once per process in a
warning saying so (see docs/troubleshooting.md).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import msgspec

from catchment.atomic_write import write_cache
from catchment.observation import Observation, columns_version, gone, unknown
from catchment.tables import TableRef

log = logging.getLogger(__name__)

# One statement: every column of every table and view, with its table's row count (a flat
# join, grouped in Python by the table's oid: DuckDB's own GROUP BY with ordered lists is ~4x
# slower here). The join does not keep a table's columns together, so rows are not assumed
# to come in table order.
_CATALOG = """
SELECT c.table_oid, c.schema_name, c.table_name, c.column_name, c.data_type, t.estimated_size
FROM duckdb_columns() c
LEFT JOIN duckdb_tables() t ON t.table_oid = c.table_oid
WHERE c.database_name = current_database()
"""


def read_catalog(con: Any, mtime: float | None = None) -> dict[tuple[str, str], Observation]:
    """(schema, table) -> observation of every relation of ``con``'s database, in one query.

    Names are lowered once per relation rather than per column, and every observation shares
    one ``observed_at``: this is the Python side of observing 10,000 relations."""
    rows: list[tuple[Any, ...]] = con.execute(_CATALOG).fetchall()
    tables: dict[int, tuple[str, str, dict[str, str], int | None]] = {}
    for oid, schema, name, column, kind, size in rows:
        found = tables.get(oid)
        if found is None:
            found = tables[oid] = (schema, name, {}, size)
        found[2][column.lower()] = kind
    now = time.time()
    out: dict[tuple[str, str], Observation] = {}
    for schema, name, columns, size in tables.values():
        count = None if size is None else int(size)
        out[(schema.lower(), name.lower())] = Observation(
            exists=True,
            row_count=count,
            columns=columns,
            last_modified=mtime,
            data_version=columns_version(count, sorted(columns.items())),
            observed_at=now,
        )
    return out


SLOW_FORMAT_RELATIONS = 5_000
"""A file in a pre-v1.2 storage format with at least this many relations gets the warning
(DuckDB 1.4 opens one of 5,000 tables in ~0.3 s, one of 10,000 in ~0.6 s)."""
_FAST_FORMAT = (1, 2)  # storage versions from v1.2.0 keep column statistics compact
_checked: set[str] = set()  # files whose format was looked at in this process


def storage_version(con: Any) -> str | None:
    """The storage format ``con``'s database file was created with (``v1.0.0+``, ...)."""
    row = con.execute(
        "SELECT tags['storage_version'] FROM duckdb_databases() "
        "WHERE database_name = current_database()"
    ).fetchone()
    return str(row[0]) if row and row[0] is not None else None


def slow_format_hint(path: str, relations: int, version: str | None) -> str | None:
    """Why observing the file at ``path`` is slow and what makes it faster, if that applies:
    many relations in a storage format older than v1.2.0."""
    found = re.match(r"v(\d+)\.(\d+)", version or "")
    if relations < SLOW_FORMAT_RELATIONS or found is None:
        return None
    if (int(found[1]), int(found[2])) >= _FAST_FORMAT:
        return None
    return (
        f"observing {path} ({relations} relations) opens the file, and DuckDB reads its whole "
        f"catalog to do so: its storage format ({version}) keeps bulky column statistics; a "
        "file created with storage version v1.2.0 or later opens about twice as fast "
        "(storage_compatibility_version in the connection's config, e.g. dbt-duckdb's "
        "config_options; an existing file is copied with COPY FROM DATABASE): see "
        "Troubleshooting, 'Observing a large DuckDB warehouse is slow'"
    )


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


class _Stamp(msgspec.Struct):
    stamp: list[int]


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
    from catchment.user_cache import cache_file

    return cache_file("duckdb-catalog", str(path.resolve()))


def _read_cache(cache: Path | None, stamp: list[int]) -> dict[tuple[str, str], Observation] | None:
    if cache is None or not cache.is_file():
        return None
    try:
        body = cache.read_bytes()
        # The stamp alone first: a changed file's stale entry is not decoded in full.
        if msgspec.msgpack.decode(body, type=_Stamp).stamp != stamp:
            return None
        found = msgspec.msgpack.decode(body, type=_Cached)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    return {(schema, name): obs for schema, name, obs in found.tables}


def _write_cache(
    cache: Path | None, stamp: list[int], found: dict[tuple[str, str], Observation]
) -> None:
    if cache is None:
        return
    body = _Cached(stamp=stamp, tables=[(s, n, o) for (s, n), o in found.items()])
    write_cache(cache, msgspec.msgpack.encode(body))  # if not: the next one opens the file


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
            if len(found) >= SLOW_FORMAT_RELATIONS and self.location not in _checked:
                _checked.add(self.location)
                hint = slow_format_hint(self.location, len(found), storage_version(con))
                if hint is not None:
                    log.warning("%s", hint)
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

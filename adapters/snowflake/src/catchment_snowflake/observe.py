"""Observe Snowflake objects from ``information_schema``: two queries per database.

Columns come from ``information_schema.columns`` (tables and views), row counts and the
last-altered time from ``information_schema.tables``; the data version is those three, so it
changes on DML and DDL without scanning any table. Works on fakesnow too; there, when the
emulator keeps its databases as files and none changed since the last observation, the answer
comes from a cache (``catchment.observation.read_cached``) without a session or the connector's
~1 s import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catchment.observation import (
    Observation,
    columns_version,
    files_stamp,
    gone,
    read_cached,
    write_cached,
)
from catchment.sql import quote_identifier
from catchment.tables import TableRef

from catchment_snowflake.identifiers import SYSTEM

if TYPE_CHECKING:
    from catchment_snowflake.resource import SnowflakeResource

__all__ = ["SnowflakeObserver"]

_CACHE = "snowflake-emulator"


def _in(values: list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


class SnowflakeObserver:
    """The objects of the account a ``SnowflakeResource`` reaches (its ``location``)."""

    system = SYSTEM

    def __init__(self, resource: SnowflakeResource, skip: frozenset[TableRef] = frozenset()):
        """``skip``: objects that are not tables or views (stages, file formats...), which
        ``information_schema`` does not list: they are left unobserved, not called gone."""
        self.resource = resource
        self.location = resource.account.lower()
        self.skip = skip

    def __repr__(self) -> str:
        return f"SnowflakeObserver({self.location!r})"

    def _database(
        self, cur: Any, database: str, tables: list[TableRef]
    ) -> dict[TableRef, Observation]:
        schemas = sorted({t.schema.upper() for t in tables})
        db = quote_identifier(database.upper())
        cur.execute(
            "SELECT table_schema, table_name, column_name, data_type "
            f"FROM {db}.information_schema.columns WHERE table_schema IN ({_in(schemas)}) "
            "ORDER BY table_schema, table_name, ordinal_position"
        )
        columns: dict[tuple[str, str], dict[str, str]] = {}
        for schema, name, column, kind in cur.fetchall():
            columns.setdefault((schema.lower(), name.lower()), {})[column.lower()] = str(kind)
        cur.execute(
            "SELECT table_schema, table_name, row_count, last_altered "
            f"FROM {db}.information_schema.tables WHERE table_schema IN ({_in(schemas)})"
        )
        stats = {(s.lower(), n.lower()): (rows, altered) for s, n, rows, altered in cur.fetchall()}
        out: dict[TableRef, Observation] = {}
        for t in tables:
            cols = columns.get((t.schema, t.name))
            if cols is None:
                out[t] = gone()
                continue
            rows, altered = stats.get((t.schema, t.name), (None, None))
            stamp = altered.timestamp() if hasattr(altered, "timestamp") else None
            out[t] = Observation(
                exists=True,
                row_count=None if rows is None else int(rows),
                columns=cols,
                last_modified=stamp if stamp else None,
                data_version=columns_version(rows, str(altered), sorted(cols.items())),
            )
        return out

    def observe(self, tables: Sequence[TableRef]) -> Mapping[TableRef, Observation]:
        """Each of ``tables``, one session for all, two queries per database."""
        by_db: dict[str, list[TableRef]] = {}
        for t in tables:
            if t in self.skip:
                continue
            by_db.setdefault(t.database or (self.resource.database or ""), []).append(t)
        out: dict[TableRef, Observation] = {}
        if not by_db:
            return out
        wanted = [t for members in by_db.values() for t in members]
        local = self._emulator_files()
        if local is not None:  # the emulator's files unchanged: no session, no driver import
            stamp, newest = files_stamp([local])
            cached = read_cached(_CACHE, str(local.resolve()), stamp, wanted)
            if cached is not None:
                return cached
        with self.resource.connect(query_tag={"app": "catchment", "observe": True}) as conn:
            cur = conn.cursor()
            for database, members in by_db.items():
                out.update(self._database(cur, database, members))
        if local is not None:
            # The session itself rewrites the emulator's files (fakesnow opens them for
            # writing): key the answer on how they look after it. Cached only when nobody had
            # written them for a while before, so the session saw every earlier write.
            after = files_stamp([local])[0]
            write_cached(_CACHE, str(local.resolve()), after, newest, out)
        return out

    def _emulator_files(self) -> Path | None:
        """The folder of a fakesnow emulator that keeps its databases as files, if that is
        what the resource talks to (a real account has no local files to stamp)."""
        path = self.resource.emulator_path
        if self.resource.emulator != "fakesnow" or not path or not Path(path).is_dir():
            return None
        return Path(path)

"""Observe tables of one PostgreSQL database: columns from the catalog, rows and a version.

Two statements per database, however many tables: one catalog read (``information_schema``)
for columns, one ``UNION ALL`` of ``count(*)`` and ``max(xmin)`` over the tables that exist.
``xmin`` is the id of the transaction that last wrote a row, so the data version changes on
inserts, updates and deletes. The count scans each table: fine for sources and marts, slow
for very large tables. The connection URL holds credentials: it is kept out of ``repr`` and
every error is masked by the caller.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from catchment.observation import Observation, columns_version, gone, unknown
from catchment.tables import TableRef

_COLUMNS = """
SELECT table_schema, table_name, column_name, data_type
FROM information_schema.columns
WHERE table_catalog = current_database() AND (table_schema, table_name) IN ({pairs})
ORDER BY table_schema, table_name, ordinal_position
"""


class PostgresObserver:
    """Tables of the database a PostgreSQL URL points at (``location`` is ``host:port``)."""

    system = "postgres"

    def __init__(self, location: str, url: str, database: str = "", timeout: float = 10.0):
        self.location = location
        self.database = database.lower()
        self._url = url
        self.timeout = timeout

    def __repr__(self) -> str:
        return f"PostgresObserver({self.location!r}, database={self.database!r})"

    def observe(self, tables: Sequence[TableRef]) -> Mapping[TableRef, Observation]:
        """Each of ``tables`` (those of another database than the URL's are unknown)."""
        import psycopg
        from psycopg import sql

        mine = [t for t in tables if not self.database or t.database in ("", self.database)]
        out: dict[TableRef, Observation] = {
            t: unknown(f"this observer reads database {self.database}, not {t.database}")
            for t in tables
            if t not in mine
        }
        if not mine:
            return out
        with psycopg.connect(self._url, connect_timeout=int(self.timeout), autocommit=True) as con:
            pairs = sql.SQL(", ").join(
                sql.SQL("({}, {})").format(sql.Literal(t.schema or "public"), sql.Literal(t.name))
                for t in mine
            )
            rows: list[tuple[Any, ...]] = con.execute(
                sql.SQL(_COLUMNS).format(pairs=pairs)
            ).fetchall()
            columns: dict[tuple[str, str], dict[str, str]] = {}
            for schema, name, column, kind in rows:
                columns.setdefault((schema.lower(), name.lower()), {})[column.lower()] = kind
            present = [t for t in mine if (t.schema or "public", t.name) in columns]
            counts: dict[int, tuple[int, int]] = {}
            if present:
                query = sql.SQL(" UNION ALL ").join(
                    sql.SQL(
                        "SELECT {}::int, count(*), coalesce(max(xmin::text::bigint), 0) FROM {}"
                    ).format(sql.Literal(i), sql.Identifier(t.schema or "public", t.name))
                    for i, t in enumerate(present)
                )
                counts = {i: (n, x) for i, n, x in con.execute(query).fetchall()}
        for i, t in enumerate(present):
            cols = columns[(t.schema or "public", t.name)]
            n, xmax = counts.get(i, (0, 0))
            out[t] = Observation(
                exists=True,
                row_count=int(n),
                columns=cols,
                data_version=columns_version(int(n), int(xmax), sorted(cols.items())),
            )
        for t in mine:
            out.setdefault(t, gone())
        return out

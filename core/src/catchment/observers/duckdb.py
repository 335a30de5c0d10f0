"""Observe the tables and views of one DuckDB file with one catalog query.

The file is opened read-only; a file that is not there means every table in it is gone, and a
file another process holds locked makes them unknown (with the cause). DuckDB keeps no
per-table modification stamp, so the data version is the table's row count with its columns:
it changes on inserts, deletes and schema changes, not on in-place updates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from catchment.observation import Observation, columns_version, gone, unknown
from catchment.tables import TableRef

# One statement: every column of every table and view, with the table's row count.
_CATALOG = """
SELECT c.schema_name, c.table_name,
       list(c.column_name ORDER BY c.column_index),
       list(c.data_type ORDER BY c.column_index),
       any_value(t.estimated_size)
FROM duckdb_columns() c
LEFT JOIN duckdb_tables() t
  ON t.database_name = c.database_name AND t.schema_name = c.schema_name
 AND t.table_name = c.table_name
WHERE c.database_name = current_database()
GROUP BY c.schema_name, c.table_name
"""


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
        mtime = path.stat().st_mtime
        con = duckdb.connect(str(path), read_only=True)
        try:
            rows: list[tuple[Any, ...]] = con.execute(_CATALOG).fetchall()
        finally:
            con.close()
        out: dict[tuple[str, str], Observation] = {}
        for schema, name, names, types, size in rows:
            columns = {str(n).lower(): str(t) for n, t in zip(names, types, strict=True)}
            count = None if size is None else int(size)
            out[(str(schema).lower(), str(name).lower())] = Observation(
                exists=True,
                row_count=count,
                columns=columns,
                last_modified=mtime,
                data_version=columns_version(count, sorted(columns.items())),
            )
        return out

    def observe(self, tables: Sequence[TableRef]) -> Mapping[TableRef, Observation]:
        """Each of ``tables`` from one catalog read of the file."""
        if self.location == ":memory:":
            cause = "an in-memory DuckDB database cannot be observed from another process"
            return {t: unknown(cause) for t in tables}
        catalog = self.catalog()
        return {t: catalog.get((t.schema or "main", t.name)) or gone() for t in tables}

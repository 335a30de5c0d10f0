"""Column lineage of one asset: its SQL (dbt's compiled SQL, a Sling ``sql:`` stream, any spec
with ``metadata["sql"]``) parsed by ``catchment.columns`` and each source table named as the
input dataset it is."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from catchment.columns import ColumnLineage, SqlParseError, column_lineage
from catchment.specs import AssetSpec

__all__ = ["asset_sql", "dialect_of", "lineage_of", "match_table"]

log = logging.getLogger("catchment.openlineage")

_DIALECTS = {"duckdb": "duckdb", "postgres": "postgres", "snowflake": "snowflake"}
_MAX_SQL = 2_000_000


def dialect_of(spec: AssetSpec) -> str | None:
    """sqlglot's dialect for the SQL of ``spec``: the system its table lives in, for dbt; a
    Sling ``sql:`` stream runs on its source, which the spec does not name (generic SQL)."""
    if "sling" in spec.kinds or spec.table is None:
        return None
    return _DIALECTS.get(spec.table.system)


def asset_sql(spec: AssetSpec, metadata: Mapping[str, Any] | None = None) -> str | None:
    """The SQL that computed ``spec``: dbt's compiled file named in the materialization's
    ``compiled_code_path``, else the spec's ``sql`` metadata; None when there is none."""
    path = (metadata or {}).get("compiled_code_path")
    if isinstance(path, str) and path:
        try:
            text = Path(path).read_text(encoding="utf-8", errors="replace")
        except OSError:
            text = ""
        if text.strip() and len(text) <= _MAX_SQL:
            return text
    sql = spec.metadata.get("sql")
    return sql if isinstance(sql, str) and sql.strip() else None


def lineage_of(spec: AssetSpec, metadata: Mapping[str, Any] | None = None) -> ColumnLineage | None:
    """Column lineage of ``spec``, or None when it has no SQL or the SQL does not parse
    (logged at debug: lineage is best effort and never fails a run)."""
    sql = asset_sql(spec, metadata)
    if sql is None:
        return None
    try:
        return column_lineage(sql, dialect=dialect_of(spec))
    except SqlParseError as error:
        log.debug("OpenLineage: no column lineage for %s: %s", spec.key, error)
        return None


def match_table(name: str, candidates: Sequence[tuple[str, ...]]) -> int | None:
    """Index of the candidate (a table's ``(database, schema, name)`` parts) that the SQL name
    ``name`` (``db.schema.table``, ``schema.table`` or ``table``) ends with, or None."""
    parts = tuple(name.split("."))
    for i, candidate in enumerate(candidates):
        tail = tuple(p for p in candidate if p)[-len(parts) :]
        if tail == parts:
            return i
    return None

"""Column lineage of one asset for events: ``catchment.columns`` finds and parses its SQL;
this module matches the tables the SQL names to the asset's input datasets."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from catchment.columns import ColumnLineage, SqlParseError, asset_column_lineage
from catchment.specs import AssetSpec

__all__ = ["lineage_of", "match_table"]

log = logging.getLogger("catchment.openlineage")


def lineage_of(spec: AssetSpec, metadata: Mapping[str, Any] | None = None) -> ColumnLineage | None:
    """Column lineage of ``spec``, or None when it has no SQL or the SQL does not parse
    (logged at debug: lineage is best effort and never fails a run)."""
    try:
        return asset_column_lineage(spec, metadata)
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

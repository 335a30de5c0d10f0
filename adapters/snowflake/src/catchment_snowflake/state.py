"""What is applied in Snowflake: a state table of definition hashes, and existence checks.

The state table (default ``<database>.<schema>.CATCHMENT_STATE``) holds, per managed object,
the hash and normalised definition last applied. Comparing it with the declared hash decides
whether any DDL runs; existence checks (``information_schema``, ``SHOW``) catch objects dropped
behind catchment's back. Reading needs only SELECT/SHOW: an unchanged object costs no DDL.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any, NamedTuple

from catchment.sql import quote_identifier

from catchment_snowflake.errors import connector_error_types
from catchment_snowflake.identifiers import Relation, literal

_COLUMNS = (
    "OBJECT_KEY VARCHAR, OBJECT_KIND VARCHAR, OBJECT_NAME VARCHAR, DEFINITION_HASH VARCHAR, "
    "DEFINITION VARCHAR, RUN_ID VARCHAR, APPLIED_AT TIMESTAMP_LTZ"
)


class Applied(NamedTuple):
    """The last applied version of one object."""

    hash: str
    definition: dict[str, Any]


def object_key(kind: str, rel: Relation) -> str:
    """How the state table names an object: ``table:DB.SCHEMA.NAME``."""
    return f"{kind}:{rel.dotted}"


class StateTable:
    """Read and record applied definitions in one table."""

    def __init__(self, relation: Relation):
        self.relation = relation
        self._created = False

    def read(self, cur: Any, keys: Iterable[str]) -> dict[str, Applied]:
        """The applied state of ``keys`` ({} when the table does not exist yet)."""
        wanted = list(keys)
        if not wanted:
            return {}
        marks = ", ".join(["%s"] * len(wanted))
        try:
            cur.execute(
                f"SELECT OBJECT_KEY, DEFINITION_HASH, DEFINITION FROM {self.relation.sql} "
                f"WHERE OBJECT_KEY IN ({marks})",
                tuple(wanted),
            )
            rows = cur.fetchall()
        except connector_error_types() as exc:
            if _missing(exc):
                return {}
            raise
        return {str(k): Applied(str(h), json.loads(d) if d else {}) for k, h, d in rows}

    def record(
        self, cur: Any, key: str, kind: str, rel: Relation, applied: Applied, run_id: str
    ) -> None:
        """Store ``applied`` for ``key`` (creating the state table on first use)."""
        if not self._created:
            s = self.relation
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {s.schema_sql}")
            cur.execute(f"CREATE TABLE IF NOT EXISTS {s.sql} ({_COLUMNS})")
            self._created = True
        cur.execute(f"DELETE FROM {self.relation.sql} WHERE OBJECT_KEY = %s", (key,))
        cur.execute(
            f"INSERT INTO {self.relation.sql} (OBJECT_KEY, OBJECT_KIND, OBJECT_NAME, "
            "DEFINITION_HASH, DEFINITION, RUN_ID, APPLIED_AT) "
            "SELECT %s, %s, %s, %s, %s, %s, CURRENT_TIMESTAMP()",
            (
                key,
                kind,
                rel.dotted,
                applied.hash,
                json.dumps(applied.definition, sort_keys=True),
                run_id,
            ),
        )


def _missing(exc: BaseException) -> bool:
    """Snowflake's "does not exist or not authorized" (and DuckDB's, under fakesnow)."""
    return getattr(exc, "errno", None) in (2003, 2043)


def exists(cur: Any, kind: str, rel: Relation) -> bool | None:
    """Whether the object exists; None when this account (or emulator) cannot say."""
    db = quote_identifier(rel.database)
    try:
        if kind in ("table", "external_table"):
            cur.execute(
                f"SELECT COUNT(*) FROM {db}.information_schema.tables "
                "WHERE table_schema = %s AND table_name = %s",
                (rel.schema, rel.name),
            )
            return bool(cur.fetchone()[0])
        if kind == "view":
            cur.execute(
                f"SELECT COUNT(*) FROM {db}.information_schema.views "
                "WHERE table_schema = %s AND table_name = %s",
                (rel.schema, rel.name),
            )
            return bool(cur.fetchone()[0])
        what = {"stage": "STAGES", "file_format": "FILE FORMATS"}[kind]
        cur.execute(
            f"SHOW {what} LIKE {literal(rel.name)} IN SCHEMA {db}.{quote_identifier(rel.schema)}"
        )
        # SHOW output: created_on, name, ... (LIKE is case-insensitive: compare exactly).
        return any(str(row[1]) == rel.name for row in cur.fetchall())
    except connector_error_types() as exc:
        if _missing(exc):
            return False
        return None


def columns(cur: Any, rel: Relation) -> list[str] | None:
    """The table's column names (None when they cannot be read)."""
    try:
        cur.execute(
            f"SELECT column_name FROM {quote_identifier(rel.database)}.information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            (rel.schema, rel.name),
        )
        return [str(r[0]) for r in cur.fetchall()]
    except connector_error_types():
        return None

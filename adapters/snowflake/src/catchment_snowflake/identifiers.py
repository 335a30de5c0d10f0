"""Snowflake identifiers: how a name written in YAML or a frame resolves, and how to write it.

Snowflake upper-cases unquoted identifiers and keeps quoted ones as written. Generated SQL
quotes every resolved identifier, so reserved words and odd names need no special care.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from catchment.errors import ConfigError
from catchment.sql import quote_identifier
from catchment.tables import TableRef, table

SYSTEM = "snowflake"
_SIMPLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_$]*$")


def resolve(part: str) -> str:
    """The name Snowflake stores: ``orders`` -> ``ORDERS``, ``"Orders"`` -> ``Orders``."""
    part = part.strip()
    if len(part) >= 2 and part[0] == part[-1] == '"':
        return part[1:-1].replace('""', '"')
    return part.upper()


def is_simple(name: str) -> bool:
    """True when ``name`` could be written unquoted (letters, digits, ``_``, ``$``)."""
    return bool(_SIMPLE.match(name))


def split(text: str) -> list[str]:
    """Split ``db.schema."Odd.Name"`` on dots outside quotes (parts keep their quotes)."""
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text.strip():
        if ch == '"':
            quoted = not quoted
        if ch == "." and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    if quoted or any(not p.strip() for p in parts) or len(parts) > 3:
        raise ConfigError(
            f"{text!r} is not a Snowflake object name",
            hint='write name, schema.name or database.schema.name (quote odd parts with ")',
        )
    return parts


class Relation(NamedTuple):
    """A fully qualified Snowflake object: resolved database, schema and name."""

    database: str
    schema: str
    name: str

    @property
    def sql(self) -> str:
        """``"DB"."SCHEMA"."NAME"``."""
        return ".".join(quote_identifier(p) for p in self)

    @property
    def schema_sql(self) -> str:
        """``"DB"."SCHEMA"``: the schema the object lives in."""
        return f"{quote_identifier(self.database)}.{quote_identifier(self.schema)}"

    @property
    def dotted(self) -> str:
        """``DB.SCHEMA.NAME`` for messages and metadata."""
        return ".".join(self)

    def ref(self, account: str) -> TableRef:
        """The physical identity other tools use for this object (e.g. a dbt model)."""
        return table(
            SYSTEM, self.name, schema=self.schema, database=self.database, location=account
        )


def qualify(text: str, database: str | None, schema: str | None, *, where: str = "") -> Relation:
    """Resolve ``name`` / ``schema.name`` / ``db.schema.name`` against defaults."""
    parts = [resolve(p) for p in split(text)]
    name = parts[-1]
    sch = parts[-2] if len(parts) >= 2 else (resolve(schema) if schema else None)
    db = parts[-3] if len(parts) == 3 else (resolve(database) if database else None)
    if not sch or not db:
        missing = "database" if not db else "schema"
        raise ConfigError(
            f"{text!r} has no {missing} and none is configured",
            where=where or None,
            hint=f"write it as database.schema.name, or set {missing} on the object or resource",
        )
    return Relation(db, sch, name)


def literal(value: str) -> str:
    """A single-quoted SQL string literal (quotes doubled; backslashes keep Snowflake's meaning)."""
    return "'" + value.replace("'", "''") + "'"

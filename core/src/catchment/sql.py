"""SQL text: an identifier quoted so that it resolves to exactly itself, in DuckDB, Snowflake,
PostgreSQL and every engine that follows the SQL standard."""

from __future__ import annotations

__all__ = ["quote_identifier"]


def quote_identifier(name: str) -> str:
    """``name`` in double quotes, embedded quotes doubled: safe for reserved words, mixed case
    and any character."""
    return '"' + name.replace('"', '""') + '"'

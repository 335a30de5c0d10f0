"""OpenLineage dataset names for catchment's tables, per the spec's naming rules.

A ``TableRef`` already holds system, location, database, schema and name; this module spells
them the way the spec (and the dbt and Airflow integrations) do, so a catalog joins
catchment's datasets with theirs.
"""

from __future__ import annotations

import posixpath

from catchment.tables import TableRef

__all__ = ["dataset_id", "parse_table_text", "snowflake_account"]


def snowflake_account(account: str) -> str:
    """The spec's Snowflake account form: ``org-account`` as is; a legacy locator gets its
    default region and cloud (``xy123`` -> ``xy123.us-west-1.aws``), as dbt and Airflow do."""
    parts = account.split(".")
    if "-" in parts[0]:
        return parts[0]
    if len(parts) == 1:
        return f"{parts[0]}.us-west-1.aws"
    if len(parts) == 2:
        return f"{account}.aws"
    return account


def dataset_id(table: TableRef) -> tuple[str, str]:
    """``(namespace, name)`` of ``table``.

    - DuckDB: ``duckdb://{database file}``, ``{database}.{schema}.{table}`` (what dbt-ol emits
      for a DuckDB profile whose ``path`` is absolute);
    - PostgreSQL: ``postgres://{host}:{port}``, ``{database}.{schema}.{table}``;
    - Snowflake: ``snowflake://{org-account}``, ``{DATABASE}.{SCHEMA}.{TABLE}`` (Snowflake's
      own upper-case form of unquoted names);
    - files: ``file``, the absolute path;
    - anything else: ``{system}://{location}``, ``{database}.{schema}.{table}``.
    """
    system = table.system
    if system == "file":
        return "file", posixpath.join(table.location or "/", table.name)
    if system == "snowflake":
        return f"snowflake://{snowflake_account(table.location)}", table.qualified_name.upper()
    return table.namespace, table.qualified_name


def parse_table_text(text: str) -> tuple[str, str] | None:
    """``(namespace, name)`` from a materialization's ``table`` text (``str(TableRef)``:
    ``{namespace}/{qualified name}``), or None when it is not that form."""
    namespace, sep, name = text.rpartition("/")
    if not sep or "://" not in namespace or not name:
        return None
    return namespace, name

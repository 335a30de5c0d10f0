"""The tables a ``sql:`` stream reads, from a sqlglot parse of its SQL in the source's dialect,
so a custom-SQL stream links to the assets that write them (CTE names are not tables)."""

from __future__ import annotations

from catchment.errors import ConfigError

_DIALECTS = {
    "postgres": "postgres",
    "redshift": "redshift",
    "duckdb": "duckdb",
    "motherduck": "duckdb",
    "snowflake": "snowflake",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
    "bigquery": "bigquery",
    "sqlserver": "tsql",
    "oracle": "oracle",
    "clickhouse": "clickhouse",
    "trino": "trino",
    "databricks": "databricks",
}


def tables_read(sql: str, system: str, where: str) -> list[tuple[str | None, str]]:
    """``(schema, name)`` of every table ``sql`` reads, each once."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    dialect = _DIALECTS.get(system)
    try:
        statements = sqlglot.parse(sql, read=dialect)
    except ParseError as exc:
        first = str(exc).splitlines()[0] if str(exc) else "parse error"
        raise ConfigError(
            f"the stream's SQL cannot be parsed ({dialect or 'generic'} dialect): {first}",
            where=where,
            hint="fix the SQL, or declare what it reads with overrides.<stream>.reads",
        ) from None
    found: dict[tuple[str | None, str], None] = {}
    for statement in statements:
        if statement is None:
            continue
        ctes = {c.alias_or_name.lower() for c in statement.find_all(exp.CTE)}
        for node in statement.find_all(exp.Table):
            name = node.name
            if not name or (not node.db and name.lower() in ctes):
                continue
            if isinstance(node.this, exp.Func):  # read_csv(...), generate_series(...)
                continue
            found[(node.db or None, name)] = None
    return list(found)

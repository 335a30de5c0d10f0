"""Wildcard streams (``schema.*``, ``schema.orders_*``) expanded at load time into one stream
per table the source has, so each table is an asset. The listing is one bounded catalog query
(PostgreSQL with connect and statement timeouts, a DuckDB file opened read-only); other
sources keep the clear "list the tables" error."""

from __future__ import annotations

import fnmatch
from dataclasses import replace
from typing import Any

from catchment.errors import ConfigError

from catchment_sling.connections import Connection, Masker
from catchment_sling.replication import Replication

LIST_TIMEOUT = 10  # seconds to connect, and for the catalog query
_PG_PARAMS = {"sslmode", "sslrootcert", "sslcert", "sslkey", "application_name"}


def is_wildcard(name: str, config: dict[str, Any]) -> bool:
    """A database stream whose table part has a ``*`` (not custom SQL, not a file)."""
    return "*" in name and not config.get("sql") and not name.startswith("file://")


def expand_wildcards(rep: Replication, source: Connection) -> Replication:
    """``rep`` with every wildcard stream replaced by one stream per matching table (with the
    wildcard's settings); a table also listed explicitly keeps its own settings."""
    wild = [n for n, cfg in rep.streams.items() if is_wildcard(n, {**rep.defaults, **cfg})]
    if not wild:
        return rep
    streams: dict[str, Any] = {}
    for name, cfg in rep.streams.items():
        if name not in wild:
            streams[name] = cfg
            continue
        where = f"{rep.where} (streams.{name})"
        schema, _, pattern = name.rpartition(".")
        if not schema or "*" in schema:
            raise ConfigError(
                f"stream {name!r}: only the table part may be a wildcard",
                where=where,
                hint="write schema.* or schema.prefix_*",
            )
        tables = [t for t in list_tables(source, schema, where) if fnmatch.fnmatchcase(t, pattern)]
        if not tables:
            raise ConfigError(
                f"stream {name!r} matches no table of schema {schema!r} in {source.name}",
                where=where,
                hint="check the schema name, or list the tables as streams",
            )
        for table_name in sorted(tables):
            full = f"{schema}.{table_name}"
            if full not in rep.streams:
                streams[full] = cfg
    return replace(rep, streams=streams)


def list_tables(source: Connection, schema: str, where: str) -> list[str]:
    """Table and view names in ``schema`` of the source (one bounded catalog query)."""
    if source.system == "postgres":
        return _postgres_tables(source, schema, where)
    if source.system == "duckdb" and source.path is not None:
        return _duckdb_tables(source, schema, where)
    raise ConfigError(
        f"wildcard streams are expanded for PostgreSQL and DuckDB sources; {source.name} is "
        f"{source.system}",
        where=where,
        hint="list the tables as separate streams so each becomes an asset",
    )


def _postgres_tables(source: Connection, schema: str, where: str) -> list[str]:
    from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

    try:
        import psycopg
    except ImportError:
        raise ConfigError(
            "listing a PostgreSQL schema for a wildcard stream needs psycopg",
            where=where,
            hint="pip install 'catchment-sling[postgres]', or list the tables as streams",
        ) from None

    url = source.url.get_secret_value()
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k in _PG_PARAMS]
    clean = urlunsplit(parts._replace(scheme="postgresql", query=urlencode(query)))
    try:
        with psycopg.connect(
            clean,
            connect_timeout=LIST_TIMEOUT,
            options=f"-c statement_timeout={LIST_TIMEOUT * 1000}",
        ) as con:
            rows = con.execute(
                "select table_name from information_schema.tables where table_schema = %s",
                [schema],
            ).fetchall()
    except psycopg.Error as exc:
        message = Masker.for_connections([source])(str(exc).strip().splitlines()[0])
        raise ConfigError(
            f"could not list the tables of {schema!r} in {source.name} for a wildcard stream: "
            f"{message}",
            where=where,
            hint="check the connection, or list the tables as separate streams",
        ) from None
    return [str(r[0]) for r in rows]


def _duckdb_tables(source: Connection, schema: str, where: str) -> list[str]:
    import duckdb

    try:
        con = duckdb.connect(str(source.path), read_only=True)
    except duckdb.Error as exc:
        raise ConfigError(
            f"could not open {source.path} to list {schema!r} for a wildcard stream: {exc}",
            where=where,
            hint="is another process writing it? list the tables as separate streams",
        ) from None
    try:
        rows = con.execute(
            "select table_name from information_schema.tables where table_schema = ?", [schema]
        ).fetchall()
    finally:
        con.close()
    return [str(r[0]) for r in rows]

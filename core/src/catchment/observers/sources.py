"""Observe a declared external source the way it says (``catchment.sources``): the files a
glob matches, the result of a SQL query (on a DuckDB file, a PostgreSQL URL or a resource's
connection), or what a Python function returns.

Each returns an ``Observation`` whose data version changes when the source's data does. A
source that cannot be looked at (a bad query, a database that cannot be reached, a function
that raises) is unknown with the cause: the caller turns exceptions into ``unknown``.
"""

from __future__ import annotations

import contextlib
import glob as globbing
import importlib
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from catchment.observation import Observation, columns_version, gone

MAX_ROWS = 1000
"""A query's rows beyond this many are not part of its data version (ask for an aggregate)."""
DEFAULT_TIMEOUT = 10.0


def observe_source(
    config: Mapping[str, Any], root: Path, resources: Mapping[str, Any] | None = None
) -> Observation:
    """What the source declared by ``config`` (its ``observe`` mapping) holds now; a query
    naming a resource runs on that one of ``resources``. Raises when it cannot be looked at
    (the caller reports that as unknown)."""
    if "glob" in config:
        return observe_glob(str(config["glob"]), root)
    if "sql" in config and config.get("resource"):
        name = str(config["resource"])
        if name not in (resources or {}):
            known = ", ".join(sorted(resources or {})) or "none"
            raise LookupError(f"observe.resource: no resource {name!r} (known: {known})")
        return _rows_version(
            query_resource((resources or {})[name], name, str(config["sql"])), None
        )
    if "sql" in config:
        timeout = float(config.get("timeout") or DEFAULT_TIMEOUT)
        connection = str(config.get("connection") or "")
        variable = config.get("connection_env")
        if variable:
            connection = os.environ.get(str(variable), "")
            if not connection:
                raise ValueError(
                    f"environment variable {variable} (observe.connection_env) is not set"
                )
        return observe_query(str(config["sql"]), connection, root, timeout)
    if "python" in config:
        return observe_function(str(config["python"]), root)
    raise ValueError(f"observe needs glob, sql or python, got {', '.join(config) or 'nothing'}")


def observe_glob(pattern: str, root: Path) -> Observation:
    """The files matching ``pattern`` (relative to ``root``; ``**`` spans folders): their
    names, sizes and modification times make the data version. No file is a gone source."""
    full = pattern if os.path.isabs(pattern) else str(root / pattern)
    files = sorted(p for p in globbing.glob(full, recursive=True) if os.path.isfile(p))
    if not files:
        return gone()
    stats = [(os.path.relpath(p, root), os.stat(p)) for p in files]
    newest = max(s.st_mtime_ns for _, s in stats)
    return Observation(
        exists=True,
        last_modified=newest / 1e9,
        data_version=columns_version([(n, s.st_size, s.st_mtime_ns) for n, s in stats]),
    )


def _rows_version(rows: list[tuple[Any, ...]], columns: dict[str, str] | None) -> Observation:
    if not rows or all(v is None for row in rows for v in row):
        # `select max(x) from t` on an empty table: there, but nothing in it yet
        return Observation(exists=True, row_count=0, columns=columns, data_version="empty")
    return Observation(
        exists=True,
        columns=columns,
        data_version=columns_version([tuple(map(repr, row)) for row in rows]),
    )


def observe_query(sql: str, connection: str, root: Path, timeout: float) -> Observation:
    """The rows ``sql`` returns (the first ``MAX_ROWS``) make the data version. ``connection``
    is a PostgreSQL URL (``postgresql://...``) or a DuckDB file (``duckdb:///path`` or a path,
    relative to ``root``), opened read-only."""
    if connection.startswith(("postgres://", "postgresql://")):
        import psycopg

        with psycopg.connect(connection, connect_timeout=max(1, int(timeout))) as con:
            con.execute(f"SET statement_timeout = {int(timeout * 1000)}")
            cur = con.execute(sql)  # the user's own query
            rows = cur.fetchmany(MAX_ROWS)
            con.rollback()  # read only: nothing the query did is kept
        return _rows_version(rows, None)
    path_text = connection.removeprefix("duckdb://") if connection else ""
    if not path_text:
        raise ValueError("observe.connection is empty: give a DuckDB file or a PostgreSQL URL")
    path = Path(path_text).expanduser()
    path = path if path.is_absolute() else root / path
    if not path.is_file():
        raise FileNotFoundError(f"DuckDB file {path} not found")
    import duckdb

    duck = duckdb.connect(str(path), read_only=True)
    try:
        rows = duck.execute(sql).fetchmany(MAX_ROWS)
    finally:
        duck.close()
    return _rows_version(rows, None)


def query_resource(resource: Any, name: str, sql: str) -> list[tuple[Any, ...]]:
    """The first ``MAX_ROWS`` rows of ``sql`` on resource ``name``'s connection: what its
    ``connect()`` gives (a context manager or a connection), else what ``open()`` (its
    ``setup()``) gives; nothing the query did is committed."""
    connect = getattr(resource, "connect", None)
    if callable(connect):
        opened = connect()
        if hasattr(opened, "__enter__"):
            with opened as con:
                return _fetch(con, name, sql)
        try:
            return _fetch(opened, name, sql)
        finally:
            getattr(opened, "close", lambda: None)()
    open_ = getattr(resource, "open", None)
    if not callable(open_):
        raise TypeError(
            f"observe.resource: resource {name!r} ({type(resource).__name__}) cannot run SQL: "
            "it has neither connect() nor open()"
        )
    with open_() as con:
        return _fetch(con, name, sql)


def _fetch(con: Any, name: str, sql: str) -> list[tuple[Any, ...]]:
    """Run ``sql`` on a DB-API connection (``cursor()``), a DuckDB-like one (``execute()``)
    or a Spark session (``sql()``), then roll back."""
    if callable(getattr(con, "cursor", None)):
        cur = con.cursor()
        cur.execute(sql)  # the user's own query
        rows = [tuple(r) for r in cur.fetchmany(MAX_ROWS)]
    elif callable(getattr(con, "execute", None)):
        rows = [tuple(r) for r in con.execute(sql).fetchmany(MAX_ROWS)]
    elif callable(getattr(con, "sql", None)):
        rows = [tuple(r) for r in con.sql(sql).take(MAX_ROWS)]
    else:
        raise TypeError(
            f"observe.resource: resource {name!r} cannot run SQL: its connection is a "
            f"{type(con).__name__}, with no cursor(), execute() or sql()"
        )
    rollback = getattr(con, "rollback", None)
    if callable(rollback):
        with contextlib.suppress(Exception):  # read only: nothing the query did is kept
            rollback()
    return rows


def observe_function(ref: str, root: Path) -> Observation:
    """Call ``module:function`` (declared in this process, or imported with the project
    folder on ``sys.path``): its value is the data version, ``None`` a gone source, an
    ``Observation`` is taken as it is."""
    from catchment.sources import source_function

    fn = source_function(ref)
    if fn is None:
        from catchment.builtin_adapter.modules import forget_foreign

        module, _, name = ref.partition(":")
        if str(root) not in sys.path:
            sys.path.insert(0, str(root))
        forget_foreign(module, root.resolve())  # this project's module, not another's
        target: Any = importlib.import_module(module)
        fn = source_function(ref)  # @observable_source registered it on import
        if fn is None:
            for part in name.split("."):
                target = getattr(target, part)
            if not callable(target):
                raise TypeError(f"{ref} is a {type(target).__name__}, not a function")
            fn = target
    value = fn()
    if isinstance(value, Observation):
        return value
    if value is None:
        return gone()
    version = value if isinstance(value, str) else columns_version(value)
    return Observation(exists=True, data_version=version)

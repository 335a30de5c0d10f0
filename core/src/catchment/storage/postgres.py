"""PostgreSQL run store (psycopg 3), for deployments where many machines share records.

Same tables as SQLite. ``?schema=NAME`` in the URL puts the tables in that schema (created if
missing), which is how tests isolate themselves.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from catchment.secrets import redact
from catchment.storage.base import StorageError, redact_url
from catchment.storage.sql import SqlStorage, schema_statements

T = TypeVar("T")

_INSERT = (
    "INSERT INTO events (run_id, type, timestamp, step_key, asset_key, partition_key, "
    "check_name, body) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING seq"
)


def split_schema(url: str) -> tuple[str, str | None]:
    """Take catchment's own ``schema`` query parameter out of a libpq URL."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    schema = next((v for k, v in query if k == "schema"), None)
    # libpq decodes %XX but not '+', so spaces (e.g. in options=-c ...) must stay %20.
    rest = urlencode([(k, v) for k, v in query if k != "schema"], quote_via=quote)
    return urlunsplit(parts._replace(query=rest)), schema


class PostgresStorage(SqlStorage):
    """Runs and events in PostgreSQL; every write is one transaction."""

    ph = "%s"

    def __init__(self, url: str, *, connect_timeout: float = 5.0):
        try:
            import psycopg
        except ImportError:
            raise StorageError(
                "PostgreSQL storage needs psycopg",
                where=redact_url(url),
                hint="pip install 'catchment[postgres]'",
            ) from None
        self.url = redact_url(url)
        conninfo, schema = split_schema(url)
        if schema is not None and not schema.replace("_", "").isalnum():
            raise StorageError(
                f"invalid schema name {schema!r}", where=self.url, hint="use letters, digits, _"
            )
        self.schema = schema
        self._lock = threading.RLock()
        self._psycopg = psycopg
        try:
            self._conn = psycopg.connect(
                conninfo, autocommit=True, connect_timeout=max(1, int(connect_timeout))
            )
        except psycopg.Error as exc:
            message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            message = redact(message, urls=[url])
            raise StorageError(
                f"cannot connect to PostgreSQL: {message}",
                where=self.url,
                hint="is the server running and the URL (host, port, user, database) right?",
            ) from None
        statements = schema_statements("BIGSERIAL PRIMARY KEY")

        def init(cur: Any) -> None:
            cur.execute("SELECT pg_advisory_xact_lock(7261530)")  # serialise schema creation
            if schema is not None:
                cur.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
                cur.execute(f'SET search_path TO "{schema}"')
            self._init_schema(cur, statements)

        try:
            self._write(init)
        except StorageError:
            self._conn.close()
            raise

    def _write(self, fn: Callable[[Any], T]) -> T:
        with self._lock:
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    return fn(cur)
            except self._psycopg.Error as exc:
                raise StorageError(f"run store error: {exc}", where=self.url) from None

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.reads += 1
        with self._lock:
            try:
                with self._conn.cursor() as cur:
                    cur.execute(sql, params)
                    return cur.fetchall()
            except self._psycopg.Error as exc:
                raise StorageError(f"run store error: {exc}", where=self.url) from None

    def _insert_events(self, cur: Any, rows: list[tuple[Any, ...]]) -> list[int]:
        cur.executemany(_INSERT, rows, returning=True)
        seqs: list[int] = []
        while True:
            seqs.append(cur.fetchone()[0])
            if not cur.nextset():
                break
        return seqs

    def _json_rows(self, columns: Sequence[str]) -> str:
        return f"json_to_recordset(%s::json) AS w({', '.join(f'{c} text' for c in columns)})"

    def _serialise(self, cur: Any, key: int) -> None:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (key,))

    def _insert_returning_id(self, cur: Any, sql: str, params: Sequence[Any], column: str) -> int:
        cur.execute(f"{sql} RETURNING {column}", params)
        return int(cur.fetchone()[0])

    def drop_schema(self) -> None:
        """Drop this store's schema and everything in it (tests use it to clean up)."""
        if self.schema is None:
            raise StorageError("drop_schema needs a store opened with ?schema=", where=self.url)
        with self._lock:
            self._conn.execute(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"PostgresStorage({self.url!r})"

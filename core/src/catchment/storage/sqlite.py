"""SQLite run store: the default, one file in the project (``.catchment/runs.db``).

WAL mode lets readers run while one process writes; every write is ``BEGIN IMMEDIATE`` ...
``COMMIT`` with a busy timeout and a bounded retry, so many concurrent ``catchment
materialize`` processes share one file without "database is locked" failures.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from catchment.storage.base import StorageError
from catchment.storage.sql import SqlStorage, schema_statements

T = TypeVar("T")

BUSY_TIMEOUT_SECONDS = 30.0
MAX_LOCK_RETRIES = 40

_INSERT = (
    "INSERT INTO events (run_id, type, timestamp, step_key, asset_key, partition_key, "
    "check_name, body) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)


def _is_lock_error(exc: sqlite3.Error) -> bool:
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    text = str(exc).lower()
    return "locked" in text or "busy" in text


class SqliteStorage(SqlStorage):
    """Runs and events in one SQLite file (``":memory:"`` for a throwaway store)."""

    def __init__(self, path: str | Path, *, busy_timeout: float = BUSY_TIMEOUT_SECONDS):
        self.path = str(path)
        self.url = f"sqlite:///{self.path}"
        self._lock = threading.RLock()
        if self.path != ":memory:":
            try:
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise StorageError(
                    f"cannot create the folder of the run store: {exc}",
                    where=self.path,
                    hint="create that folder, or point storage at a writable place "
                    "(sqlite:///relative/to/project.db or sqlite:////absolute/path.db)",
                ) from None
        try:
            self._conn = sqlite3.connect(
                self.path, timeout=busy_timeout, isolation_level=None, check_same_thread=False
            )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot open the run store: {exc}", where=self.path) from None
        self._retrying(lambda: self._conn.execute("PRAGMA journal_mode=WAL"))
        self._conn.execute("PRAGMA synchronous=NORMAL")
        self._conn.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        statements = schema_statements("INTEGER PRIMARY KEY AUTOINCREMENT")
        self._write(lambda cur: self._init_schema(cur, statements))

    def _retrying(self, fn: Callable[[], T]) -> T:
        """Call ``fn``, retrying a bounded number of times while the file is locked."""
        for attempt in range(MAX_LOCK_RETRIES):
            try:
                return fn()
            except sqlite3.Error as exc:
                if not _is_lock_error(exc):
                    raise StorageError(f"run store error: {exc}", where=self.path) from None
                time.sleep(min(0.5, 0.002 * 2**attempt) * (0.5 + random.random()))
        raise StorageError(
            f"the run store stayed locked after {MAX_LOCK_RETRIES} attempts",
            where=self.path,
            hint="another process holds a long write transaction on it; retry later",
        )

    def _write(self, fn: Callable[[Any], T]) -> T:
        def attempt() -> T:
            with self._lock:
                cur = self._conn.cursor()
                cur.execute("BEGIN IMMEDIATE")
                try:
                    result = fn(cur)
                    cur.execute("COMMIT")
                except BaseException:
                    if self._conn.in_transaction:
                        self._conn.execute("ROLLBACK")
                    raise
                return result

        return self._retrying(attempt)

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        self.reads += 1

        def attempt() -> list[tuple[Any, ...]]:
            with self._lock:
                return self._conn.execute(sql, params).fetchall()

        return self._retrying(attempt)

    def _insert_events(self, cur: Any, rows: list[tuple[Any, ...]]) -> list[int]:
        # Inside BEGIN IMMEDIATE this connection is the only writer, so AUTOINCREMENT hands
        # out consecutive values ending at last_insert_rowid().
        cur.executemany(_INSERT, rows)
        last = cur.execute("SELECT last_insert_rowid()").fetchone()[0]
        return list(range(last - len(rows) + 1, last + 1))

    def _json_rows(self, columns: Sequence[str]) -> str:
        picked = ", ".join(f"json_extract(value, '$.{c}') AS {c}" for c in columns)
        return f"(SELECT {picked} FROM json_each(?)) w"

    def _insert_returning_id(self, cur: Any, sql: str, params: Sequence[Any], column: str) -> int:
        cur.execute(sql, params)
        return int(cur.lastrowid)

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SqliteStorage({self.path!r})"

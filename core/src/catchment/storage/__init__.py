"""Run records: the ``Storage`` protocol, its SQLite and PostgreSQL backends, ``open_storage``."""

from __future__ import annotations

from catchment.storage.base import (
    SCHEMA_VERSION,
    CheckRecord,
    MaterializationRecord,
    RunRecord,
    RunStatus,
    Storage,
    StorageError,
    redact_url,
)

__all__ = [
    "SCHEMA_VERSION",
    "CheckRecord",
    "MaterializationRecord",
    "RunRecord",
    "RunStatus",
    "Storage",
    "StorageError",
    "open_storage",
]


def open_storage(url: str) -> Storage:
    """Open the run store at ``url``: ``sqlite:///abs/path.db``, ``sqlite:///:memory:`` or
    ``postgresql://user@host:port/db[?schema=NAME]``."""
    if url.startswith("sqlite://"):
        from catchment.storage.sqlite import SqliteStorage

        path = url[len("sqlite://") :]
        if path == "/:memory:":
            path = ":memory:"
        elif path.startswith("//"):
            path = path[1:]  # sqlite:////abs/path and sqlite:///abs/path both mean /abs/path
        if not path or path == "/":
            raise StorageError(
                "a sqlite storage URL needs a file path",
                where=url,
                hint="use sqlite:///absolute/path/runs.db",
            )
        return SqliteStorage(path)
    if url.startswith(("postgresql://", "postgres://")):
        from catchment.storage.postgres import PostgresStorage

        return PostgresStorage(url)
    raise StorageError(
        "unsupported storage URL",
        where=redact_url(url),
        hint="use sqlite:///path/to/runs.db or postgresql://user@host:5432/db",
    )

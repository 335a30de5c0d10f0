"""Run records: the ``Storage`` protocol, its SQLite and PostgreSQL backends, ``open_storage``."""

from __future__ import annotations

import os

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
    "check_storage_url",
    "open_storage",
]

_HINT = "use sqlite:///path/to/runs.db or postgresql://user@host:5432/db"


def check_storage_url(url: str) -> None:
    """Raise ``StorageError`` if ``url`` cannot be a run store, without touching it: the
    scheme, a SQLite path that is not a folder, a PostgreSQL URL that parses."""
    if url.startswith("sqlite://"):
        path = _sqlite_path(url)
        if path != ":memory:" and os.path.isdir(path):
            raise StorageError(
                "the SQLite run store path is a folder", where=url, hint="name a file: " + _HINT
            )
        return
    if url.startswith(("postgresql://", "postgres://")):
        from urllib.parse import urlsplit

        try:
            urlsplit(url).port  # noqa: B018 - parsing is the check
        except ValueError as exc:
            raise StorageError(
                f"the PostgreSQL URL does not parse: {exc}", where=redact_url(url), hint=_HINT
            ) from None
        return
    raise StorageError("unsupported storage URL", where=redact_url(url), hint=_HINT)


def _sqlite_path(url: str) -> str:
    path = url[len("sqlite://") :]
    if path == "/:memory:":
        return ":memory:"
    if path.startswith("//"):
        path = path[1:]  # sqlite:////abs/path and sqlite:///abs/path both mean /abs/path
    if not path or path == "/":
        raise StorageError(
            "a sqlite storage URL needs a file path",
            where=url,
            hint="use sqlite:///absolute/path/runs.db",
        )
    return path


def open_storage(url: str) -> Storage:
    """Open the run store at ``url``: ``sqlite:///abs/path.db``, ``sqlite:///:memory:`` or
    ``postgresql://user@host:port/db[?schema=NAME]``."""
    check_storage_url(url)
    if url.startswith("sqlite://"):
        from catchment.storage.sqlite import SqliteStorage

        return SqliteStorage(_sqlite_path(url))
    from catchment.storage.postgres import PostgresStorage

    return PostgresStorage(url)

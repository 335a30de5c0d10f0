"""Run records: the ``Storage`` protocol, its SQLite and PostgreSQL backends, ``open_storage``."""

from __future__ import annotations

import os
from pathlib import Path

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
    "resolve_storage_url",
]

_HINT = (
    "use sqlite:///relative/runs.db (from the project folder), sqlite:////absolute/runs.db "
    "or postgresql://user@host:5432/db"
)
_SQLITE_HINT = (
    "three slashes before a path relative to the project folder (sqlite:///.catchment/runs.db), "
    "four before an absolute one (sqlite:////srv/catchment/runs.db)"
)


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
    """The file path of a SQLite URL, as SQLAlchemy reads it: ``sqlite:///rel/path`` is
    relative, ``sqlite:////abs/path`` is absolute, ``sqlite:///:memory:`` is in memory."""
    rest = url[len("sqlite://") :]
    if rest == "/:memory:":
        return ":memory:"
    if rest in ("", "/", "//"):
        raise StorageError("a sqlite storage URL needs a file path", where=url, hint=_SQLITE_HINT)
    if not rest.startswith("/"):
        raise StorageError(
            "a sqlite storage URL has no host: the path starts after the third slash",
            where=url,
            hint=_SQLITE_HINT,
        )
    return rest[1:]


def resolve_storage_url(url: str, root: Path) -> str:
    """``url`` with a relative SQLite path made absolute against ``root`` (the project or
    workspace folder), so the store never depends on the working directory; others as given."""
    if not url.startswith("sqlite://"):
        return url
    path = _sqlite_path(url)
    if path == ":memory:" or os.path.isabs(path):
        return url
    return f"sqlite:///{(Path(root) / path).resolve()}"


def open_storage(url: str) -> Storage:
    """Open the run store at ``url``: ``sqlite:////abs/path.db``, ``sqlite:///rel/path.db``
    (from the working directory; projects resolve it with :func:`resolve_storage_url`),
    ``sqlite:///:memory:`` or ``postgresql://user@host:port/db[?schema=NAME]``."""
    check_storage_url(url)
    if url.startswith("sqlite://"):
        from catchment.storage.sqlite import SqliteStorage

        return SqliteStorage(_sqlite_path(url))
    from catchment.storage.postgres import PostgresStorage

    return PostgresStorage(url)

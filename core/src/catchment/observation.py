"""Observation: what is physically in the warehouse for an asset, as opposed to the records.

An ``Observer`` looks at many relations of one system and location (a DuckDB file, a
PostgreSQL database, a Snowflake account, a directory) in as few queries as it can and says,
per relation, whether it exists, its row count, columns, last-modified time and a data
version: an opaque string that changes when the data changes. A relation an observer could
not look at (warehouse unreachable, no permission) is ``exists=None`` with the cause in
``error``: unknown, never fresh.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import msgspec

from catchment.lazy import lazy_exports
from catchment.tables import TableRef

__all__ = [
    "DuckDBObserver",
    "FileObserver",
    "Observation",
    "Observer",
    "PostgresObserver",
    "columns_version",
    "files_stamp",
    "gone",
    "read_cached",
    "unknown",
    "write_cached",
]

_EXPORTS = {
    "DuckDBObserver": "catchment.observers.duckdb",
    "FileObserver": "catchment.observers.files",
    "PostgresObserver": "catchment.observers.postgres",
    "files_stamp": "catchment.observers.stamped",
    "read_cached": "catchment.observers.stamped",
    "write_cached": "catchment.observers.stamped",
}
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from catchment.observers.duckdb import DuckDBObserver
    from catchment.observers.files import FileObserver
    from catchment.observers.postgres import PostgresObserver
    from catchment.observers.stamped import files_stamp, read_cached, write_cached


class Observation(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """What one relation looked like at ``observed_at`` (``exists=None``: could not tell)."""

    exists: bool | None
    row_count: int | None = None
    columns: dict[str, str] | None = None
    last_modified: float | None = None
    data_version: str | None = None
    error: str | None = None
    observed_at: float = msgspec.field(default_factory=time.time)

    @property
    def known(self) -> bool:
        """Whether the observer could look (the relation exists or is known to be gone)."""
        return self.exists is not None

    def same_state(self, other: Observation | None) -> bool:
        """Whether ``other`` saw the same thing (existence, columns, data version)."""
        return other is not None and (self.exists, self.columns, self.data_version) == (
            other.exists,
            other.columns,
            other.data_version,
        )


def gone(observed_at: float | None = None) -> Observation:
    """The observation of a relation that is not there."""
    return Observation(exists=False, observed_at=observed_at or time.time())


def unknown(cause: str, observed_at: float | None = None) -> Observation:
    """The observation of a relation the observer could not look at, and why."""
    return Observation(exists=None, error=cause, observed_at=observed_at or time.time())


def columns_version(*parts: object) -> str:
    """A short stable hash of ``parts`` (row counts, column lists, sizes): a data version."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


@runtime_checkable
class Observer(Protocol):
    """Looks at relations of one ``system`` and ``location`` in bulk (one query per schema or
    warehouse, not one per asset)."""

    system: str
    location: str

    def observe(self, tables: Sequence[TableRef]) -> Mapping[TableRef, Observation]:
        """An observation for each of ``tables`` (a missing entry is read as unknown)."""
        ...

"""Partitions as incremental windows: a time partition ``[start, end)`` becomes the resource's
``dlt.sources.incremental(cursor, initial_value=start, end_value=end)``.

With an ``end_value`` dlt neither reads nor advances the stored incremental state, so a
partition run (a backfill) loads exactly its window and leaves the normal incremental
cursor alone. Window bounds are converted to the type of the resource's declared
``initial_value``: ``int``/``float`` -> epoch seconds, ``str`` -> ISO 8601, ``date`` -> date,
otherwise timezone-aware datetimes.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from catchment.errors import ConfigError
from catchment.partitions import PartitionsDefinition


def window_of(partitions: PartitionsDefinition | None, key: str) -> tuple[datetime, datetime]:
    """The ``[start, end)`` window of partition ``key`` (time-window partitions only)."""
    window = getattr(partitions, "window", None)
    if not callable(window):
        raise ConfigError(
            f"partition {key!r} has no time window, so it cannot select a dlt incremental range",
            hint="use time-window partitions (e.g. daily) on dlt assets with an incremental cursor",
        )
    start, end = window(key)
    return start, end


def convert(value: datetime, like: Any) -> Any:
    """``value`` as the type of ``like`` (the declared initial value of the cursor)."""
    if isinstance(like, bool):
        return value
    if isinstance(like, int):
        return int(value.timestamp())
    if isinstance(like, float):
        return value.timestamp()
    if isinstance(like, str):
        return value.isoformat()
    if isinstance(like, date) and not isinstance(like, datetime):
        return value.date()
    return value


def windowed(incremental: Any, start: datetime, end: datetime) -> Any:
    """A copy of ``incremental`` restricted to ``[start, end)``."""
    import dlt

    like = incremental.initial_value
    return dlt.sources.incremental(
        incremental.cursor_path,
        initial_value=convert(start, like),
        end_value=convert(end, like),
        range_start="closed",
        range_end="open",
        primary_key=incremental.primary_key,
        row_order=incremental.row_order,
        on_cursor_value_missing=incremental.on_cursor_value_missing,
    )

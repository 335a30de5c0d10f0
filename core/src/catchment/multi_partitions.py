"""Two-dimensional partitions: time windows x static keys (a day per region, an hour per
shard). A key is ``<time key>|<static key>`` (``2026-12-02|eu``).

A range ``START...END`` takes the time windows from START's to END's and the static keys from
START's to END's in their order; an end without ``|static`` means every static key
(``2026-12-01...2026-12-03`` is three days of every region). ``window(key)`` is the key's time
window, so adapters that map windows (dlt incremental ranges, dbt ``min_var``/``max_var``)
work unchanged; ``static_of(key)`` is its static part (dbt passes it as ``key_var``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from catchment.errors import ConfigError
from catchment.partitions import PartitionsDefinition, StaticPartitions, TimeWindowPartitions

__all__ = ["SEPARATOR", "MultiPartitions"]

SEPARATOR = "|"


class MultiPartitions(PartitionsDefinition):
    """Time windows x static keys; keys ordered by time, then by static key."""

    __slots__ = ("static", "time")

    def __init__(self, time: TimeWindowPartitions, static: StaticPartitions | Sequence[str]):
        if not isinstance(time, TimeWindowPartitions):
            raise ConfigError(
                "MultiPartitions needs time-window partitions as its first dimension",
                hint="e.g. MultiPartitions(TimeWindowPartitions('2026-01-01'), ['eu', 'us'])",
            )
        self.time = time
        self.static = static if isinstance(static, StaticPartitions) else StaticPartitions(static)
        statics = self.static.keys()
        bad = [k for k in statics if SEPARATOR in k]
        if bad:
            raise ConfigError(f"static keys of MultiPartitions may not contain '|': {bad}")

    def keys(self) -> list[str]:
        times, statics = self.time.keys(), self.static.keys()
        return [self.join(t, s) for t in times for s in statics]

    @staticmethod
    def join(time_key: str, static_key: str) -> str:
        """The key of one time window and one static key."""
        return f"{time_key}{SEPARATOR}{static_key}"

    def split(self, key: str) -> tuple[str, str]:
        """``(time key, static key)`` of ``key``, validated."""
        time_key, sep, static_key = key.partition(SEPARATOR)
        if not sep or not self.time.contains(time_key) or not self.static.contains(static_key):
            raise ConfigError(
                f"unknown partition key {key!r}",
                hint="write <time key>|<static key>; static keys: " + ", ".join(self.static.keys()),
            )
        return time_key, static_key

    def contains(self, key: str) -> bool:
        try:
            self.split(key)
        except ConfigError:
            return False
        return True

    def validate(self, key: str) -> str:
        self.split(key)
        return key

    def range(self, start: str, end: str) -> list[str]:
        t0, s0 = self._loose(start)
        t1, s1 = self._loose(end)
        times = self.time.range(t0, t1)
        statics = list(self.static.keys())
        if s0 is None and s1 is None:
            chosen = statics
        else:
            chosen = self.static.range(s0 or statics[0], s1 or statics[-1])
        return [self.join(t, s) for t in times for s in chosen]

    def _loose(self, text: str) -> tuple[str, str | None]:
        """A range end: ``time|static`` or just ``time`` (every static key)."""
        if SEPARATOR in text:
            return self.split(text)
        return self.time.validate(text), None

    def window(self, key: str) -> tuple[datetime, datetime]:
        """The time window of ``key``."""
        return self.time.window(self.split(key)[0])

    def static_of(self, key: str) -> str:
        """The static part of ``key``."""
        return self.split(key)[1]

    def keys_at(self, moment: datetime, last: int | None = None) -> list[str]:
        """Every static key of the ``last`` newest windows complete at ``moment``."""
        times, statics = self.time.keys_at(moment, last), self.static.keys()
        return [self.join(t, s) for t in times for s in statics]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, MultiPartitions)
            and self.time == other.time
            and self.static == other.static
        )

    def __hash__(self) -> int:
        return hash((self.time, self.static))

    def __repr__(self) -> str:
        return f"MultiPartitions({self.time!r}, {self.static!r})"

"""Partitions: how an asset is split (static keys or time windows) and how partitioned
assets map onto their upstreams.

The base classes are the contract; below them are the built-in sets (``StaticPartitions``,
``TimeWindowPartitions``) and mappings (``IdentityMapping``, ``AllPartitionsMapping``,
``TimeWindowMapping``, ``StaticMapping``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Literal

import msgspec

from catchment.errors import ConfigError

__all__ = [
    "AllPartitionsMapping",
    "Cadence",
    "DynamicPartitions",
    "IdentityMapping",
    "PartitionMapping",
    "PartitionScope",
    "PartitionsDefinition",
    "StaticMapping",
    "StaticPartitions",
    "TimeWindowMapping",
    "TimeWindowPartitions",
]


class PartitionsDefinition(ABC):
    """An ordered set of partition keys an asset is materialized by."""

    @abstractmethod
    def keys(self) -> Sequence[str]:
        """Every partition key, in order."""

    def contains(self, key: str) -> bool:
        """Whether ``key`` is one of this set's partition keys."""
        return key in self.keys()

    def range(self, start: str, end: str) -> list[str]:
        """The keys from ``start`` to ``end``, both included, in order."""
        all_keys = list(self.keys())
        for k in (start, end):
            if k not in all_keys:
                raise ConfigError(
                    f"unknown partition key {k!r}", hint=f"known keys: {_preview(all_keys)}"
                )
        i, j = all_keys.index(start), all_keys.index(end)
        if i > j:
            raise ConfigError(f"partition range {start!r}...{end!r} runs backwards")
        return all_keys[i : j + 1]

    def validate(self, key: str) -> str:
        """``key`` itself, or a ``ConfigError`` listing the known keys."""
        if not self.contains(key):
            raise ConfigError(
                f"unknown partition key {key!r}", hint=f"known keys: {_preview(list(self.keys()))}"
            )
        return key


class PartitionMapping(ABC):
    """Which upstream partitions a downstream partition reads."""

    @abstractmethod
    def upstream_keys(
        self,
        downstream_key: str | None,
        downstream: PartitionsDefinition | None,
        upstream: PartitionsDefinition,
    ) -> list[str]:
        """The upstream partition keys that ``downstream_key`` depends on."""


def _preview(keys: list[str], n: int = 5) -> str:
    if len(keys) <= 2 * n:
        return ", ".join(keys)
    return ", ".join(keys[:n]) + ", ..., " + ", ".join(keys[-n:])


# --------------------------------------------------------------------------- partition sets
class StaticPartitions(PartitionsDefinition):
    """A fixed, ordered list of partition keys (regions, customers, ...)."""

    __slots__ = ("_keys", "_set")

    def __init__(self, keys: Sequence[str]):
        """``keys``: unique, non-empty strings, in the order runs should take them."""
        ordered = tuple(keys)
        if isinstance(keys, str) or not ordered:
            raise ConfigError(
                "StaticPartitions needs a non-empty list of keys",
                hint="e.g. StaticPartitions(['eu', 'us'])",
            )
        bad = [k for k in ordered if not isinstance(k, str) or not k]
        if bad:
            raise ConfigError(f"static partition keys must be non-empty strings, got {bad!r}")
        dupes = sorted({k for k in ordered if ordered.count(k) > 1})
        if dupes:
            raise ConfigError(f"static partition keys repeat: {dupes}")
        self._keys = ordered
        self._set = frozenset(ordered)

    def keys(self) -> tuple[str, ...]:
        return self._keys

    def contains(self, key: str) -> bool:
        return key in self._set

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticPartitions) and self._keys == other._keys

    def __hash__(self) -> int:
        return hash(self._keys)

    def __repr__(self) -> str:
        return f"StaticPartitions({list(self._keys)!r})"


Cadence = Literal["hourly", "daily", "weekly", "monthly"]
_DEFAULT_FMT: dict[str, str] = {
    "hourly": "%Y-%m-%d-%H:%M",
    "daily": "%Y-%m-%d",
    "weekly": "%Y-%m-%d",
    "monthly": "%Y-%m-%d",
}


class TimeWindowPartitions(PartitionsDefinition):
    """Consecutive time windows (hourly, daily, weekly, monthly) in a timezone.

    Windows are wall-clock periods of ``timezone`` starting at ``start`` (weekly windows start
    on ``start``'s weekday; monthly ones on the 1st). A key is the window's start formatted
    with ``fmt`` (``2026-01-01``, hourly ``2026-01-01-13:00``). Only complete windows exist:
    those ending by ``end``, which defaults to now. Around DST changes, an hour that does not
    exist is skipped and an hour that happens twice is one two-hour window.
    """

    __slots__ = ("_cache", "_end", "_start", "cadence", "fmt", "timezone")

    def __init__(
        self,
        start: str | datetime,
        end: str | datetime | None = None,
        cadence: Cadence = "daily",
        timezone: str = "UTC",
        fmt: str | None = None,
    ):
        """``start``/``end``: datetimes or strings in ``fmt`` or ISO 8601 (naive values are
        wall-clock times in ``timezone``)."""
        if cadence not in _DEFAULT_FMT:
            raise ConfigError(
                f"unknown partition cadence {cadence!r}",
                hint=f"use one of {', '.join(_DEFAULT_FMT)}",
            )
        self.cadence: Cadence = cadence
        self.timezone = timezone
        self.fmt = fmt or _DEFAULT_FMT[cadence]
        self._zone()  # validate early
        self._start = self._naive(start, "start")
        self._end = None if end is None else self._naive(end, "end")
        if not self._aligned_to_cadence(self._start):
            raise ConfigError(
                f"{cadence} partitions cannot start at {self._start:%Y-%m-%d %H:%M}",
                hint="start hourly windows on the hour, daily and weekly ones at midnight "
                "and monthly ones at midnight on the 1st",
            )
        if self._end is not None and self._end < self._start:
            raise ConfigError(f"partitions end {end!r} before they start {start!r}")
        self._cache: tuple[datetime, datetime, list[str]] | None = None

    # -- time arithmetic on naive wall-clock datetimes
    def _zone(self) -> tzinfo:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            return ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                f"unknown timezone {self.timezone!r}",
                hint="use an IANA name such as 'UTC' or 'Europe/Berlin'",
            ) from None

    def _naive(self, value: str | datetime, what: str) -> datetime:
        """A wall-clock datetime in this timezone, from a string or datetime."""
        if isinstance(value, datetime):
            if value.tzinfo is not None:
                value = value.astimezone(self._zone())
            return value.replace(tzinfo=None)
        try:
            return datetime.strptime(value, self.fmt)
        except ValueError:
            pass
        try:
            return self._naive(datetime.fromisoformat(value), what)
        except ValueError:
            raise ConfigError(
                f"partition {what} {value!r} is neither in the format {self.fmt!r} nor ISO 8601"
            ) from None

    def _aligned_to_cadence(self, t: datetime) -> bool:
        if t.minute or t.second or t.microsecond:
            return False
        if self.cadence == "hourly":
            return True
        return t.hour == 0 and (self.cadence != "monthly" or t.day == 1)

    def _aligned(self, t: datetime) -> bool:
        if not self._aligned_to_cadence(t) or t < self._start:
            return False
        if self.cadence == "weekly":
            return (t - self._start).days % 7 == 0
        return self.cadence != "hourly" or self._exists(t)

    def _exists(self, t: datetime) -> bool:
        """False for wall-clock times skipped by a DST change."""
        from datetime import UTC

        zone = self._zone()
        return t.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == t

    def _step(self, t: datetime, n: int = 1) -> datetime:
        """The window start ``n`` windows after (or before, if negative) window start ``t``."""
        if self.cadence == "monthly":
            months = t.year * 12 + t.month - 1 + n
            return t.replace(year=months // 12, month=months % 12 + 1)
        if self.cadence != "hourly":
            return t + timedelta(days=n * (7 if self.cadence == "weekly" else 1))
        sign = 1 if n >= 0 else -1
        for _ in range(abs(n)):
            t += timedelta(hours=sign)
            while not self._exists(t):
                t += timedelta(hours=sign)
        return t

    def _aware(self, t: datetime) -> datetime:
        """Wall-clock ``t`` as an aware datetime (first occurrence of a repeated time)."""
        from datetime import UTC

        zone = self._zone()
        return t.replace(tzinfo=zone, fold=0).astimezone(UTC).astimezone(zone)

    def _limit(self) -> datetime:
        if self._end is not None:
            return self._end
        return datetime.now(self._zone()).replace(tzinfo=None)

    # -- public API
    @property
    def start(self) -> datetime:
        """The first window's start (aware)."""
        return self._aware(self._start)

    @property
    def end(self) -> datetime:
        """The bound windows must end by (aware): the given end, or now."""
        return self._aware(self._limit())

    def keys(self) -> list[str]:
        limit = self._limit()
        cache = self._cache
        if cache is None or (cache[2] and self._step(cache[0], -1) > limit):
            cache = (self._start, self._step(self._start), [])
        t, nxt, out = cache
        while nxt <= limit:  # extend from where the last call stopped
            out.append(t.strftime(self.fmt))
            t, nxt = nxt, self._step(nxt)
        self._cache = (t, nxt, out)
        return list(out)

    def _parse_key(self, key: str) -> datetime | None:
        try:
            t = datetime.strptime(key, self.fmt)
        except ValueError:
            return None
        return t if t.strftime(self.fmt) == key and self._aligned(t) else None

    def contains(self, key: str) -> bool:
        t = self._parse_key(key)
        return t is not None and self._step(t) <= self._limit()

    def validate(self, key: str) -> str:
        if not self.contains(key):
            keys = self.keys()
            span = f"{keys[0]} ... {keys[-1]}" if keys else "none yet"
            raise ConfigError(
                f"{key!r} is not a {self.cadence} partition key",
                hint=f"keys look like {self._start.strftime(self.fmt)!r} (format {self.fmt!r}); "
                f"existing: {span}",
            )
        return key

    def range(self, start: str, end: str) -> list[str]:
        t, last = self._naive_of(self.validate(start)), self._naive_of(self.validate(end))
        if t > last:
            raise ConfigError(f"partition range {start!r}...{end!r} runs backwards")
        out: list[str] = []
        while t <= last:
            out.append(t.strftime(self.fmt))
            t = self._step(t)
        return out

    def _naive_of(self, key: str) -> datetime:
        t = self._parse_key(key)
        if t is None:
            self.validate(key)  # raises
            raise AssertionError(key)
        return t

    def window(self, key: str) -> tuple[datetime, datetime]:
        """The window of ``key`` as aware datetimes ``[start, end)`` in the timezone."""
        t = self._naive_of(self.validate(key))
        return self._aware(t), self._aware(self._step(t))

    def key_for(self, moment: datetime) -> str | None:
        """The key of the window containing ``moment`` (naive = wall clock), if it exists."""
        t = self._window_start(self._naive(moment, "time"))
        if t is None:
            return None
        key = t.strftime(self.fmt)
        return key if self.contains(key) else None

    def _window_start(self, target: datetime) -> datetime | None:
        """The start of the window containing wall-clock ``target`` (None before the first)."""
        if target < self._start:
            return None
        t = self._start
        if self.cadence in ("daily", "weekly"):
            days = 7 if self.cadence == "weekly" else 1
            t += timedelta(days=(target - self._start).days // days * days)
        elif self.cadence == "monthly":
            t = self._step(t, (target.year - t.year) * 12 + target.month - t.month)
        else:
            t = target.replace(minute=0, second=0, microsecond=0)
            while not self._exists(t):
                t -= timedelta(hours=1)
        if t > target:  # e.g. before the first window of its month
            t = self._step(t, -1)
        return t

    def keys_at(self, moment: datetime, last: int | None = None) -> list[str]:
        """The keys of the windows complete at ``moment`` (and by ``end``, if set), in order:
        the ``last`` newest of them, or all when ``last`` is None. What automation and
        ``plan`` keep current at a given time, computed without listing older windows."""
        limit = self._naive(moment, "time")
        if self._end is not None:
            limit = min(limit, self._end)
        current = self._window_start(limit)
        if current is None:
            return []
        newest = current if self._step(current) <= limit else self._step(current, -1)
        if newest < self._start:
            return []
        if last is None:
            out, t = [], self._start
            while t <= newest:
                out.append(t.strftime(self.fmt))
                t = self._step(t)
            return out
        keys: list[str] = []
        t = newest
        while len(keys) < last and t >= self._start:
            keys.append(t.strftime(self.fmt))
            t = self._step(t, -1)
        keys.reverse()
        return keys

    def windows_overlapping(self, start: datetime, end: datetime) -> list[str]:
        """Keys of existing windows that overlap ``[start, end)`` (naive = wall clock)."""
        lo, hi = self._naive(start, "time"), self._naive(end, "time")
        t = max(lo, self._start)
        first = self.key_for(t)
        t = self._naive_of(first) if first is not None else self._start
        limit = self._limit()
        out: list[str] = []
        while t < hi:
            nxt = self._step(t)
            if nxt > limit:
                break
            if nxt > lo:
                out.append(t.strftime(self.fmt))
            t = nxt
        return out

    def __eq__(self, other: object) -> bool:
        return isinstance(other, TimeWindowPartitions) and self._identity() == other._identity()

    def __hash__(self) -> int:
        return hash(self._identity())

    def _identity(self) -> tuple[object, ...]:
        return (self._start, self._end, self.cadence, self.timezone, self.fmt)

    def __repr__(self) -> str:
        end = "" if self._end is None else f", end={self._end.isoformat()!r}"
        return (
            f"TimeWindowPartitions(start={self._start.isoformat()!r}{end}, "
            f"cadence={self.cadence!r}, timezone={self.timezone!r})"
        )


class DynamicPartitions(PartitionsDefinition):
    """A named set of partition keys added while the platform runs (a sensor finding a new
    customer, ``catchment partitions add SET KEY``, ``add_dynamic_partitions``), kept in the
    record store's ``dynamic_partitions`` table. Keys keep the order they were added in.

    The keys are read from the record store when a command opens it (``bind``); until then
    the set is empty, so a partition nobody added is an error that says how to add it.
    """

    __slots__ = ("_keys", "_set", "name")

    def __init__(self, name: str):
        """``name``: the set's name in the record store (letters, digits, ``_ - .``)."""
        if (
            not isinstance(name, str)
            or not name
            or not all(c.isalnum() or c in "_-." for c in name)
        ):
            raise ConfigError(
                f"invalid dynamic partition set name {name!r}",
                hint="use letters, digits, '_', '-' or '.', e.g. DynamicPartitions('customers')",
            )
        self.name = name
        self._keys: tuple[str, ...] = ()
        self._set: frozenset[str] = frozenset()

    def bind(self, keys: Sequence[str]) -> None:
        """Set the keys the record store holds for this set (what a command read at start)."""
        self._keys = tuple(keys)
        self._set = frozenset(self._keys)

    def keys(self) -> tuple[str, ...]:
        return self._keys

    def contains(self, key: str) -> bool:
        return key in self._set

    def validate(self, key: str) -> str:
        if key not in self._set:
            raise ConfigError(
                f"dynamic partition set {self.name!r} has no key {key!r}",
                hint=f"add it: catchment partitions add {self.name} {key}"
                + (f" (known: {_preview(list(self._keys))})" if self._keys else ""),
            )
        return key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, DynamicPartitions) and self.name == other.name

    def __hash__(self) -> int:
        return hash(("dynamic", self.name))

    def __repr__(self) -> str:
        return f"DynamicPartitions({self.name!r})"


# --------------------------------------------------------------------------- scope
class PartitionScope(msgspec.Struct, frozen=True, omit_defaults=True):
    """Which partitions automation keeps current, and ``plan``/``apply`` reconcile: the
    ``last`` newest ones (time windows: the newest complete windows), or all (None).

    The default (:func:`default_scope`) is the latest window for time partitions and every
    key for static and dynamic ones. Older partitions are left to backfills.
    """

    last: int | None = 1

    def __post_init__(self) -> None:
        """``last`` counts partitions, so it is at least 1."""
        if self.last is not None and (not isinstance(self.last, int) or self.last < 1):
            raise ConfigError(
                f"partition scope needs a positive number of partitions, got {self.last!r}",
                hint="use 'latest', 'last 7' or 'all'",
            )

    def keys(self, partitions: PartitionsDefinition, now: datetime) -> list[str]:
        """The keys in scope of ``partitions`` at ``now``, oldest first."""
        keys_at = getattr(partitions, "keys_at", None)  # time windows, alone or with statics
        if keys_at is not None:
            return list(keys_at(now, self.last))
        keys = list(partitions.keys())
        return keys if self.last is None else keys[-self.last :]

    def __str__(self) -> str:
        if self.last is None:
            return "all"
        return "latest" if self.last == 1 else f"last {self.last}"


def as_partition_scope(value: PartitionScope | str | int | None) -> PartitionScope | None:
    """A scope from ``'latest'``, ``'all'``, ``'last 7'``, ``7`` or a ``PartitionScope``
    (None stays None: the default applies)."""
    if value is None or isinstance(value, PartitionScope):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return PartitionScope(last=value)
    text = str(value).strip().lower()
    if text == "all":
        return PartitionScope(last=None)
    if text == "latest":
        return PartitionScope(last=1)
    count = text.removeprefix("last").strip()
    if text.startswith("last") and count.isdigit():
        return PartitionScope(last=int(count))
    raise ConfigError(
        f"unknown partition scope {value!r}", hint="use 'latest', 'last 7' (any number) or 'all'"
    )


def default_scope(partitions: PartitionsDefinition) -> PartitionScope:
    """The latest window for time partitions (with every static key, for time x static);
    every key for static and dynamic sets."""
    return PartitionScope(last=1 if hasattr(partitions, "keys_at") else None)


# --------------------------------------------------------------------------- mappings
@dataclass(frozen=True)
class IdentityMapping(PartitionMapping):
    """Downstream partition ``k`` reads upstream partition ``k`` (the default)."""

    def upstream_keys(
        self,
        downstream_key: str | None,
        downstream: PartitionsDefinition | None,
        upstream: PartitionsDefinition,
    ) -> list[str]:
        if downstream_key is None:
            return list(upstream.keys())
        if not upstream.contains(downstream_key):
            raise ConfigError(
                f"upstream has no partition {downstream_key!r} to match the downstream one",
                hint="use a TimeWindowMapping, StaticMapping or AllPartitionsMapping on the dep",
            )
        return [downstream_key]


@dataclass(frozen=True)
class AllPartitionsMapping(PartitionMapping):
    """Every downstream partition reads every upstream partition."""

    def upstream_keys(
        self,
        downstream_key: str | None,
        downstream: PartitionsDefinition | None,
        upstream: PartitionsDefinition,
    ) -> list[str]:
        return list(upstream.keys())


@dataclass(frozen=True)
class TimeWindowMapping(PartitionMapping):
    """A downstream window reads the upstream windows overlapping it, shifted by whole
    downstream windows: ``start_offset=-1, end_offset=-1`` reads the previous window
    (yesterday's hours for a daily asset); ``start_offset=-6`` a trailing week of days."""

    start_offset: int = 0
    end_offset: int = 0

    def __post_init__(self) -> None:
        """Offsets count downstream windows added to the window's start and end."""
        if self.start_offset > self.end_offset:
            raise ConfigError(
                f"TimeWindowMapping start_offset {self.start_offset} is after "
                f"end_offset {self.end_offset}"
            )

    def upstream_keys(
        self,
        downstream_key: str | None,
        downstream: PartitionsDefinition | None,
        upstream: PartitionsDefinition,
    ) -> list[str]:
        if not isinstance(upstream, TimeWindowPartitions):
            raise ConfigError(
                "TimeWindowMapping needs a time-window partitioned upstream",
                hint="use StaticMapping or AllPartitionsMapping for static partitions",
            )
        if downstream_key is None:
            return list(upstream.keys())
        if not isinstance(downstream, TimeWindowPartitions):
            raise ConfigError("TimeWindowMapping needs a time-window partitioned downstream")
        start = downstream._naive_of(downstream.validate(downstream_key))
        end = downstream._step(start)
        start = downstream._step(start, self.start_offset)
        end = downstream._step(end, self.end_offset)
        return upstream.windows_overlapping(downstream._aware(start), downstream._aware(end))


class StaticMapping(PartitionMapping):
    """An explicit table: downstream key -> the upstream keys it reads."""

    __slots__ = ("mapping",)

    def __init__(self, mapping: Mapping[str, str | Sequence[str]]):
        """``mapping``: ``{"emea": ["de", "fr"], "us": "us"}``."""
        self.mapping: dict[str, tuple[str, ...]] = {
            down: (ups,) if isinstance(ups, str) else tuple(ups) for down, ups in mapping.items()
        }

    def upstream_keys(
        self,
        downstream_key: str | None,
        downstream: PartitionsDefinition | None,
        upstream: PartitionsDefinition,
    ) -> list[str]:
        if downstream_key is None:
            wanted = list(dict.fromkeys(k for ups in self.mapping.values() for k in ups))
        elif downstream_key in self.mapping:
            wanted = list(self.mapping[downstream_key])
        else:
            raise ConfigError(
                f"StaticMapping has no entry for downstream partition {downstream_key!r}",
                hint=f"mapped partitions: {_preview(sorted(self.mapping))}",
            )
        unknown = [k for k in wanted if not upstream.contains(k)]
        if unknown:
            raise ConfigError(
                f"StaticMapping names upstream partitions that do not exist: {unknown}",
                hint=f"upstream keys: {_preview(list(upstream.keys()))}",
            )
        return wanted

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StaticMapping) and self.mapping == other.mapping

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.mapping.items())))

    def __repr__(self) -> str:
        return f"StaticMapping({self.mapping!r})"

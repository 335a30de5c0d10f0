"""Freshness policies: how old an asset's data may get before it is overdue.

A policy is a maximum lag (``36h``: the latest materialization is at most 36 hours old), a
cron deadline (``cron: '0 9 * * *'``: by each 09:00, the asset was materialized since the
previous 09:00), or both (by each 09:00, data at most 6 hours old). Declared per asset
(``freshness=`` in Python, ``freshness:`` on a component or one of its assets) or for a group
or the whole project (the ``freshness:`` section of ``catchment.yaml``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import msgspec

from catchment.errors import ConfigError

__all__ = ["FreshnessPolicy", "as_freshness_policy", "parse_duration"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
_DURATION_HINT = "write a duration such as '36h', '90m', '2d' or '1h30m'"


def parse_duration(value: str | float | timedelta, where: str | None = None) -> float:
    """Seconds in ``'36h'``, ``'1h30m'``, ``'2d'``, a number of seconds or a timedelta."""
    if isinstance(value, timedelta):
        seconds = value.total_seconds()
    elif isinstance(value, int | float) and not isinstance(value, bool):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        parts = _DURATION.findall(text)
        if not parts or "".join(n + u for n, u in parts) != text:
            raise ConfigError(f"invalid duration {value!r}", where=where, hint=_DURATION_HINT)
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    else:
        raise ConfigError(f"invalid duration {value!r}", where=where, hint=_DURATION_HINT)
    if seconds <= 0:
        raise ConfigError(f"a duration must be positive, got {value!r}", where=where)
    return seconds


def _show_duration(seconds: float) -> str:
    out, rest = [], int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if rest >= size:
            out.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(out) or f"{seconds}s"


class FreshnessPolicy(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """A maximum lag in seconds, a cron deadline in a timezone, or both (see the module)."""

    max_lag: float | None = None
    cron: str | None = None
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        """At least one of the two, each valid: a bad policy fails where it is declared."""
        if self.max_lag is None and self.cron is None:
            raise ConfigError(
                "a freshness policy needs max_lag, cron or both",
                hint="e.g. freshness: {max_lag: 36h} or {cron: '0 9 * * *', max_lag: 6h}",
            )
        if self.max_lag is not None and self.max_lag <= 0:
            raise ConfigError(f"freshness max_lag must be positive, got {self.max_lag!r}")
        if self.cron is not None:
            from catchment.cron import CronSchedule

            CronSchedule(self.cron, self.timezone)

    def required_since(self, now: datetime) -> tuple[float, float | None]:
        """``(since, deadline)``: the asset is overdue at ``now`` unless materialized at or
        after ``since`` (a POSIX time). ``deadline`` is the cron tick that set it (None
        for a plain maximum lag)."""
        if self.cron is None:
            assert self.max_lag is not None
            return now.timestamp() - self.max_lag, None
        from catchment.cron import CronSchedule

        schedule = CronSchedule(self.cron, self.timezone)
        deadline = schedule.latest_at_or_before(now)
        if self.max_lag is not None:
            since = deadline.timestamp() - self.max_lag
        else:
            since = schedule.previous_before(deadline).timestamp()
        return since, deadline.timestamp()

    def __str__(self) -> str:
        parts = []
        if self.max_lag is not None:
            parts.append(f"max lag {_show_duration(self.max_lag)}")
        if self.cron is not None:
            tz = "" if self.timezone == "UTC" else f" {self.timezone}"
            parts.append(f"by each tick of '{self.cron}'{tz}")
        return ", ".join(parts)


def as_freshness_policy(value: Any, where: str | None = None) -> FreshnessPolicy | None:
    """A policy from a ``FreshnessPolicy``, a duration (``'36h'``: a maximum lag) or a mapping
    ``{max_lag, cron, timezone}`` as YAML writes it; None stays None."""
    if value is None or isinstance(value, FreshnessPolicy):
        return value
    if isinstance(value, str | int | float | timedelta) and not isinstance(value, bool):
        return FreshnessPolicy(max_lag=parse_duration(value, where))
    if isinstance(value, dict):
        unknown = sorted(set(value) - {"max_lag", "cron", "timezone"})
        if unknown:
            raise ConfigError(
                f"unknown freshness field(s) {', '.join(map(str, unknown))}",
                where=where,
                hint="known fields: max_lag, cron, timezone",
            )
        lag = value.get("max_lag")
        try:
            return FreshnessPolicy(
                max_lag=None if lag is None else parse_duration(lag, where),
                cron=value.get("cron"),
                timezone=value.get("timezone") or "UTC",
            )
        except ConfigError as exc:
            raise ConfigError(exc.message, where=exc.where or where, hint=exc.hint) from None
    raise ConfigError(
        f"a freshness policy is a duration or a mapping, not a {type(value).__name__}",
        where=where,
        hint="e.g. freshness: 36h, or freshness: {cron: '0 9 * * *', max_lag: 6h}",
    )

"""Cron schedules in a timezone: validation with a clear message, and the ticks that fall in
a span of time (what automation's ``cron_tick_passed``, schedules and freshness deadlines ask).

Five fields (minute hour day-of-month month day-of-week), an optional sixth for seconds, or an
alias (``@hourly``, ``@daily``, ``@weekly``, ``@monthly``, ``@yearly``). Ticks are wall-clock
times of the timezone: a tick in an hour that a DST change skips fires when the hour resumes,
one in an hour that happens twice fires once. ``cronsim`` does the arithmetic; it is imported
on first use, so importing this module costs nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from catchment.errors import ConfigError

__all__ = ["CRON_ALIASES", "CronSchedule", "validate_cron", "validate_timezone"]

CRON_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}

_HINT = (
    "use five fields 'minute hour day-of-month month day-of-week', e.g. '0 3 * * *' "
    "(03:00 every day), or @hourly / @daily / @weekly / @monthly"
)


def validate_cron(expression: str, where: str | None = None) -> str:
    """``expression`` itself if it is a valid cron string, else a ``ConfigError`` saying which
    field is wrong (``where``: the file:line or field to name)."""
    from cronsim import CronSim, CronSimError

    if not isinstance(expression, str) or not expression.strip():
        raise ConfigError("a cron schedule must be a non-empty string", where=where, hint=_HINT)
    try:
        CronSim(_expand(expression), datetime(2000, 1, 1, tzinfo=UTC))
    except CronSimError as exc:
        raise ConfigError(
            f"invalid cron schedule {expression!r}: {exc}", where=where, hint=_HINT
        ) from None
    return expression


def validate_timezone(name: str, where: str | None = None) -> tzinfo:
    """The ``ZoneInfo`` of an IANA timezone name, or a ``ConfigError`` naming it."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ConfigError(
            f"unknown timezone {name!r}",
            where=where,
            hint="use an IANA name such as 'UTC' or 'Europe/Berlin'",
        ) from None


def _expand(expression: str) -> str:
    text = expression.strip()
    return CRON_ALIASES.get(text.lower(), text)


@dataclass(frozen=True)
class CronSchedule:
    """A validated cron expression in an IANA timezone."""

    expression: str
    timezone: str = "UTC"
    _zone: Any = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Validate both parts at once, so a bad schedule fails where it is declared."""
        validate_cron(self.expression)
        object.__setattr__(self, "_zone", validate_timezone(self.timezone))

    def _local(self, moment: datetime | float) -> datetime:
        if isinstance(moment, int | float):
            return datetime.fromtimestamp(moment, self._zone)
        if moment.tzinfo is None:
            return moment.replace(tzinfo=self._zone)
        return moment.astimezone(self._zone)

    def next_after(self, moment: datetime | float) -> datetime:
        """The first tick strictly after ``moment`` (aware, in the schedule's timezone)."""
        from cronsim import CronSim

        return next(CronSim(_expand(self.expression), self._local(moment)))

    def previous_before(self, moment: datetime | float) -> datetime:
        """The last tick strictly before ``moment``."""
        from cronsim import CronSim

        return next(CronSim(_expand(self.expression), self._local(moment), reverse=True))

    def latest_at_or_before(self, moment: datetime | float) -> datetime:
        """The last tick at or before ``moment``."""
        local = self._local(moment)
        later = self.next_after(self.previous_before(local))
        return later if later <= local else self.previous_before(local)

    def passed_between(self, start: datetime | float, end: datetime | float) -> bool:
        """Whether a tick falls in ``(start, end]``."""
        return self.next_after(start) <= self._local(end)

    def ticks_between(
        self, start: datetime | float, end: datetime | float, limit: int = 1000
    ) -> Iterator[datetime]:
        """The ticks in ``(start, end]`` in order, at most ``limit`` of them (the latest ones
        matter most after a long downtime; callers that need them bound their catch-up)."""
        from cronsim import CronSim

        stop = self._local(end)
        for count, tick in enumerate(CronSim(_expand(self.expression), self._local(start))):
            if tick > stop or count >= limit:
                return
            yield tick

    def describe(self) -> str:
        """A human sentence, e.g. ``At 03:00 (Europe/Berlin)``."""
        from cronsim import CronSim

        text = CronSim(_expand(self.expression), datetime(2000, 1, 1, tzinfo=UTC)).explain()
        return f"{text} ({self.timezone})"

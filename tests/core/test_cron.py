"""Cron schedules: validation messages, ticks in a span, timezones and DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from catchment.cron import CronSchedule, validate_cron
from catchment.errors import ConfigError

BERLIN = ZoneInfo("Europe/Berlin")


def test_a_bad_cron_string_says_which_field_and_how_to_write_one() -> None:
    with pytest.raises(ConfigError) as err:
        validate_cron("61 3 * * *", where="catchment.yaml:7")
    assert str(err.value).startswith("catchment.yaml:7: invalid cron schedule '61 3 * * *'")
    assert "minute" in str(err.value)
    assert "'0 3 * * *'" in (err.value.hint or "")
    with pytest.raises(ConfigError, match="Wrong number of fields"):
        CronSchedule("0 3 * *")
    with pytest.raises(ConfigError, match="unknown timezone 'Mars/Base'"):
        CronSchedule("0 3 * * *", "Mars/Base")


def test_ticks_between_are_half_open_and_in_the_timezone() -> None:
    daily = CronSchedule("0 3 * * *", "Europe/Berlin")
    start = datetime(2026, 1, 1, 3, 0, tzinfo=BERLIN)
    end = datetime(2026, 1, 3, 3, 0, tzinfo=BERLIN)
    assert [t.day for t in daily.ticks_between(start, end)] == [2, 3]  # (start, end]
    assert daily.passed_between(start, end)
    assert not daily.passed_between(end, end.replace(hour=4))
    # 03:00 in Berlin is 02:00 UTC in winter
    assert daily.next_after(datetime(2026, 1, 1, 1, 0, tzinfo=UTC)).astimezone(UTC).hour == 2


def test_latest_tick_at_or_before_includes_the_moment_itself() -> None:
    hourly = CronSchedule("@hourly")
    at = datetime(2026, 5, 1, 7, 0, tzinfo=UTC)
    assert hourly.latest_at_or_before(at) == at
    assert hourly.latest_at_or_before(at.replace(minute=59)) == at
    assert hourly.previous_before(at) == at.replace(hour=6)


def test_a_tick_in_the_hour_dst_skips_fires_when_the_hour_resumes() -> None:
    nightly = CronSchedule("30 2 * * *", "Europe/Berlin")
    # 2026-03-29: clocks jump from 02:00 to 03:00 in Berlin
    tick = nightly.next_after(datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN))
    assert (tick.day, tick.hour) == (29, 3)
    assert nightly.describe().endswith("(Europe/Berlin)")

"""Partition sets (static, time windows with timezones) and partition mappings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from catchment.errors import ConfigError
from catchment.partitions import (
    AllPartitionsMapping,
    IdentityMapping,
    StaticMapping,
    StaticPartitions,
    TimeWindowMapping,
    TimeWindowPartitions,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


# ------------------------------------------------------------------ static
def test_static_keys_contains_range_validate() -> None:
    p = StaticPartitions(["eu", "us", "apac"])
    assert p.keys() == ("eu", "us", "apac")
    assert p.contains("us")
    assert not p.contains("mars")
    assert p.range("eu", "us") == ["eu", "us"]
    assert p.validate("apac") == "apac"
    with pytest.raises(ConfigError, match="unknown partition key 'mars'") as info:
        p.validate("mars")
    assert info.value.hint == "known keys: eu, us, apac"
    with pytest.raises(ConfigError, match="runs backwards"):
        p.range("apac", "eu")
    assert p == StaticPartitions(["eu", "us", "apac"])
    assert hash(p) == hash(StaticPartitions(["eu", "us", "apac"]))


@pytest.mark.parametrize("bad", [[], "eu", ["eu", "eu"], ["eu", ""]])
def test_static_rejects_bad_key_lists(bad: list[str]) -> None:
    with pytest.raises(ConfigError):
        StaticPartitions(bad)


# ------------------------------------------------------------------ time windows
def test_daily_in_a_timezone() -> None:
    p = TimeWindowPartitions("2026-01-01", "2026-01-04", timezone="America/New_York")
    assert p.keys() == ["2026-01-01", "2026-01-02", "2026-01-03"]
    start, end = p.window("2026-01-02")
    assert start == datetime(2026, 1, 2, tzinfo=NEW_YORK)
    assert end == datetime(2026, 1, 3, tzinfo=NEW_YORK)
    assert start.utcoffset() == timedelta(hours=-5)
    assert p.range("2026-01-01", "2026-01-02") == ["2026-01-01", "2026-01-02"]
    assert not p.contains("2026-01-04")  # its window ends after `end`
    assert not p.contains("2025-12-31")
    assert not p.contains("2026-1-2")
    assert not p.contains("x")


def test_hourly_keys_and_spring_forward_gap() -> None:
    p = TimeWindowPartitions("2026-03-29", "2026-03-30", cadence="hourly", timezone="Europe/Berlin")
    keys = p.keys()
    assert keys[:3] == ["2026-03-29-00:00", "2026-03-29-01:00", "2026-03-29-03:00"]
    assert len(keys) == 23  # 02:00 does not exist that day
    assert not p.contains("2026-03-29-02:00")
    start, end = p.window("2026-03-29-01:00")
    # (same-zone subtraction in Python is wall-clock; compare real elapsed time in UTC)
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=1)
    assert start.astimezone(UTC) == datetime(2026, 3, 29, 0, tzinfo=UTC)


def test_hourly_fall_back_hour_is_one_two_hour_window() -> None:
    p = TimeWindowPartitions("2026-10-25", "2026-10-26", cadence="hourly", timezone="Europe/Berlin")
    assert len(p.keys()) == 24
    start, end = p.window("2026-10-25-02:00")
    assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(hours=2)


def test_weekly_windows_start_on_the_start_weekday() -> None:
    p = TimeWindowPartitions("2026-01-05", "2026-02-03", cadence="weekly", timezone="Asia/Tokyo")
    assert p.keys() == ["2026-01-05", "2026-01-12", "2026-01-19", "2026-01-26"]
    assert not p.contains("2026-01-06")
    start, end = p.window("2026-01-12")
    assert (start, end - start) == (
        datetime(2026, 1, 12, tzinfo=ZoneInfo("Asia/Tokyo")),
        timedelta(days=7),
    )
    assert p.key_for(datetime(2026, 1, 18, 23, 59)) == "2026-01-12"
    assert p.key_for(datetime(2026, 1, 1)) is None


def test_monthly_windows_and_custom_format() -> None:
    p = TimeWindowPartitions(
        "2025-11", "2026-03", cadence="monthly", fmt="%Y-%m", timezone="Europe/Berlin"
    )
    assert p.keys() == ["2025-11", "2025-12", "2026-01", "2026-02"]
    start, end = p.window("2026-02")
    assert (start, end) == (
        datetime(2026, 2, 1, tzinfo=BERLIN),
        datetime(2026, 3, 1, tzinfo=BERLIN),
    )
    assert p.range("2025-12", "2026-02") == ["2025-12", "2026-01", "2026-02"]
    assert p.key_for(datetime(2026, 1, 31, 23, tzinfo=BERLIN)) == "2026-01"


def test_end_defaults_to_the_last_complete_window_before_now() -> None:
    now = datetime.now(UTC)
    p = TimeWindowPartitions("2026-01-01", cadence="hourly")
    last = p.keys()[-1]
    _start, end = p.window(last)
    assert end <= now < end + timedelta(hours=1) + timedelta(seconds=5)
    assert p.keys()[-1] == last or p.keys()[-1] > last  # extends as time passes, never shrinks
    today = now.strftime("%Y-%m-%d")
    assert not TimeWindowPartitions("2026-01-01").contains(today)  # today is not complete


def test_aware_datetimes_are_converted_to_the_timezone() -> None:
    p = TimeWindowPartitions(
        datetime(2025, 12, 31, 23, tzinfo=UTC), "2026-01-03", timezone="Europe/Berlin"
    )
    assert p.keys()[0] == "2026-01-01"  # 23:00 UTC is midnight in Berlin


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "2026-01-01T13:00"}, "daily partitions cannot start at 2026-01-01 13:00"),
        ({"start": "2026-01-15", "cadence": "monthly"}, "monthly partitions cannot start"),
        ({"start": "2026-01-01", "cadence": "yearly"}, "unknown partition cadence 'yearly'"),
        ({"start": "2026-01-01", "timezone": "Mars/Olympus"}, "unknown timezone 'Mars/Olympus'"),
        ({"start": "first of may"}, "partition start 'first of may' is neither"),
        ({"start": "2026-02-01", "end": "2026-01-01"}, "end"),
    ],
)
def test_invalid_time_windows(kwargs: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        TimeWindowPartitions(**kwargs)  # type: ignore[arg-type]


def test_validate_explains_the_key_format() -> None:
    p = TimeWindowPartitions("2026-01-01", "2026-01-03", cadence="daily")
    with pytest.raises(ConfigError, match="not a daily partition key") as info:
        p.validate("2026/01/01")
    assert info.value.hint
    assert "'2026-01-01' (format '%Y-%m-%d')" in info.value.hint
    assert "2026-01-01 ... 2026-01-02" in info.value.hint


def test_equality_and_hash() -> None:
    a = TimeWindowPartitions("2026-01-01", "2026-02-01", timezone="Europe/Berlin")
    assert a == TimeWindowPartitions("2026-01-01", "2026-02-01", timezone="Europe/Berlin")
    assert a != TimeWindowPartitions("2026-01-01", "2026-02-01")
    assert len({a, TimeWindowPartitions("2026-01-01", "2026-02-01", timezone="Europe/Berlin")}) == 1


# ------------------------------------------------------------------ mappings
DAYS = TimeWindowPartitions("2026-01-01", "2026-01-10", timezone="Europe/Berlin")
HOURS = TimeWindowPartitions("2026-01-01", "2026-01-10", cadence="hourly", timezone="Europe/Berlin")


def test_identity_mapping() -> None:
    assert IdentityMapping().upstream_keys("2026-01-03", DAYS, DAYS) == ["2026-01-03"]
    assert IdentityMapping().upstream_keys(None, None, StaticPartitions(["a", "b"])) == ["a", "b"]
    with pytest.raises(ConfigError, match="no partition 'x'") as info:
        IdentityMapping().upstream_keys("x", StaticPartitions(["x"]), StaticPartitions(["a"]))
    assert info.value.hint
    assert "TimeWindowMapping" in info.value.hint


def test_all_partitions_mapping() -> None:
    up = StaticPartitions(["a", "b"])
    assert AllPartitionsMapping().upstream_keys("2026-01-03", DAYS, up) == ["a", "b"]


def test_daily_downstream_reads_the_hours_of_its_day() -> None:
    hours = TimeWindowMapping().upstream_keys("2026-01-02", DAYS, HOURS)
    assert len(hours) == 24
    assert (hours[0], hours[-1]) == ("2026-01-02-00:00", "2026-01-02-23:00")


def test_daily_downstream_reads_the_previous_day() -> None:
    assert TimeWindowMapping(-1, -1).upstream_keys("2026-01-05", DAYS, DAYS) == ["2026-01-04"]
    prev_hours = TimeWindowMapping(-1, -1).upstream_keys("2026-01-05", DAYS, HOURS)
    assert (prev_hours[0], prev_hours[-1], len(prev_hours)) == (
        "2026-01-04-00:00",
        "2026-01-04-23:00",
        24,
    )
    # a trailing window: three days ending with this one
    assert TimeWindowMapping(-2, 0).upstream_keys("2026-01-05", DAYS, DAYS) == [
        "2026-01-03",
        "2026-01-04",
        "2026-01-05",
    ]
    # before the upstream starts there is nothing to read
    assert TimeWindowMapping(-1, -1).upstream_keys("2026-01-01", DAYS, DAYS) == []


def test_hourly_downstream_reads_the_day_containing_it() -> None:
    assert TimeWindowMapping().upstream_keys("2026-01-03-13:00", HOURS, DAYS) == ["2026-01-03"]


def test_time_window_mapping_needs_time_windows() -> None:
    with pytest.raises(ConfigError, match="time-window partitioned upstream"):
        TimeWindowMapping().upstream_keys("a", StaticPartitions(["a"]), StaticPartitions(["a"]))
    with pytest.raises(ConfigError, match="start_offset 1 is after end_offset 0"):
        TimeWindowMapping(1, 0)


def test_static_mapping() -> None:
    up = StaticPartitions(["de", "fr", "us"])
    m = StaticMapping({"emea": ["de", "fr"], "amer": "us"})
    assert m.upstream_keys("emea", StaticPartitions(["emea", "amer"]), up) == ["de", "fr"]
    assert m.upstream_keys("amer", None, up) == ["us"]
    assert m.upstream_keys(None, None, up) == ["de", "fr", "us"]
    with pytest.raises(ConfigError, match="no entry for downstream partition 'apac'"):
        m.upstream_keys("apac", None, up)
    with pytest.raises(ConfigError, match=r"do not exist: \['es'\]"):
        StaticMapping({"emea": ["es"]}).upstream_keys("emea", None, up)
    assert m == StaticMapping({"emea": ("de", "fr"), "amer": ["us"]})


# --------------------------------------------------------------------------- scope
def test_keys_at_gives_the_newest_complete_windows_at_a_moment() -> None:
    from catchment.partitions import TimeWindowPartitions

    daily = TimeWindowPartitions("2026-01-01", timezone="Europe/Berlin")
    noon = datetime(2026, 1, 5, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    assert daily.keys_at(noon, 1) == ["2026-01-04"]  # the 5th is not complete yet
    assert daily.keys_at(noon, 3) == ["2026-01-02", "2026-01-03", "2026-01-04"]
    assert daily.keys_at(noon) == ["2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"]
    assert daily.keys_at(datetime(2026, 1, 1, 5, tzinfo=UTC), 2) == []  # before the first ends
    ended = TimeWindowPartitions("2026-01-01", end="2026-01-03")
    assert ended.keys_at(noon, 5) == ["2026-01-01", "2026-01-02"]


def test_partition_scope_defaults_and_spellings() -> None:
    from catchment.partitions import (
        DynamicPartitions,
        PartitionScope,
        StaticPartitions,
        TimeWindowPartitions,
        as_partition_scope,
        default_scope,
    )

    assert as_partition_scope("latest") == PartitionScope(last=1)
    assert as_partition_scope("last 7") == as_partition_scope(7) == PartitionScope(last=7)
    assert as_partition_scope("all") == PartitionScope(last=None)
    assert [str(as_partition_scope(v)) for v in ("latest", "last 3", "all")] == [
        "latest",
        "last 3",
        "all",
    ]
    with pytest.raises(ConfigError, match="unknown partition scope 'recent'"):
        as_partition_scope("recent")
    with pytest.raises(ConfigError, match="positive number"):
        PartitionScope(last=0)
    assert default_scope(TimeWindowPartitions("2026-01-01")).last == 1
    assert default_scope(StaticPartitions(["a", "b"])).last is None
    assert default_scope(DynamicPartitions("customers")).last is None
    assert PartitionScope(last=2).keys(StaticPartitions(["a", "b", "c"]), datetime.now(UTC)) == [
        "b",
        "c",
    ]


def test_dynamic_partitions_know_only_the_keys_bound_from_the_store() -> None:
    from catchment.partitions import DynamicPartitions

    customers = DynamicPartitions("customers")
    with pytest.raises(ConfigError, match="catchment partitions add customers acme"):
        customers.validate("acme")
    customers.bind(["globex", "acme"])
    assert customers.keys() == ("globex", "acme")
    assert customers.validate("acme") == "acme"
    assert customers == DynamicPartitions("customers")
    assert hash(customers) == hash(DynamicPartitions("customers"))
    with pytest.raises(ConfigError, match="invalid dynamic partition set name"):
        DynamicPartitions("no spaces")

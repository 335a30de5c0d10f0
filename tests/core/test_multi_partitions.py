"""Time x static partitions (issue 25): keys, ranges, windows, scope, and a real run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from catchment import MultiPartitions, StaticPartitions, TimeWindowPartitions, asset, materialize
from catchment.context import StepContext
from catchment.errors import ConfigError
from catchment.execution.plan import build_plan
from catchment.graph import AssetGraph
from catchment.partitions import default_scope

DAYS = TimeWindowPartitions(start="2026-12-01", end="2026-12-04")
PARTS = MultiPartitions(DAYS, ["eu", "us"])


def test_keys_are_time_then_static() -> None:
    assert PARTS.keys()[:3] == ["2026-12-01|eu", "2026-12-01|us", "2026-12-02|eu"]
    assert len(PARTS.keys()) == 6
    assert PARTS.contains("2026-12-03|us")
    assert not PARTS.contains("2026-12-03")
    assert not PARTS.contains("2026-12-09|eu")
    with pytest.raises(ConfigError, match="static keys: eu, us"):
        PARTS.validate("2026-12-01|apac")


def test_ranges_window_and_static_part() -> None:
    assert PARTS.range("2026-12-02", "2026-12-03") == [
        "2026-12-02|eu",
        "2026-12-02|us",
        "2026-12-03|eu",
        "2026-12-03|us",
    ]
    assert PARTS.range("2026-12-02|us", "2026-12-03|us") == ["2026-12-02|us", "2026-12-03|us"]
    start, end = PARTS.window("2026-12-02|eu")
    assert (start.isoformat(), end.isoformat()) == (
        "2026-12-02T00:00:00+00:00",
        "2026-12-03T00:00:00+00:00",
    )
    assert PARTS.static_of("2026-12-02|eu") == "eu"
    assert MultiPartitions(DAYS, StaticPartitions(["eu", "us"])) == PARTS


def test_scope_is_the_latest_window_of_every_static_key() -> None:
    now = datetime(2026, 12, 3, 12, tzinfo=UTC)
    assert default_scope(PARTS).keys(PARTS, now) == ["2026-12-02|eu", "2026-12-02|us"]


def test_a_range_run_records_each_day_and_region() -> None:
    seen: list[tuple[str, ...]] = []

    @asset(partitions=PARTS)
    def sales(context: StepContext) -> dict[str, int]:
        seen.append(context.partition_keys)
        return {k: len(k) for k in context.partition_keys}

    graph = AssetGraph.build([sales])
    plan = build_plan(graph, partition="2026-12-01|us...2026-12-02|us")
    assert plan.partition_keys == ("2026-12-01|us", "2026-12-02|us")
    result = materialize([sales], partition="2026-12-02...2026-12-03")
    assert sorted(e.partition or "" for e in result.materializations) == [
        "2026-12-02|eu",
        "2026-12-02|us",
        "2026-12-03|eu",
        "2026-12-03|us",
    ]
    assert seen == [("2026-12-02|eu", "2026-12-02|us", "2026-12-03|eu", "2026-12-03|us")]

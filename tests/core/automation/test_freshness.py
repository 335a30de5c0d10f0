"""Freshness: maximum lag, cron deadlines, one check record per overdue episode, hooks."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from catchment import AssetKey, asset
from catchment.automation.freshness import evaluate_freshness, record_freshness
from catchment.automation.policy import FreshnessPolicy, as_freshness_policy, parse_duration
from catchment.errors import ConfigError
from catchment.events import Event, EventType
from catchment.graph import AssetGraph
from catchment.storage import Storage, open_storage

NOW = datetime(2026, 3, 4, 12, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Storage]:
    s = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    yield s
    s.close()


def _mat(store: Storage, key: str, at: datetime) -> None:
    store.append_events(
        [Event(run_id="r", type=EventType.MATERIALIZATION, asset_key=key, timestamp=at.timestamp())]
    )


def test_durations_and_policies_from_yaml_spellings() -> None:
    assert parse_duration("36h") == 36 * 3600
    assert parse_duration("1h30m") == 5400
    assert parse_duration(timedelta(days=2)) == 172800
    with pytest.raises(ConfigError, match="invalid duration '36 hours'"):
        parse_duration("36 hours")
    assert as_freshness_policy("6h") == FreshnessPolicy(max_lag=21600)
    policy = as_freshness_policy(
        {"cron": "0 9 * * *", "max_lag": "6h", "timezone": "Europe/Berlin"}
    )
    assert str(policy) == "max lag 6h, by each tick of '0 9 * * *' Europe/Berlin"
    with pytest.raises(ConfigError, match="unknown freshness field"):
        as_freshness_policy({"lag": "6h"})
    with pytest.raises(ConfigError, match="needs max_lag, cron or both"):
        as_freshness_policy({})
    with pytest.raises(ConfigError, match="invalid cron schedule"):
        as_freshness_policy({"cron": "0 9 * *"})


def test_maximum_lag(store: Storage) -> None:
    graph = AssetGraph.build(
        [
            asset(lambda: 1, key="old", freshness="36h"),
            asset(lambda: 1, key="new", freshness="36h"),
            asset(lambda: 1, key="never", freshness="36h"),
            asset(lambda: 1, key="free"),
        ]
    )
    _mat(store, "old", NOW - timedelta(hours=40))
    _mat(store, "new", NOW - timedelta(hours=2))
    result = evaluate_freshness(graph, store, NOW)
    assert {s.asset: s.overdue for s in result.statuses} == {
        "old": True,
        "new": False,
        "never": True,
    }
    old = next(s for s in result.statuses if s.asset == "old")
    assert old.reason.endswith("40.0h ago (max lag 1d12h)")
    assert result.queries == 2


def test_cron_deadline_with_and_without_a_lag(store: Storage) -> None:
    by_nine = FreshnessPolicy(cron="0 9 * * *")
    graph = AssetGraph.build(
        [
            asset(lambda: 1, key="daily", freshness=by_nine),
            asset(lambda: 1, key="tight", freshness={"cron": "0 9 * * *", "max_lag": "2h"}),
        ]
    )
    # landed yesterday at 08:00, before yesterday's 09:00: today's 09:00 deadline is missed
    _mat(store, "daily", NOW - timedelta(hours=28))
    _mat(store, "tight", NOW - timedelta(hours=6))  # 06:00 today: more than 2h before 09:00
    result = evaluate_freshness(graph, store, NOW)
    assert {s.asset: s.overdue for s in result.statuses} == {"daily": True, "tight": True}
    assert result.statuses[0].deadline == NOW.replace(hour=9).timestamp()
    early = evaluate_freshness(graph, store, NOW.replace(hour=8, minute=30))
    assert {s.asset: s.overdue for s in early.statuses} == {"daily": False, "tight": False}
    _mat(store, "daily", NOW - timedelta(hours=27))  # 09:00 yesterday counts for today
    assert not evaluate_freshness(graph, store, NOW).statuses[0].overdue


def test_one_failed_record_per_episode_then_a_passed_one_and_hooks_hear_both(
    store: Storage,
) -> None:
    graph = AssetGraph.build([asset(lambda: 1, key="orders", freshness="6h")])
    heard: list[tuple[str, bool]] = []

    class Hooks:
        def catchment_check_evaluated(self, run: Any, event: Event) -> None:
            heard.append((run.run_id, event.check.passed))

    _mat(store, "orders", NOW - timedelta(hours=7))
    first = evaluate_freshness(graph, store, NOW)
    assert [e.check.passed for e in first.events] == [False]
    record_freshness(store, first, run_id="tick-1", hooks=Hooks())
    again = evaluate_freshness(graph, store, NOW + timedelta(minutes=1))
    assert again.events == []  # still overdue: nothing new to record
    _mat(store, "orders", NOW + timedelta(minutes=2))
    recovered = evaluate_freshness(graph, store, NOW + timedelta(minutes=3))
    record_freshness(store, recovered, run_id="tick-2", hooks=Hooks())
    assert heard == [("tick-1", False), ("tick-2", True)]
    history = store.check_history(AssetKey("orders"), "freshness")
    assert [(c.passed, c.severity, c.run_id) for c in history] == [
        (True, "warn", "tick-2"),
        (False, "warn", "tick-1"),
    ]
    assert history[1].metadata["policy"] == "max lag 6h"

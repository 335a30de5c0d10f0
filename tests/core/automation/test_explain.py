"""Explaining a decision from a recorded evaluation alone, and evaluated now with details."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest
from catchment import AssetKey, asset
from catchment.automation.conditions import eager, on_missing
from catchment.automation.evaluator import evaluate, explain_now
from catchment.automation.explain import explain_result, latest_evaluation, render
from catchment.automation.result import EvaluationResult
from catchment.errors import CatchmentError
from catchment.events import Event, EventType
from catchment.graph import AssetGraph
from catchment.partitions import TimeWindowPartitions
from catchment.storage import open_storage

NOW = datetime(2026, 3, 2, 12, tzinfo=UTC)


def _graph() -> AssetGraph:
    daily = TimeWindowPartitions("2026-02-25")
    return AssetGraph.build(
        [
            asset(lambda: 1, key="up", automation=on_missing()),
            asset(lambda: 1, key="down", deps=["up"], automation=eager()),
            asset(
                lambda: 1, key="day", partitions=daily, partition_scope="last 2", automation=eager()
            ),
        ]
    )


def test_a_recorded_evaluation_explains_every_node_like_evaluating_now(tmp_path: Path) -> None:
    store = open_storage(f"sqlite:///{tmp_path / 'r.db'}")
    store.append_events(
        [Event(run_id="r", type=EventType.MATERIALIZATION, asset_key="day", partition="2026-02-28")]
    )
    graph = _graph()
    result = evaluate(graph, store, NOW)
    body = msgspec.json.decode(msgspec.json.encode(result.to_body()))  # as a tick stores it
    recorded = EvaluationResult.from_body(body)
    for key, part in (("down", None), ("up", None), ("day", "2026-02-28"), ("day", None)):
        then = explain_result(graph, recorded, AssetKey(key), part, tick_id=7)
        now = explain_now(graph, store, AssetKey(key), part, NOW)
        assert [(n.path, n.value) for n in then.nodes] == [(n.path, n.value) for n in now.nodes]
        assert then.requested == now.requested
    day = explain_result(graph, recorded, AssetKey("day"))
    assert day.partition == "2026-03-01"  # the newest in scope by default
    assert day.requested
    text = render(explain_result(graph, recorded, AssetKey("down"), tick_id=7))
    assert text.splitlines()[0].startswith(
        "down: requested (evaluated 2026-03-02 12:00:00 UTC, tick 7)"
    )
    assert "    ✓ all of (&)" in text
    detailed = render(explain_now(graph, store, AssetKey("down"), None, NOW))
    assert "✓ missing()  — never materialized" in detailed
    assert latest_evaluation(store) is None  # no daemon ticks in this store
    store.close()


def test_explain_refuses_partitions_out_of_scope_and_assets_without_conditions(
    tmp_path: Path,
) -> None:
    store = open_storage(f"sqlite:///{tmp_path / 'r.db'}")
    graph = AssetGraph.build([*list(_graph().definitions.values()), asset(lambda: 1, key="plain")])
    result = evaluate(graph, store, NOW)
    with pytest.raises(CatchmentError, match="was not in scope"):
        explain_result(graph, result, AssetKey("day"), "2026-02-25")
    with pytest.raises(CatchmentError, match="is not partitioned"):
        explain_result(graph, result, AssetKey("up"), "x")
    with pytest.raises(CatchmentError, match="has no automation condition"):
        explain_result(graph, result, AssetKey("plain"))
    store.close()


def test_the_latest_recorded_evaluation_is_read_from_the_daemon_s_ticks(tmp_path: Path) -> None:
    """The daemon keeps ``to_body()`` (plus its own keys) as each automation tick's body;
    ``latest_evaluation`` reads the newest one that has a state."""
    from types import SimpleNamespace

    store = open_storage(f"sqlite:///{tmp_path / 'r.db'}")
    graph = _graph()
    body = {**evaluate(graph, store, NOW).to_body(), "evaluation": 3, "requests": []}
    ticks = [
        SimpleNamespace(tick_id=9, body={}),  # a failed tick: no state
        SimpleNamespace(tick_id=8, body=msgspec.json.decode(msgspec.json.encode(body))),
    ]

    class WithTicks:
        def list_ticks(self, kind: str | None = None, limit: int = 50) -> list[object]:
            assert kind == "automation"
            return ticks[:limit]

    found = latest_evaluation(WithTicks())  # type: ignore[arg-type]
    assert found is not None
    tick_id, result = found
    assert tick_id == 8
    assert render(explain_result(graph, result, AssetKey("down"), tick_id=tick_id)).startswith(
        "down: requested (evaluated 2026-03-02 12:00:00 UTC, tick 8)"
    )
    store.close()


def test_a_chained_request_explains_which_upstream_asked_it(tmp_path: Path) -> None:
    """An eager chain asked in one evaluation: each downstream's explanation names the
    upstream requested with it, from the record and evaluated now alike."""
    store = open_storage(f"sqlite:///{tmp_path / 'r.db'}")
    graph = AssetGraph.build(
        [
            asset(lambda: 1, key="orders"),
            asset(lambda: 1, key="clean", deps=["orders"], automation=eager()),
            asset(lambda: 1, key="mart", deps=["clean"], automation=eager()),
        ]
    )
    for key in ("orders", "clean", "mart"):
        store.append_events([Event(run_id="r0", type=EventType.MATERIALIZATION, asset_key=key)])
    state = evaluate(graph, store, NOW).state
    store.append_events([Event(run_id="r1", type=EventType.MATERIALIZATION, asset_key="orders")])
    result = evaluate(graph, store, NOW, state)
    assert [r.asset_keys for r in result.run_requests] == [("clean", "mart")]
    then = explain_result(graph, result, AssetKey("mart"), tick_id=3)
    now = explain_now(graph, store, AssetKey("mart"), None, NOW, state)
    assert [(n.path, n.value) for n in then.nodes] == [(n.path, n.value) for n in now.nodes]
    recorded = render(then)
    assert "reason: upstream_will_be_requested(): clean requested in this evaluation" in recorded
    assert "        ✓ upstream_will_be_requested()  (an upstream is requested by this" in recorded
    detailed = render(now)
    assert "✓ upstream_will_be_requested()  — clean requested in this evaluation" in detailed
    assert "✗ upstream_newly_updated()  (an upstream got new data" in detailed
    store.close()

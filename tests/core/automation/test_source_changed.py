"""The ``source_changed()`` operand on a fake clock: an observed external source whose data
version changed since the asset was built requests a run, with the change as the reason."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
from catchment.automation.conditions import source_changed
from catchment.automation.evaluator import evaluate
from catchment.automation.result import AutomationState, EvaluationResult
from catchment.definitions import AssetsDefinition
from catchment.events import Event, EventType, MaterializationData
from catchment.execution.observe import load_history, record
from catchment.graph import AssetGraph
from catchment.keys import AssetKey
from catchment.observation import Observation
from catchment.specs import AssetSpec
from catchment.storage import open_storage
from catchment.tables import table

SRC = table("postgres", "orders", schema="public", database="app", location="db:5432")


def _graph() -> AssetGraph:
    spec = AssetSpec(key=AssetKey.parse("x"), reads=(SRC,), automation=source_changed())
    return AssetGraph.build([AssetsDefinition(name="x", specs=(spec,), compute=lambda c: None)])


def test_a_changed_source_requests_its_reader_once_rebuilt_it_rests(tmp_path: Path) -> None:
    graph = _graph()
    (source,) = graph.upstream(AssetKey.parse("x"))
    store = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    now = datetime(2026, 3, 1, tzinfo=UTC)
    state: AutomationState | None = None

    def observe(version: str) -> None:
        obs = Observation(exists=True, data_version=version, observed_at=now.timestamp())
        record(store, graph, {source: obs}, load_history(store))

    def build() -> None:
        store.append_events(
            [Event.of("r", EventType.MATERIALIZATION, MaterializationData(), asset_key="x")]
        )

    def tick() -> EvaluationResult:
        nonlocal now, state
        now += timedelta(minutes=1)
        result = evaluate(graph, store, now, state)
        state = AutomationState.from_body(
            msgspec.json.decode(msgspec.json.encode(result.to_body()))
        )
        return result

    observe("v1")
    build()
    assert tick().run_requests == []
    observe("v1")  # the same data: nothing recorded, nothing requested
    assert tick().run_requests == []
    observe("v2")
    result = tick()
    assert [r.asset_keys for r in result.run_requests] == [("x",)]
    assert "source changed: external/postgres/app/public/orders data version v1 -> v2" in str(
        result.to_body()
    )
    build()
    assert tick().run_requests == []
    store.close()

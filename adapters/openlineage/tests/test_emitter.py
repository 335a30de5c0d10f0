"""Events of in-process runs sent to a real HTTP receiver: START/COMPLETE/FAIL per asset, the
parent run, column lineage from SQL, and delivery that never fails or stalls a run."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import catchment_openlineage.hooks
import pytest
from catchment import AssetKey, MaterializeResult, asset
from catchment.plugins import PluginRegistry
from catchment.tables import table

from .conftest import Receiver, validate

WAREHOUSE = "/data/warehouse.duckdb"
ORDERS = table("duckdb", "raw_orders", location=WAREHOUSE)
REVENUE = table("duckdb", "revenue", location=WAREHOUSE)
SQL = "select customer_id, sum(amount) as revenue from warehouse.main.raw_orders group by 1"


@asset(table=ORDERS, metadata={"columns": {"customer_id": "int", "amount": "double"}})
def raw_orders() -> MaterializeResult:
    return MaterializeResult(key=AssetKey("raw_orders"), metadata={"rows": 3})


@asset(deps=["raw_orders"], table=REVENUE, metadata={"sql": SQL})
def revenue() -> MaterializeResult:
    return MaterializeResult(key=AssetKey("revenue"), metadata={"rows": 2})


@asset(deps=["revenue"])
def broken() -> None:
    raise RuntimeError("the report server is down")


def _hooks() -> Any:
    registry = PluginRegistry(strict=True, allow=())
    registry.add_plugin(catchment_openlineage.hooks, name="openlineage")
    return registry.hook


def _run(*defs: Any) -> Any:
    from catchment.execution.api import materialize

    return materialize(list(defs), hooks=_hooks(), raise_on_failure=False)


def _by_job(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in events:
        out.setdefault(e["job"]["name"], []).append(e["eventType"])
    return out


def test_every_asset_starts_and_completes_or_fails_and_each_event_is_valid(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", receiver.url)
    result = _run(raw_orders, revenue, broken)
    assert not result.success
    for event in receiver.events:
        validate(event)
    assert receiver.paths == ["/api/v1/lineage"] * len(receiver.events)
    project = Path.cwd().name  # the project folder names the parent job
    assert _by_job(receiver.events) == {
        project: ["START", "FAIL"],
        f"{project}.raw_orders": ["START", "COMPLETE"],
        f"{project}.revenue": ["START", "COMPLETE"],
        f"{project}.broken": ["START", "FAIL"],
    }
    parent = receiver.events[0]["run"]["runId"]
    assert parent.replace("-", "") == result.run_id
    complete = {
        e["job"]["name"].split(".")[-1]: e for e in receiver.events if e["eventType"] == "COMPLETE"
    }
    rev = complete["revenue"]
    assert rev["run"]["facets"]["parent"]["run"]["runId"] == parent
    assert [(i["namespace"], i["name"]) for i in rev["inputs"]] == [
        (f"duckdb://{WAREHOUSE}", "warehouse.main.raw_orders")
    ]
    (output,) = rev["outputs"]
    assert (output["namespace"], output["name"]) == (
        f"duckdb://{WAREHOUSE}",
        "warehouse.main.revenue",
    )
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 2
    assert [f["name"] for f in output["facets"]["schema"]["fields"]] == ["customer_id", "revenue"]
    fields = output["facets"]["columnLineage"]["fields"]
    assert fields["revenue"]["inputFields"][0] | {"transformations": None} == {
        "namespace": f"duckdb://{WAREHOUSE}",
        "name": "warehouse.main.raw_orders",
        "field": "amount",
        "transformations": None,
    }
    assert fields["revenue"]["inputFields"][0]["transformations"][0]["subtype"] == "AGGREGATION"
    assert rev["job"]["facets"]["sql"]["query"] == SQL
    orders = complete["raw_orders"]["outputs"][0]
    assert orders["facets"]["schema"]["fields"][1] == {
        "name": "amount",
        "type": "double",
        "fields": [],
    }
    fail = next(
        e
        for e in receiver.events
        if e["eventType"] == "FAIL" and e["job"]["name"].endswith("broken")
    )
    assert "the report server is down" in fail["run"]["facets"]["errorMessage"]["message"]


def test_nothing_is_sent_or_imported_when_openlineage_is_not_configured(
    receiver: Receiver,
) -> None:
    from catchment_openlineage import emitter

    before = len(emitter._ACTIVE)
    assert _run(raw_orders).success
    assert receiver.events == []
    assert len(emitter._ACTIVE) == before


def test_an_api_key_is_sent_as_bearer_and_never_logged(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("OPENLINEAGE_URL", receiver.url)
    monkeypatch.setenv("OPENLINEAGE_API_KEY", "sk-live-0123456789")
    receiver.mode = "error"
    with caplog.at_level(logging.DEBUG):
        assert _run(raw_orders, revenue).success
    warnings = [r for r in caplog.records if r.name == "catchment.openlineage" and r.levelno >= 30]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "could not deliver events" in warnings[0].getMessage()
    assert "sk-live-0123456789" not in caplog.text
    # the first event was tried 3 times (2 brief retries), the rest dropped while it is down
    assert receiver.attempts == 3
    receiver.mode = "ok"
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "prod")  # a new configuration: a new client
    assert _run(raw_orders).success
    assert receiver.headers[0]["Authorization"] == "Bearer sk-live-0123456789"
    assert {e["job"]["namespace"] for e in receiver.events} == {"prod"}


@pytest.mark.timeout(60)
def test_a_down_receiver_costs_a_run_little_and_logs_once(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    closed = Receiver()
    closed.close()  # the port is free again: connections are refused
    monkeypatch.setenv("OPENLINEAGE_URL", f"http://user:hunter22@{closed.url.split('//')[1]}")
    start = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="catchment.openlineage"):
        assert _run(raw_orders, revenue).success
    assert time.monotonic() - start < 5
    messages = [r.getMessage() for r in caplog.records if r.name == "catchment.openlineage"]
    assert len(messages) == 1, messages
    assert "hunter22" not in messages[0]
    assert "***@127.0.0.1" in messages[0]


@pytest.mark.timeout(60)
def test_a_slow_receiver_never_holds_a_run_longer_than_the_flush_timeout(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    slow = Receiver(mode="slow", delay=20)
    try:
        monkeypatch.setenv("OPENLINEAGE_URL", slow.url)
        monkeypatch.setenv("CATCHMENT_OPENLINEAGE_FLUSH_TIMEOUT", "1")
        start = time.monotonic()
        assert _run(raw_orders, revenue).success
        assert time.monotonic() - start < 4  # 1 s flush bound, not 20 s per event
    finally:
        slow.close()


def test_the_file_transport_from_openlineage_yml_in_the_project(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "events.jsonl"
    (tmp_path / "openlineage.yml").write_text(
        f"transport:\n  type: file\n  log_file_path: {out}\n  append: true\n"
    )
    assert _run(raw_orders).success
    lines = out.read_text().splitlines()
    assert len(lines) == 4  # parent START, asset START, asset COMPLETE, parent COMPLETE
    import json

    for line in lines:
        validate(json.loads(line))


def test_the_console_transport_from_the_clients_environment_variables(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import json

    monkeypatch.setenv("OPENLINEAGE__TRANSPORT__TYPE", "console")
    with caplog.at_level(logging.INFO, logger="openlineage.client.transport.console"):
        assert _run(raw_orders).success
    events = [
        json.loads(r.getMessage())
        for r in caplog.records
        if r.name == "openlineage.client.transport.console"
    ]
    assert [e["eventType"] for e in events] == ["START", "START", "COMPLETE", "COMPLETE"]
    for event in events:
        validate(event)

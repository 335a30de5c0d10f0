"""A run store written by catchment 0.1 (before events had payload structs) still reads, shows
and reconciles: fixtures/records_v0_1 was made by that version (see make_records.py there)."""

from __future__ import annotations

import shutil
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from catchment.cli.main import app
from catchment.events import PAYLOADS, Event, EventType
from catchment.execution.reconcile import reconcile
from catchment.project import load_project
from catchment.storage import Storage, open_storage
from typer.testing import CliRunner

FIXTURE = Path(__file__).parent / "fixtures" / "records_v0_1"
ACCESSORS = {
    EventType.RUN_STARTED: "run_started",
    EventType.RUN_FINISHED: "run_finished",
    EventType.STEP_STARTED: "step_started",
    EventType.STEP_FINISHED: "step_finished",
    EventType.STEP_FAILED: "failure",
    EventType.STEP_RETRY: "retry",
    EventType.MATERIALIZATION: "materialization",
    EventType.ASSET_FAILED: "failure",
    EventType.ASSET_SKIPPED: "skipped",
    EventType.CHECK_EVALUATED: "check",
    EventType.LOG: "log_line",
}


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The fixture project with the old run store in its default place, shown in UTC (the
    time zone its expected output was printed in)."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURE / "project", root)
    (root / ".catchment").mkdir()
    shutil.copyfile(FIXTURE / "records.db", root / ".catchment" / "runs.db")
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("CATCHMENT_ADAPTERS", "")
    time.tzset()
    yield root
    monkeypatch.undo()
    time.tzset()


@pytest.fixture
def store(project: Path) -> Iterator[Storage]:
    s = open_storage(f"sqlite:///{project / '.catchment' / 'runs.db'}")
    yield s
    s.close()


def _events(store: Storage) -> list[Event]:
    return [e for run in store.list_runs() for e in store.events_for_run(run.run_id)]


def _only(events: list[Event], type: EventType, key: str | None = None) -> Event:
    (found,) = [e for e in events if e.type is type and (key is None or e.asset_key == key)]
    return found


def test_every_old_event_reads_through_its_typed_accessor(store: Storage) -> None:
    events = _events(store)
    # every type of v0.1 is in there (asset_observed came later)
    assert set(Counter(e.type for e in events)) == set(EventType) - {EventType.ASSET_OBSERVED}
    for e in events:
        payload = getattr(e, ACCESSORS[e.type])
        assert isinstance(payload, PAYLOADS[e.type])
        assert payload.to_data().keys() >= {k for k, v in e.data.items() if v is not None}


def test_old_payloads_keep_their_values(store: Storage) -> None:
    events = _events(store)
    orders = _only(events, EventType.MATERIALIZATION, "orders").materialization
    assert orders.code_version == "v1"
    assert "duration" in orders.metadata
    assert orders.data_version
    total = _only(events, EventType.MATERIALIZATION, "total").materialization
    assert set(total.input_versions) == {"orders"}
    assert total.input_versions["orders"] == orders.data_version
    regions = _only(events, EventType.MATERIALIZATION, "regions")
    assert regions.partition == "a"

    broken = _only(events, EventType.ASSET_FAILED, "broken").failure
    assert (broken.error_class, broken.message) == ("CatchmentError", "the source is not there")
    assert (broken.where, broken.hint) == ("assets.py", "create the source")
    missing = _only(events, EventType.ASSET_FAILED, "pair/right").failure
    assert missing.error_class == "MissingResult"
    assert missing.hint is None
    assert _only(events, EventType.ASSET_SKIPPED).skipped.reason == "upstream broken failed"

    retry = _only(events, EventType.STEP_RETRY).retry
    assert (retry.attempt, retry.of, retry.error_class) == (1, 1, "RuntimeError")
    assert retry.message == "first attempt fails"

    checks = {e.check.check_name: e.check for e in events if e.type is EventType.CHECK_EVALUATED}
    assert checks["total_is_positive"].passed
    assert checks["total_is_positive"].severity == "error"
    small = checks["total_is_small"]
    assert (small.passed, small.severity) == (False, "warn")
    assert small.description == "the total is larger than 10"
    assert small.metadata == {"total": 60}

    assert _only(events, EventType.LOG).log_line.message == "loaded 3 orders"
    finished = {e.run_id: e.run_finished for e in events if e.type is EventType.RUN_FINISHED}
    assert finished["gone"].status == "abandoned"
    assert finished["gone"].reason is not None
    assert "is gone" in finished["gone"].reason
    failed_run = next(f for f in finished.values() if f.status == "failure")
    assert (failed_run.success, failed_run.failed, failed_run.skipped) == (4, 2, 1)
    steps = [e.step_started for e in events if e.type is EventType.STEP_STARTED]
    assert ["total:total_is_small"] in [s.check_ids for s in steps]


def test_runs_list_and_show_print_what_0_1_printed(project: Path, store: Storage) -> None:
    runner = CliRunner()
    listed = runner.invoke(app, ["runs", "list", "--project", str(project)])
    assert listed.exit_code == 0, listed.output
    assert listed.output == (FIXTURE / "expected" / "runs_list.txt").read_text()
    for run in store.list_runs():
        shown = runner.invoke(app, ["runs", "show", run.run_id, "--project", str(project)])
        assert shown.exit_code == 0, shown.output
        expected = (FIXTURE / "expected" / f"runs_show_{run.run_id}.txt").read_text()
        assert shown.output == expected


def test_plan_reconciles_the_old_records(project: Path, store: Storage) -> None:
    graph = load_project(project).require_graph()
    states = {str(s.key): s.state for s in reconcile(graph, store)}
    assert states == {
        "broken": "missing",
        "after_broken": "missing",
        "flaky": "fresh",
        "orders": "fresh",
        "pair/left": "fresh",
        "pair/right": "missing",
        "regions": "stale",
        "total": "fresh",
    }
    # the records alone (the fixture keeps no warehouse, so observing would find tables gone)
    planned = CliRunner().invoke(app, ["plan", "--no-observe", "--project", str(project)])
    assert planned.output == (FIXTURE / "expected" / "plan.txt").read_text()

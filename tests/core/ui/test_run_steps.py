"""The run page's step list reads each step's state from its events: running from its
``step_started`` until its end, skipped when it never started, and interrupted when the run
ended (or died) while it ran."""

from __future__ import annotations

import time
from pathlib import Path

from catchment.events import Event, EventType, SkippedData, StepStartedData
from catchment.storage import open_storage
from catchment.storage.base import RunRecord

from .conftest import write_project


def _timeline(root: Path, run_id: str) -> dict[str, dict[str, object]]:
    from catchment.ui import views
    from catchment.ui.state import UiState

    state = UiState(root)
    state.load()
    return {s["step"]: s for s in views.run(state, run_id)["timeline"]}


def test_running_skipped_and_interrupted_steps(tmp_path: Path) -> None:
    root = write_project(tmp_path / "demo")
    storage = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    try:
        storage.create_run(RunRecord(run_id="r1", asset_keys=("orders", "revenue", "report")))
        now = time.time()
        storage.append_events(
            [
                Event.of(
                    "r1",
                    EventType.STEP_STARTED,
                    StepStartedData(asset_keys=["orders"]),
                    step_key="orders",
                    timestamp=now - 2,
                ),
                Event.of(
                    "r1",
                    EventType.ASSET_SKIPPED,
                    SkippedData(reason="upstream orders failed"),
                    step_key="report",
                    asset_key="report",
                ),
            ]
        )
        steps = _timeline(root, "r1")
        assert steps["orders"]["status"] == "running"
        assert steps["report"]["status"] == "skipped"  # it never started: not "running"
        storage.update_run_status("r1", "failure")  # the run ended while orders ran
        steps = _timeline(root, "r1")
        assert steps["orders"]["status"] == "interrupted"
        assert steps["orders"]["end"]
    finally:
        storage.close()

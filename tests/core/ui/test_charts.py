"""The server-drawn SVG charts: a run's step timeline and an asset's materialization history
with row counts (the charts alone, then on the pages over a real record store)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import client_class, write_project

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _step(step: str, offset: float, width: float, status: str = "success") -> dict[str, Any]:
    return {
        "step": step,
        "offset_pct": offset,
        "width_pct": width,
        "status": status,
        "seconds": round(width / 10, 2),
        "start": "2026-01-01 00:00:00",
        "end": "2026-01-01 00:00:05",
    }


def test_gantt_places_each_step_on_the_run_time_axis() -> None:
    from catchment.ui.charts import LABEL_W, TRACK_W, gantt

    svg = str(gantt([_step("a", 0, 50), _step("<b>", 50, 50, "failure")], 10.0))
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg" id="gantt"')
    bars = re.findall(r'<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)"', svg)
    assert [(float(x), float(w)) for x, _, w in bars] == [
        (LABEL_W, TRACK_W / 2),
        (LABEL_W + TRACK_W / 2, TRACK_W / 2),
    ]
    assert bars[0][1] != bars[1][1]  # one row each
    assert 'class="step r-failure"' in svg
    assert "<b>" not in svg
    assert "&lt;b&gt;" in svg
    assert ">10 s</text>" in svg  # the axis ends at the run's span


def test_gantt_bounds_its_rows() -> None:
    from catchment.ui.charts import MAX_STEPS, gantt

    svg = str(gantt([_step(f"s{i}", 0, 1) for i in range(MAX_STEPS + 7)], 1.0))
    assert svg.count('<g class="step') == MAX_STEPS
    assert "… and 7 more steps" in svg


def test_history_bar_heights_follow_row_counts() -> None:
    from catchment.ui.charts import history

    points = [
        {"run_id": "r1", "at": "t1", "partition": None, "rows": 50},
        {"run_id": "r2", "at": "t2", "partition": "2024-01-01", "rows": 100},
        {"run_id": "r3", "at": "t3", "partition": None, "rows": None},
    ]
    svg = str(history(points))
    heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill', svg)]
    assert heights[1] == pytest.approx(2 * heights[0])
    assert heights[2] < heights[0]  # no row count: a stub
    assert 'href="/runs/r2"' in svg
    assert "100 rows, partition 2024-01-01" in svg
    assert "no row count" in svg


def test_gantt_labels_fit_left_of_the_bars() -> None:
    from catchment.ui.charts import LABEL_CHARS, gantt

    step = "publish/top_customers:five_customers"  # 36 characters: longer than the label column
    svg = str(gantt([_step(step, 0, 100)], 1.0))
    label = re.search(r'font-family="monospace">([^<]*)</text>', svg)
    assert label is not None
    assert len(label.group(1)) == LABEL_CHARS
    assert label.group(1) == "…" + step[1 - LABEL_CHARS :]  # the end, which tells steps apart
    assert f"<title>{step}: success" in svg  # the whole name stays in the tooltip


def test_history_without_row_counts_draws_no_row_scale() -> None:
    from catchment.ui.charts import history

    svg = str(history([{"run_id": "r1", "at": "t1", "partition": None, "rows": None}]))
    assert "no row count recorded by these materializations" in svg
    assert 'text-anchor="end" fill="#64748b">1</text>' not in svg  # no made-up scale of 1 row
    assert svg.count(">t1</text>") == 1  # one materialization: its time once


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The demo project whose store has a run of ``orders`` with two steps and three
    recorded materializations with row counts (recorded directly, as adapters would)."""
    from catchment.events import Event, EventType
    from catchment.storage import RunRecord, open_storage
    from catchment.storage.base import HOSTNAME
    from catchment.ui.app import create_app
    from catchment.ui.state import UiState

    root = write_project(tmp_path_factory.mktemp("charts") / "demo")
    (root / ".catchment").mkdir()
    storage = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    try:
        storage.create_run(RunRecord(run_id="run1", pid=os.getpid(), host=HOSTNAME))
        storage.append_events(
            [
                Event(run_id="run1", type=EventType.RUN_STARTED, timestamp=100.0),
                Event(run_id="run1", type=EventType.STEP_STARTED, step_key="orders", timestamp=100),
                Event(
                    run_id="run1",
                    type=EventType.STEP_FINISHED,
                    step_key="orders",
                    timestamp=104.0,
                    data={"status": "success", "duration": 4.0},
                ),
                Event(
                    run_id="run1", type=EventType.STEP_STARTED, step_key="revenue", timestamp=104
                ),
                Event(
                    run_id="run1",
                    type=EventType.STEP_FAILED,
                    step_key="revenue",
                    timestamp=108.0,
                    data={"message": "boom"},
                ),
            ]
            + [
                Event(
                    run_id="run1",
                    type=EventType.MATERIALIZATION,
                    asset_key="orders",
                    step_key="orders",
                    data={"metadata": {name: rows}},
                )
                for name, rows in (("rows", 10), ("row_count", 20), ("rows_affected", 40))
            ]
        )
        storage.update_run_status("run1", "failure")
    finally:
        storage.close()
    state = UiState(root)
    state.load()
    with client_class()(create_app(state, start=False)) as c:
        yield c


def test_asset_page_charts_its_materialization_history(client: Any) -> None:
    data = client.get("/api/assets/orders").json()
    assert [h["rows"] for h in data["history"]] == [10, 20, 40]  # oldest first
    assert {h["run_id"] for h in data["history"]} == {"run1"}
    html = client.get("/assets/orders").text
    assert 'id="history-chart"' in html
    assert "40 rows" in html
    empty = client.get("/assets/report").text
    assert "No materialization recorded." in empty


def test_run_page_draws_the_step_timeline(client: Any) -> None:
    html = client.get("/runs/run1").text
    svg = re.search(r'<svg[^>]*id="gantt".*?</svg>', html, re.S)
    assert svg is not None
    steps = re.findall(r'<g class="step r-(\w+)" data-step="(\w+)"', svg.group(0))
    assert steps == [("success", "orders"), ("failure", "revenue")]
    bars = re.findall(r'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', svg.group(0))
    (x1, w1), (x2, w2) = ((float(x), float(w)) for x, w in bars)
    assert x2 == pytest.approx(x1 + w1)  # revenue starts when orders ends
    assert w1 == pytest.approx(w2)  # both took 4 s

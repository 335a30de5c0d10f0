"""The asset page's automation evaluations: the daemon's automation ticks, recorded here by
the real evaluator and the daemon's own tick functions, read back per asset."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from .conftest import client_class, write_project

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

EAGER_ASSETS = """\
from catchment import asset
from catchment.automation.conditions import eager

@asset
def a():
    return 1

@asset(automation=eager())
def b(a):
    return a + 1
"""


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """Two automation evaluations of the eager asset ``b``: the first while ``a`` is missing
    (nothing requested), the second after ``a`` was materialized (``b`` requested)."""
    from catchment.daemon.evaluators import evaluate_conditions
    from catchment.daemon.loop import begin_tick, finish_tick
    from catchment.events import Event, EventType
    from catchment.storage import RunRecord
    from catchment.ui.app import create_app
    from catchment.ui.state import UiState

    root = write_project(tmp_path_factory.mktemp("evaluations") / "demo")
    (root / "assets.py").write_text(EAGER_ASSETS)
    state = UiState(root)
    state.load()
    graph, storage = state.require().graph, state.storage
    now = time.time() - 60
    saved: str | None = None
    for i in range(2):
        if i == 1:
            storage.create_run(RunRecord(run_id="cli-run", asset_keys=("a",)))
            storage.append_events(
                [Event(run_id="cli-run", type=EventType.MATERIALIZATION, asset_key="a")]
            )
            storage.update_run_status("cli-run", "success")
        tick = begin_tick(storage, "automation", "automation", now + i)
        evaluation = evaluate_conditions(graph, storage, now + i, saved)
        saved = evaluation.state
        status = "success" if evaluation.requests else "skipped"
        finish_tick(storage, tick, now + i, status, dict(evaluation.body))
    with client_class()(create_app(state, start=False)) as c:
        yield c


def test_asset_shows_its_last_evaluations_newest_first(client: Any) -> None:
    evaluations = client.get("/api/assets/b").json()["evaluations"]
    assert [e["status"] for e in evaluations] == ["success", "skipped"]
    newest, oldest = evaluations
    assert newest["requested"] == [""]  # unpartitioned
    assert newest["reasons"]
    assert oldest["requested"] == []
    assert newest["nodes"][0]["value"] is True  # the condition's root was true
    assert newest["nodes"][0]["depth"] == 0
    assert oldest["nodes"] == []  # the tree only for the newest


def test_asset_page_shows_decisions_and_the_condition_tree(client: Any) -> None:
    html = client.get("/assets/b").text
    assert 'id="evaluations"' in html
    assert ">requested<" in html
    assert "not requested" in html
    assert 'id="condition-tree"' in html


def test_an_asset_without_a_condition_reads_no_tick(client: Any) -> None:
    assert client.get("/api/assets/a").json()["evaluations"] == []
    assert 'id="evaluations"' not in client.get("/assets/a").text

"""`catchment ui` on a workspace: the merged graph from the projects' snapshots and the
shared run store's states, read only."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.ui.conftest import client_class
from tests.core.workspace.conftest import BUDGET_CODE, LEDGER_CODE, simple_workspace

pytestmark = pytest.mark.timeout(180)


def test_the_ui_shows_the_merged_graph_and_its_states_read_only(tmp_path: Path) -> None:
    pytest.importorskip("starlette")
    from catchment.ui.app import create_app
    from catchment.workspace.ui import WorkspaceUiState

    file = simple_workspace(
        tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE}
    )
    done = subprocess.run(
        [sys.executable, "-m", "catchment", "materialize", "-s", "ledger"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    state = WorkspaceUiState(file)
    state.load()
    assert state.status == "ready", state.error
    with client_class()(create_app(state, read_only=True, start=False)) as client:
        assets = client.get("/api/assets").json()
        text = str(assets)
        assert "ledger" in text
        assert "budget" in text
        page = client.get("/assets/budget")
        assert page.status_code == 200
        assert "ledger" in page.text  # its upstream, in the other project
        for path in ("/assets", "/graph", "/runs", "/automation", "/health", "/api/health"):
            assert client.get(path).status_code == 200, path
        assert client.get("/api/health").json()["project"] == "acme"
        refused = client.post("/actions/materialize", data={"select": "budget"})
        assert refused.status_code == 403
    states = state.asset_states().states
    assert states[next(k for k in states if str(k) == "ledger")] == "fresh"
    assert states[next(k for k in states if str(k) == "budget")] == "missing"
    state.stop()

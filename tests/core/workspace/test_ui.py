"""`catchment ui` on a workspace: the merged graph from the projects' snapshots and the
shared run store's states, read only."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

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


def _csrf(client: Any, asset: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get(f"/assets/{asset}").text)
    assert found
    return found.group(1)


def _until_ended(client: Any, run_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 120
    run = client.get(f"/api/runs/{run_id}").json()
    while run["status"] in ("queued", "starting", "started", "canceling"):
        assert time.monotonic() < deadline, run
        time.sleep(0.2)
        run = client.get(f"/api/runs/{run_id}").json()
    return run


def test_ui_actions_on_a_workspace_run_each_project_in_its_environment(tmp_path: Path) -> None:
    pytest.importorskip("starlette")
    from catchment.storage import open_storage
    from catchment.ui.app import create_app
    from catchment.workspace.ui import WorkspaceUiState

    file = simple_workspace(
        tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE}
    )
    state = WorkspaceUiState(file)
    state.load()
    assert state.status == "ready", state.error
    with client_class()(create_app(state, start=False)) as client:
        token = _csrf(client, "budget")
        done = client.post(
            "/actions/materialize",
            data={"select": "ledger", "csrf": token},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        first = done.headers["location"].rsplit("/", 1)[-1]
        assert _until_ended(client, first)["status"] == "success"
        applied = client.post("/actions/apply", data={"csrf": token}, follow_redirects=False)
        assert applied.status_code == 303, applied.text
        second = applied.headers["location"].rsplit("/", 1)[-1]
        assert _until_ended(client, second)["status"] == "success"
        retry = client.post(f"/actions/runs/{second}/retry", data={"csrf": token})
        assert retry.status_code == 409
        assert "has no asset left to run" in retry.text
    store = open_storage(f"sqlite:///{tmp_path / '.catchment' / 'runs.db'}")
    try:
        children = {
            r.tags["workspace_run"]: r for r in store.list_runs() if "workspace_run" in r.tags
        }
        assert children[first].tags["workspace_project"] == "finance"
        assert children[second].tags["workspace_project"] == "marketing"
        queued = {r.run_id: r.tags for r in store.list_runs() if "workspace_run" not in r.tags}
        assert (queued[first]["team"], queued[first]["project"]) == ("team-finance", "finance")
        assert queued[second]["team"] == "team-marketing"  # the UI's runs carry their team
        assert {str(k) for k in store.latest_materializations()} == {"ledger", "budget"}
    finally:
        store.close()
    state.stop()


SLOW_LEDGER = """\
import time
from pathlib import Path

from catchment import AssetKey, MaterializeResult, asset, file_table

HERE = Path(__file__).resolve().parent
LEDGER = HERE.parent / "shared" / "ledger.json"


@asset(table=file_table(LEDGER))
def ledger():
    (HERE / "began").touch()
    deadline = time.time() + 60
    while (HERE / "hold").exists() and time.time() < deadline:
        time.sleep(0.05)
    LEDGER.parent.mkdir(exist_ok=True)
    LEDGER.write_text("{}")
    return MaterializeResult(key=AssetKey("ledger"))
"""


def test_canceling_a_started_workspace_run_from_the_ui_stops_its_batch(tmp_path: Path) -> None:
    pytest.importorskip("starlette")
    from catchment.ui.app import create_app
    from catchment.workspace.ui import WorkspaceUiState

    file = simple_workspace(tmp_path, {"finance": SLOW_LEDGER, "marketing": BUDGET_CODE})
    (tmp_path / "finance" / "hold").touch()
    state = WorkspaceUiState(file)
    state.load()
    assert state.status == "ready", state.error
    with client_class()(create_app(state, start=False)) as client:
        token = _csrf(client, "budget")
        done = client.post(
            "/actions/materialize",
            data={"select": "+budget", "csrf": token},
            follow_redirects=False,
        )
        assert done.status_code == 303, done.text
        run_id = done.headers["location"].rsplit("/", 1)[-1]
        deadline = time.monotonic() + 60
        while not (tmp_path / "finance" / "began").exists():
            assert time.monotonic() < deadline, client.get(f"/api/runs/{run_id}").json()
            time.sleep(0.1)
        time.sleep(0.5)
        canceled = client.post(
            f"/actions/runs/{run_id}/cancel", data={"csrf": token}, follow_redirects=False
        )
        assert canceled.status_code == 303, canceled.text
        assert _until_ended(client, run_id)["status"] == "canceled"
        runs = client.get("/api/runs").json()
        rows = runs["runs"] if isinstance(runs, dict) else runs
        children = [r for r in rows if r.get("tags", {}).get("workspace_run") == run_id]
        assert [(c["tags"]["workspace_project"], c["status"]) for c in children] == [
            ("finance", "canceled")
        ]
        (tmp_path / "finance" / "hold").unlink()
        retried = client.post(
            f"/actions/runs/{run_id}/retry", data={"csrf": token}, follow_redirects=False
        )
        assert retried.status_code == 303, retried.text
        retry_id = retried.headers["location"].rsplit("/", 1)[-1]
        retry = _until_ended(client, retry_id)
        assert retry["status"] == "success"
        assert retry["parent_run_id"] == run_id
        assert sorted(retry["assets"]) == ["budget", "ledger"]  # nothing of it had materialized
    state.stop()

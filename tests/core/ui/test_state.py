"""What the UI process holds: the loading page until the project is loaded, a reload when
the project's files change (the old version serving meanwhile), and asset states that follow
the record store."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from catchment.ui.app import create_app
from catchment.ui.state import UiState

from .conftest import ASSETS, client_class, materialize, write_project


def _wait(condition: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_pages_show_the_loading_page_until_the_project_is_loaded(tmp_path: Path) -> None:
    state = UiState(write_project(tmp_path / "p"))
    with client_class()(create_app(state, start=False)) as c:
        page = c.get("/assets")
        assert page.status_code == 503
        assert "Loading the project" in page.text
        assert 'hx-trigger="every 1s"' in page.text
        assert c.get("/api/assets").status_code == 503
        assert c.get("/api/health").json()["status"] == "loading"
        state.load()
        assert c.get("/assets").status_code == 200


def test_a_project_that_does_not_load_is_shown_with_its_error(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "catchment.yaml").write_text("project: [not, a, mapping\n")
    state = UiState(root)
    state.load()
    assert state.status == "failed"
    with client_class()(create_app(state, start=False)) as c:
        page = c.get("/assets")
        assert page.status_code == 503
        assert "did not load" in page.text


@pytest.mark.timeout(60)
def test_the_project_is_reloaded_when_its_files_change(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p")
    state = UiState(root)
    state.start(watch=0.1)
    try:
        _wait(lambda: state.status == "ready")
        assert state.loaded is not None
        assert state.loaded.version == 1
        time.sleep(0.05)  # a new mtime
        (root / "assets.py").write_text(ASSETS + "\n@asset\ndef extra():\n    return 1\n")
        _wait(lambda: state.loaded is not None and state.loaded.version == 2)
        assert "extra" in {e.name for e in state.loaded.catalog.entries}
        (root / "assets.py").write_text("this is not python(\n")
        _wait(lambda: state.loaded is not None and state.loaded.version == 3)
        assert "component" in [p.kind for p in state.loaded.project.problems]
        (root / "catchment.yaml").write_text("project: [not, a, mapping\n")
        _wait(lambda: state.error)  # a child process tries first (the snapshot's rebuild)
        assert state.loaded.version == 3  # an unreadable file: the last version serves
        assert state.status == "ready"
    finally:
        state.stop()


def test_asset_states_follow_the_record_store(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p")
    state = UiState(root)
    state.load()
    try:
        assert state.asset_states().states[next(iter(state.loaded.graph.specs))] == "missing"
        materialize(root, "orders")

        def names() -> dict[str, str]:
            return {k.to_string(): v for k, v in state.asset_states().states.items()}

        # at once when the last reconciliation was quick; on a loaded machine (over
        # SYNC_STATES_SECONDS) in the background, while pages get the previous states
        _wait(lambda: names()["orders"] == "fresh")
        assert names()["revenue"] == "missing"
    finally:
        state.stop()


def test_a_warm_snapshot_serves_every_page_without_importing_the_projects_code(
    tmp_path: Path,
) -> None:
    """The UI reads the definitions snapshot: with it warm, its pages (graph, catalog, an
    asset, runs, automation with the schedules, health with the adapters) import neither the
    project's modules nor the loader (checked in a fresh interpreter's modules)."""
    import json
    import subprocess
    import sys
    import textwrap

    from catchment.snapshot import load_read_only

    root = write_project(tmp_path / "p")
    materialize(root, "orders")
    load_read_only(root)  # warm
    code = textwrap.dedent(
        f"""
        import json, sys, warnings
        warnings.simplefilter("ignore", DeprecationWarning)
        from starlette.testclient import TestClient
        from catchment.ui.app import create_app
        from catchment.ui.state import UiState
        state = UiState({str(root)!r})
        state.load()
        pages = ["/assets", "/graph", "/assets/orders", "/runs", "/automation", "/health",
                 "/api/automation", "/api/health"]
        with TestClient(create_app(state, start=False)) as c:
            got = {{p: c.get(p) for p in pages}}
        print(json.dumps({{
            "status": {{p: r.status_code for p, r in got.items()}},
            "schedules": [s["name"] for s in got["/api/automation"].json()["schedules"]],
            "adapters": [a["name"] for a in got["/api/health"].json()["adapters"]],
            "from_snapshot": state.loaded.project.from_snapshot,
            "imported": [m for m in ("assets", "catchment.project.loader") if m in sys.modules],
        }}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    seen = json.loads(out.stdout)
    assert set(seen["status"].values()) == {200}, seen["status"]
    assert seen["schedules"] == ["nightly_orders"]
    assert "builtin" in seen["adapters"]
    assert seen["from_snapshot"] is True
    assert seen["imported"] == []

"""The UI's *Apply*: one queued run of the missing and stale assets of a selection (the daemon's
queue starts it when a daemon is live, else a detached process), nothing when all is fresh,
refused in read-only mode, without the CSRF token, and when several ordered runs are needed."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest

from .conftest import client_class, materialize, write_project

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _app(root: Path, **options: Any) -> Any:
    from catchment.ui.app import create_app
    from catchment.ui.state import UiState

    state = UiState(root)
    state.load()
    return create_app(state, start=False, **options)


def _csrf(c: Any, select: str = "") -> str:
    html = c.get("/graph", params={"select": select} if select else None).text
    assert 'id="apply"' in html
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def _live_daemon(root: Path) -> Any:
    from catchment.daemon.lease import DAEMON_LEASE
    from catchment.storage import open_storage

    storage = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    assert storage.acquire_lease(DAEMON_LEASE, "daemon-elsewhere", time.time(), 300)
    return storage


def test_apply_queues_only_what_is_missing_or_stale(tmp_path: Path) -> None:
    """``orders`` is fresh, ``revenue`` and ``report`` missing: the run is of those two."""
    from catchment.runs.launch import run_log_path

    root = write_project(tmp_path / "p")
    materialize(root, "orders")
    with client_class()(_app(root)) as c:
        storage = _live_daemon(root)
        try:
            r = c.post(
                "/actions/apply",
                data={"select": "*", "csrf": _csrf(c, "*")},
                follow_redirects=False,
            )
            assert r.status_code == 303, r.text
            run_id = r.headers["location"].rsplit("/", 1)[-1]
            run = c.get(f"/api/runs/{run_id}").json()
            assert run["status"] == "queued"
            assert run["assets"] == ["report", "revenue"]
            assert run["tags"]["origin"] == "ui"
            assert run["tags"]["trigger"] == "apply"
            assert not run_log_path(root, run_id).exists()  # the daemon's queue starts it
            assert [e.run_id for e in storage.queue_entries()] == [run_id]
        finally:
            storage.close()


def test_apply_with_everything_fresh_does_nothing(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p")
    materialize(root, "orders")
    with client_class()(_app(root)) as c:
        r = c.post("/actions/apply", data={"select": "orders", "csrf": _csrf(c, "orders")})
        assert r.status_code == 200
        assert "is fresh: nothing to do" in r.text
        assert len(c.get("/api/runs").json()["runs"]) == 1  # the materialize only


def test_apply_refuses_when_ordered_runs_are_needed(tmp_path: Path) -> None:
    """A partitioned asset's missing partitions and its unpartitioned downstream need two
    runs, one after the other: refused with the command that does it."""
    root = write_project(tmp_path / "p")
    (root / "assets.py").write_text(
        "from catchment import asset, StaticPartitions\n\n"
        "@asset\ndef orders():\n    return 1\n\n"
        "@asset(partitions=StaticPartitions(['x', 'y']))\n"
        "def p(context):\n    return dict.fromkeys(context.partition_keys, 2)\n\n"
        "@asset\ndef z(p):\n    return sum(p.values())\n"
    )
    with client_class()(_app(root)) as c:
        r = c.post("/actions/apply", data={"select": "", "csrf": _csrf(c)})
        assert r.status_code == 409
        assert "need 3 runs" in r.text  # orders and p, then z
        assert "catchment apply" in r.text
        assert c.get("/api/runs").json()["runs"] == []


def test_apply_needs_csrf_and_a_writable_ui(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p")
    with client_class()(_app(root)) as c:
        _csrf(c)
        assert c.post("/actions/apply", data={"select": "", "csrf": "forged"}).status_code == 403
    with client_class()(_app(root, read_only=True)) as c:
        assert 'id="apply"' not in c.get("/graph").text
        assert c.post("/actions/apply", data={"csrf": "x"}).status_code == 403
        assert c.get("/api/runs").json()["runs"] == []


def test_apply_rejects_a_bad_selection(tmp_path: Path) -> None:
    with client_class()(_app(write_project(tmp_path / "p"))) as c:
        r = c.post("/actions/apply", data={"select": "nope", "csrf": _csrf(c)})
        assert r.status_code == 400
        assert "select=&#39;nope&#39;" in r.text  # escaped on the page


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_apply_without_a_daemon_launches_a_run_that_ends_green(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p")
    with client_class()(_app(root)) as c:
        r = c.post(
            "/actions/apply", data={"select": "+revenue", "csrf": _csrf(c)}, follow_redirects=False
        )
        assert r.status_code == 303
        run_id = r.headers["location"].rsplit("/", 1)[-1]
        deadline = time.time() + 150
        run = c.get(f"/api/runs/{run_id}").json()
        while run["status"] in ("queued", "started") and time.time() < deadline:
            time.sleep(0.5)
            run = c.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "success", run
        assert run["assets"] == ["orders", "revenue"]
        assert c.get("/api/assets/revenue").json()["state"] == "fresh"


@pytest.mark.parametrize("status", ["queued", "starting", "started", "canceling"])
def test_a_run_that_has_not_ended_cannot_be_retried(tmp_path: Path, status: str) -> None:
    from typing import cast

    from catchment.runs.launch import Launcher
    from catchment.storage import RunRecord, open_storage
    from catchment.storage.base import RunStatus
    from catchment.ui.actions import retry_from_failure
    from catchment.ui.params import BadRequest

    storage = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    storage.create_run(RunRecord(run_id="going", status=cast("RunStatus", status)))
    try:
        with pytest.raises(BadRequest, match=f"is {status}: retry it once it has ended"):
            retry_from_failure(storage, cast("Launcher", None), "going")
    finally:
        storage.close()

"""The UI's guards: the token on a non-loopback server, CSRF on actions, read-only mode,
and the one action (materialize) queuing and launching a real run that ends green."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from catchment.ui.security import CSRF_COOKIE, is_loopback

from .conftest import client_class, write_project


def _app(root: Path, **options: Any) -> Any:
    from catchment.ui.app import create_app
    from catchment.ui.state import UiState

    state = UiState(root)
    state.load()
    return create_app(state, start=False, **options)


def test_loopback_addresses() -> None:
    assert is_loopback("127.0.0.1")
    assert is_loopback("::1")
    assert is_loopback("localhost")
    assert not is_loopback("0.0.0.0")
    assert not is_loopback("192.168.1.5")


def test_token_is_required_on_every_request_and_a_link_sets_the_cookie(tmp_path: Path) -> None:
    app = _app(write_project(tmp_path / "p"), token="t0ken-long-enough")
    with client_class()(app) as c:
        assert c.get("/api/health").status_code == 401
        assert c.get("/assets", headers={"Authorization": "Bearer wrong"}).status_code == 401
        ok = c.get("/api/health", headers={"Authorization": "Bearer t0ken-long-enough"})
        assert ok.status_code == 200
        first = c.get("/assets?token=t0ken-long-enough")
        assert first.status_code == 200
        assert c.get("/api/health").status_code == 200  # the cookie carries it now


def _csrf(c: Any, asset: str = "orders") -> str:
    html = c.get(f"/assets/{asset}").text
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found
    return found.group(1)


def test_materialize_needs_the_csrf_token(tmp_path: Path) -> None:
    with client_class()(_app(write_project(tmp_path / "p"))) as c:
        token = _csrf(c)
        assert c.cookies.get(CSRF_COOKIE) == token
        bad = c.post("/actions/materialize", data={"select": "orders", "csrf": "forged"})
        assert bad.status_code == 403
        assert "CSRF" in bad.text
        cross = c.post(
            "/actions/materialize",
            data={"select": "orders", "csrf": token},
            headers={"Origin": "http://evil.example"},
        )
        assert cross.status_code == 403
        assert c.get("/api/runs").json()["runs"] == []


def test_materialize_rejects_a_bad_selection_with_400(tmp_path: Path) -> None:
    with client_class()(_app(write_project(tmp_path / "p"))) as c:
        token = _csrf(c)
        r = c.post("/actions/materialize", data={"select": "nope", "csrf": token})
        assert r.status_code == 400
        assert "select=" in r.text


def test_read_only_refuses_actions_and_hides_the_button(tmp_path: Path) -> None:
    with client_class()(_app(write_project(tmp_path / "p"), read_only=True)) as c:
        html = c.get("/assets/orders").text
        assert 'id="materialize"' not in html
        assert "read-only" in html
        r = c.post("/actions/materialize", data={"select": "orders", "csrf": "x"})
        assert r.status_code == 403


def test_with_a_live_daemon_a_ui_run_waits_in_its_queue_and_can_be_canceled(
    tmp_path: Path,
) -> None:
    """The daemon's queue starts it under the limits: the UI launches no process itself; a
    queued run is canceled in the record store."""
    from catchment.daemon.lease import DAEMON_LEASE
    from catchment.runs.launch import run_log_path
    from catchment.storage import open_storage

    root = write_project(tmp_path / "p")
    with client_class()(_app(root)) as c:
        storage = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
        assert storage.acquire_lease(DAEMON_LEASE, "daemon-elsewhere", time.time(), 300)
        r = c.post(
            "/actions/materialize",
            data={"select": "orders", "csrf": _csrf(c)},
            follow_redirects=False,
        )
        assert r.status_code == 303
        run_id = r.headers["location"].rsplit("/", 1)[-1]
        run = c.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "queued"
        assert run["tags"]["origin"] == "ui"
        assert not run_log_path(root, run_id).exists()  # no process was launched for it
        assert [e.run_id for e in storage.queue_entries()] == [run_id]
        page = c.get(f"/runs/{run_id}").text
        assert 'id="cancel"' in page  # a queued run can be canceled from its page
        r = c.post(
            f"/actions/runs/{run_id}/cancel", data={"csrf": _csrf(c)}, follow_redirects=False
        )
        assert r.status_code == 303
        assert c.get(f"/api/runs/{run_id}").json()["status"] == "canceled"
        assert storage.queue_entries() == []  # the daemon will never start it
        storage.close()


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_materialize_from_the_ui_queues_and_launches_a_run_that_ends_green(tmp_path: Path) -> None:
    """A real detached `catchment runs execute` process runs it (it would outlive the UI)."""
    root = write_project(tmp_path / "p")
    with client_class()(_app(root)) as c:
        token = _csrf(c)
        r = c.post(
            "/actions/materialize",
            data={"select": "+revenue", "csrf": token},
            follow_redirects=False,
        )
        assert r.status_code == 303
        run_id = r.headers["location"].rsplit("/", 1)[-1]
        run = c.get(f"/api/runs/{run_id}").json()
        assert run["tags"]["origin"] == "ui"
        deadline = time.time() + 150
        while run["status"] in ("queued", "started") and time.time() < deadline:
            time.sleep(0.5)
            run = c.get(f"/api/runs/{run_id}").json()
        assert run["status"] == "success", run
        assert c.get("/api/assets/revenue").json()["state"] == "fresh"


SLOW_ASSETS = """\
import time
from pathlib import Path
from catchment import asset

HOLD = Path(__file__).with_name("hold")

@asset
def first():
    return 1

@asset
def slow(first):
    deadline = time.time() + 120
    while HOLD.exists() and time.time() < deadline:
        time.sleep(0.1)
    return first
"""


def _until(c: Any, run_id: str, done: Any, deadline: float) -> dict[str, Any]:
    run = c.get(f"/api/runs/{run_id}").json()
    while not done(run):
        assert time.time() < deadline, [(e["type"], e["step"], e["message"]) for e in run["events"]]
        time.sleep(0.3)
        run = c.get(f"/api/runs/{run_id}").json()
    return run


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_cancel_then_retry_from_failure_from_the_ui(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p")
    (root / "assets.py").write_text(SLOW_ASSETS)
    (root / "hold").touch()
    deadline = time.time() + 150
    with client_class()(_app(root)) as c:
        token = _csrf(c, "first")
        r = c.post(
            "/actions/materialize", data={"select": "+slow", "csrf": token}, follow_redirects=False
        )
        run_id = r.headers["location"].rsplit("/", 1)[-1]
        # (a queued run is canceled at once: test_with_a_live_daemon_a_ui_run_waits_...)
        # the engine writes a step's start with its end, so wait for the step before `slow`
        _until(
            c,
            run_id,
            lambda run: any(
                e["type"] == "step_finished" and e["step"] == "first" for e in run["events"]
            ),
            deadline,
        )
        time.sleep(1.0)  # `slow` is waiting now
        assert 'id="cancel"' in c.get(f"/runs/{run_id}").text
        busy = c.post(f"/actions/runs/{run_id}/retry", data={"csrf": token})
        assert busy.status_code == 409
        forged = c.post(f"/actions/runs/{run_id}/cancel", data={"csrf": "forged"})
        assert forged.status_code == 403
        done = c.post(
            f"/actions/runs/{run_id}/cancel", data={"csrf": token}, follow_redirects=False
        )
        assert done.status_code == 303
        run = _until(c, run_id, lambda run: run["status"] != "started", deadline)
        assert run["status"] == "canceled"
        assert c.get("/api/assets/first").json()["state"] == "fresh"  # built before: kept
        again = c.post(f"/actions/runs/{run_id}/cancel", data={"csrf": token})
        assert again.status_code == 409
        assert "only a started run can be canceled" in again.text
        assert 'id="retry"' in c.get(f"/runs/{run_id}").text

        (root / "hold").unlink()
        retried = c.post(
            f"/actions/runs/{run_id}/retry", data={"csrf": token}, follow_redirects=False
        )
        assert retried.status_code == 303
        child_id = retried.headers["location"].rsplit("/", 1)[-1]
        child = _until(
            c, child_id, lambda run: run["status"] not in ("queued", "started"), deadline
        )
        assert child["status"] == "success"
        assert child["parent_run_id"] == run_id
        assert child["assets"] == ["slow"]  # only what the canceled run left to do
        assert child["tags"]["retry_of"] == run_id

"""One liveness check of the daemon (``daemon.lease.daemon_lease``): the automation page's
"running" and the decision to give a queued run a process of its own agree, up to the
instant the lease lapses."""

from __future__ import annotations

import time
from pathlib import Path

from catchment.daemon.lease import DAEMON_LEASE, daemon_lease
from catchment.storage import open_storage

from .conftest import write_project


def test_a_daemon_is_live_until_its_lease_lapses(tmp_path: Path) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    try:
        assert daemon_lease(storage, 100.0) == (None, False)  # no daemon ever ran
        assert storage.acquire_lease(DAEMON_LEASE, "host:1", 100.0, 30.0)
        lease, live = daemon_lease(storage, 129.9)
        assert lease is not None
        assert (lease.holder, live) == ("host:1", True)
        assert daemon_lease(storage, 130.0)[1] is False  # lapsed at its expiry
    finally:
        storage.close()


def test_the_automation_page_reports_a_lapsed_daemon_as_not_running(tmp_path: Path) -> None:
    from catchment.ui import views
    from catchment.ui.state import UiState

    root = write_project(tmp_path / "p")
    state = UiState(root)
    state.load()
    storage = state.storage
    assert storage.acquire_lease(DAEMON_LEASE, "host:1", time.time() - 60, 30.0)
    daemon = views.automation(state, {})["daemon"]
    assert (daemon["holder"], daemon["alive"]) == ("host:1", False)
    assert daemon_lease(storage)[1] is False  # what the run submission reads
    assert storage.acquire_lease(DAEMON_LEASE, "host:2", time.time(), 30.0)
    assert views.automation(state, {})["daemon"]["alive"] is True
    assert daemon_lease(storage)[1] is True

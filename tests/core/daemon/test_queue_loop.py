"""The queue coordinator: fairness counted in launches on a fake clock, relaunch of runs whose
launch was lost, recorded reasons, and a real daemon killed with SIGKILL mid-queue."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catchment.daemon.clock import FakeClock
from catchment.daemon.queue_loop import QueueCoordinator
from catchment.events import EventType
from catchment.runs.request import RunRequest
from catchment.runs.submit import submit_run
from catchment.storage import Storage, open_storage
from catchment.storage.base import HOSTNAME
from catchment.storage.queue import QueueLimits, TagLimit

from tests.core.daemon.conftest import T0, RecordingLauncher


def _finish(store: Storage, run_ids: list[str], now: float) -> None:
    """Each launched run's process claims it and ends it (what `runs execute` records)."""
    for run_id in run_ids:
        assert store.claim_run(run_id, os.getpid(), HOSTNAME, now)
        store.update_run_status(run_id, "success")


def test_a_backfill_cannot_starve_another_teams_hourly_runs(tmp_path: Path) -> None:
    """200 backfill runs of team a (priority -10) are queued first; team b's hourly run
    arrives every hour. Counted launches: every hourly run starts in the step it is queued,
    and the backfill still gets the rest of the slots."""
    store = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    clock = FakeClock(T0)
    launcher = RecordingLauncher()
    limits = QueueLimits(
        max_concurrent_runs=4, tag_limits=(TagLimit(key="team", value="a", limit=3),)
    )
    queue = QueueCoordinator(store, launcher, limits)
    for i in range(200):
        request = RunRequest(
            asset_keys=("x",), tags={"team": "a"}, priority=-10, origin="backfill:b1"
        )
        submit_run(store, request, now=clock.now() + i * 1e-3)
    hourly_waits = []
    for _ in range(24):
        clock.advance(3600)
        hourly = submit_run(
            store,
            RunRequest(asset_keys=("y",), tags={"team": "b"}, origin="schedule:hourly"),
            now=clock.now(),
        )
        launched_before = len(launcher.launched)
        queue.step(clock.now())
        new = launcher.launched[launched_before:]
        hourly_waits.append(hourly.run_id in new)
        # the backfill holds at most its 3 slots; hourly always finds the 4th
        running = [r for r in store.list_runs(limit=500) if r.status == "starting"]
        assert sum(r.tags["team"] == "a" for r in running) <= 3
        assert len(running) <= 4
        _finish(store, new, clock.now())
    assert all(hourly_waits), hourly_waits
    launched_a = [r for r in store.list_runs(limit=500) if r.tags.get("team") == "a"]
    assert sum(r.status == "success" for r in launched_a) == 3 * 24  # the backfill progressed
    store.close()


def test_priority_order_holds_and_every_decision_is_recorded_with_its_reason(
    tmp_path: Path,
) -> None:
    store = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    launcher = RecordingLauncher()
    queue = QueueCoordinator(store, launcher, QueueLimits(max_concurrent_runs=1))
    ids = {
        p: submit_run(store, RunRequest(asset_keys=("x",), priority=p), now=T0 + i).run_id
        for i, p in enumerate([0, -5, 10, 3])
    }
    order = []
    for step in range(4):
        queue.step(T0 + 10 + step)
        order.append(launcher.launched[-1])
        _finish(store, [launcher.launched[-1]], T0 + 10 + step)
    assert order == [ids[10], ids[3], ids[0], ids[-5]]
    first = store.list_ticks(kind="queue")[-1]
    decisions = {d["run_id"]: d for d in first.body["decisions"]}
    assert decisions[ids[10]]["action"] == "start"
    assert decisions[ids[10]]["reason"].startswith("priority 10, waited 8.0 s; runs 1/1")
    assert decisions[ids[0]] == {
        "run_id": ids[0],
        "action": "wait",
        "reason": "max concurrent runs reached: 1/1",
    }
    assert queue.step(T0 + 20) == []  # nothing changed: no tick
    store.close()


def test_a_run_whose_launch_was_lost_is_launched_again_after_the_timeout(tmp_path: Path) -> None:
    store = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    launcher = RecordingLauncher()
    queue = QueueCoordinator(store, launcher, starting_timeout=60)
    run_id = submit_run(store, RunRequest(asset_keys=("x",)), now=T0).run_id
    queue.step(T0)
    assert launcher.launched == [run_id]
    queue.step(T0 + 59)
    assert launcher.launched == [run_id]  # its process may still be starting
    (tick,) = queue.step(T0 + 61)
    assert launcher.launched == [run_id, run_id]
    assert tick.body["decisions"][0]["action"] == "relaunch"
    # the claim lets only one of the two processes run it
    assert store.claim_run(run_id, os.getpid(), HOSTNAME, T0 + 62)
    assert not store.claim_run(run_id, os.getpid() + 1, HOSTNAME, T0 + 62)
    queue.step(T0 + 200)
    assert launcher.launched == [run_id, run_id]  # claimed: never relaunched
    store.close()


# -- a real daemon, real runs, SIGKILL -------------------------------------------------------

SLOW_ASSETS = """\
import time
from catchment import asset

@asset
def slow():
    time.sleep(1.0)
    return 1
"""

PROJECT = """\
project:
  name: queued
queue:
  max_concurrent_runs: 1
components:
  - type: python
    name: core
    attributes:
      module: assets.py
io_managers:
  default:
    type: filesystem
    config:
      base_dir: values
"""


def _daemon(root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "catchment", "daemon", "-p", str(root), "--lease-ttl", "2s"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_daemon_killed_mid_queue_launches_no_run_twice_and_keeps_the_limit(
    tmp_path: Path,
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "catchment.yaml").write_text(PROJECT)
    (root / "assets.py").write_text(SLOW_ASSETS)
    store = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    ids = [
        submit_run(store, RunRequest(asset_keys=("slow",), origin="cli")).run_id for _ in range(4)
    ]
    daemon = _daemon(root)
    try:
        deadline = time.monotonic() + 60
        while not any(r.status == "started" for r in store.list_runs()):
            assert time.monotonic() < deadline, "no run started"
            time.sleep(0.05)
        os.killpg(daemon.pid, signal.SIGKILL)  # the daemon, not the runs it launched
        daemon.wait()
        daemon = _daemon(root)
        deadline = time.monotonic() + 150
        ended = ("success", "failure", "canceled", "abandoned")
        while any(r.status not in ended for r in store.list_runs()):
            assert time.monotonic() < deadline, [(r.run_id, r.status) for r in store.list_runs()]
            time.sleep(0.2)
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        daemon.wait(30)
    assert {r.status for r in store.list_runs()} == {"success"}
    spans = []
    for run_id in ids:
        started = store.events_for_run(run_id, [EventType.RUN_STARTED])
        finished = store.events_for_run(run_id, [EventType.RUN_FINISHED])
        assert len(started) == 1, run_id  # launched and run exactly once
        assert len(finished) == 1
        spans.append((started[0].timestamp, finished[0].timestamp))
    spans.sort()
    assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))  # one at a time
    store.close()

"""Runs the daemon or the run queue start record the versions of the sources they read, as
a direct `catchment materialize` does: after the run the reader is fresh (and automation does
not request it again); a later change of the source makes it stale again. The daemon steps on
a fake clock; its runs are real `catchment runs execute` subprocesses."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from catchment.daemon.clock import FakeClock
from catchment.daemon.daemon import Daemon, DaemonSettings
from catchment.daemon.evaluators import evaluate_conditions
from catchment.daemon.queue_loop import QueueCoordinator
from catchment.runs.launch import SubprocessLauncher, run_log_path
from catchment.storage import Storage, open_storage
from catchment.storage.control import TickRecord

from tests.core.cli.conftest import ProjectCli
from tests.core.daemon.conftest import T0

PROJECT = """\
project:
  name: sourced
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
sources:
  - {key: landing/orders, observe: {glob: "landing/*.csv"}}
schedules:
  - name: hourly_report
    cron: "0 * * * *"
    assets: [report]
"""

ASSETS = """\
from catchment import asset
from catchment.automation.conditions import source_changed

@asset(deps=["landing/orders"], automation=source_changed())
def report():
    return 1
"""


def _wait_ended(store: Storage, root: Path, run_id: str) -> str:
    deadline = time.monotonic() + 120
    while (run := store.get_run(run_id)) is None or run.status not in ("success", "failure"):
        if time.monotonic() > deadline:
            log = run_log_path(root, run_id)
            pytest.fail(f"run {run_id} did not end: {log.read_text() if log.exists() else ''}")
        time.sleep(0.1)
    return run.status


def _requested(ticks: list[TickRecord]) -> list[str]:
    return [r for t in ticks for r in t.run_ids]


def _built_and_observed(root: Path, cli: ProjectCli) -> Path:
    """The project built and planned (the source observed); then the loader drops new data
    into the source that nobody observes. The source's file."""
    (root / "landing").mkdir(parents=True)
    (root / "catchment.yaml").write_text(PROJECT)
    (root / "assets.py").write_text(ASSETS)
    orders = root / "landing" / "orders.csv"
    orders.write_text("id\n1\n")
    assert cli(root, "materialize").exit_code == 0
    assert cli.plan(root)["report"]["state"] == "fresh"
    orders.write_text("id\n1\n2\n")
    return orders


def _assert_stale_after(cli: ProjectCli, root: Path, orders: Path) -> None:
    orders.write_text("id\n1\n2\n3\n")
    plan = cli.plan(root)
    assert plan["report"]["state"] == "stale"
    (reason,) = plan["report"]["reasons"]
    assert reason.startswith("source changed: landing/orders data version "), reason


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_scheduled_run_records_the_source_version_it_read(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    cli = ProjectCli()
    orders = _built_and_observed(root, cli)
    store = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    clock = FakeClock(T0)
    daemon = Daemon(
        root,
        clock=clock,
        storage=store,
        launcher=SubprocessLauncher(root),
        settings=DaemonSettings(automation_interval=60.0),
        evaluator=evaluate_conditions,
    )
    try:
        assert _requested(daemon.step()) == []  # first sight of the schedule
        clock.advance(3600)
        (run_id,) = _requested(daemon.step())  # 11:00: the schedule's run
        assert _wait_ended(store, root, run_id) == "success"
        plan = cli.plan(root)
        assert plan["report"]["state"] == "fresh", plan["report"]  # it read the new data
        clock.advance(120)
        assert _requested(daemon.step()) == []  # automation sees no source change to act on
        _assert_stale_after(cli, root, orders)
        clock.advance(120)
        (again,) = _requested(daemon.step())  # the change plan observed requests the reader
        assert _wait_ended(store, root, again) == "success"
        assert cli.plan(root)["report"]["state"] == "fresh"
    finally:
        daemon.close()
        store.close()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_queued_run_records_the_source_version_it_read(tmp_path: Path) -> None:
    root = tmp_path / "proj"
    cli = ProjectCli()
    orders = _built_and_observed(root, cli)
    queued = cli(root, "materialize", "--queue")
    assert queued.exit_code == 0, queued.output
    store = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    try:
        QueueCoordinator(store, SubprocessLauncher(root)).step(time.time())
        (run,) = store.list_runs(status="starting")
        assert _wait_ended(store, root, run.run_id) == "success"
        plan = cli.plan(root)
        assert plan["report"]["state"] == "fresh", plan["report"]  # it read the new data
        _assert_stale_after(cli, root, orders)
    finally:
        store.close()

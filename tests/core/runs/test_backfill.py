"""Backfills: split by policy, queued at a lower priority in one transaction, resumed after
kill -9 with zero re-run of succeeded partitions (counted from the records), cancel stops
queued and running work, and a 10,000-partition backfill plans in about a second."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from catchment.cli.main import app
from catchment.events import EventType
from catchment.project import load_project
from catchment.runs.backfill import create_backfill, progress, submit_backfill
from catchment.storage import Storage, open_storage
from catchment.storage.base import HOSTNAME
from catchment.storage.queue import QueueLimits
from typer.testing import CliRunner

ASSETS = """\
import os
import time
from catchment import asset, TimeWindowPartitions

DAILY = TimeWindowPartitions(start="2020-01-01", cadence="daily")

@asset(partitions=DAILY)
def raw(context):
    time.sleep(float(os.environ.get("RAW_SLEEP", "0")))
    if context.partition_key in os.environ.get("FAIL_ON", ""):
        raise ValueError("bad day")
    return context.partition_key

@asset(partitions=DAILY)
def daily(raw):
    return raw + "!"

HOURLY = TimeWindowPartitions(start="2020-01-01-00:00", cadence="hourly")

@asset(partitions=HOURLY)
def hourly():
    return 1

@asset(partitions=HOURLY)
def hourly_down(hourly):
    return hourly
"""

PROJECT = """\
project:
  name: bf
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


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    root.mkdir()
    (root / "catchment.yaml").write_text(PROJECT)
    (root / "assets.py").write_text(ASSETS)
    return root


def _store(root: Path) -> Storage:
    return open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")


def _materialized(store: Storage) -> Counter[str]:
    """partition -> how many times ``daily`` was materialized, from the records."""
    out: Counter[str] = Counter()
    for run in store.list_runs(limit=1000):
        for e in store.events_for_run(run.run_id, [EventType.MATERIALIZATION]):
            if e.asset_key == "daily":
                out[e.partition or ""] += 1
    return out


def test_policies_split_the_range_and_runs_queue_below_scheduled_ones(root: Path) -> None:
    graph = load_project(root).require_graph()
    backfill = create_backfill(graph, "+daily", "2024-01-01...2024-01-10", policy="chunks:4")
    assert [len(c) for c in backfill.chunks()] == [4, 4, 2]
    assert create_backfill(graph, "+daily", "2024-01-01...2024-01-10").chunks()[0] == (
        "2024-01-01",
    )
    single = create_backfill(graph, "+daily", "2024-01-01,2024-01-03", policy="single-run")
    assert single.chunks() == [("2024-01-01", "2024-01-03")]
    store = _store(root)
    store.create_backfill(backfill)
    assert submit_backfill(store, backfill) == 3
    assert submit_backfill(store, backfill) == 0  # idempotent: run keys
    runs = store.list_runs()
    assert {r.tags["backfill"] for r in runs} == {backfill.backfill_id}
    assert {r.tags["priority"] for r in runs} == {"-10"}
    entries = store.queue_entries()
    assert [e.priority for e in entries] == [-10, -10, -10]
    state = progress(store, backfill)
    assert (state.status, state.chunks, state.by_status) == ("running", 3, {"queued": 3})
    # a failed chunk is retried on the next submit, the others are left alone
    first = state.runs[0]
    store.dequeue(QueueLimits(), now=time.time())
    assert store.claim_run(first.run_id, os.getpid(), HOSTNAME, time.time())
    store.update_run_status(first.run_id, "failure")
    assert submit_backfill(store, backfill) == 1
    state = progress(store, backfill)
    assert state.runs[0].run_id != first.run_id
    assert state.runs[0].status == "queued"
    store.close()


def test_a_chunk_retried_after_its_run_was_killed_redoes_none_of_its_finished_steps(
    root: Path,
) -> None:
    """The records of a run killed between its last step's end and its own end (every asset
    materialized, the run abandoned): the chunk's retry resumes it and builds nothing again."""
    from catchment.runs.execute import execute_run

    graph = load_project(root).require_graph()
    backfill = create_backfill(graph, "+daily", "2024-03-01...2024-03-02")
    store = _store(root)
    store.create_backfill(backfill)
    assert submit_backfill(store, backfill) == 2
    first, second = progress(store, backfill).runs[0], progress(store, backfill).runs[1]
    execute_run(root, first.run_id)
    store.update_run_status(first.run_id, "abandoned")  # what the reaper records after kill -9
    assert _materialized(store) == Counter({"2024-03-01": 1})
    assert submit_backfill(store, backfill) == 1  # chunk 1 again; chunk 2 is still queued
    retry = progress(store, backfill).runs[0]
    assert (retry.parent_run_id, retry.tags["resume"]) == (first.run_id, first.run_id)
    execute_run(root, retry.run_id)
    execute_run(root, second.run_id)
    assert _materialized(store) == Counter({"2024-03-01": 1, "2024-03-02": 1})
    state = progress(store, backfill)
    assert (state.status, state.partitions_done) == ("completed", 2)
    store.close()


def test_bad_backfill_input_says_what_to_do(root: Path) -> None:
    runner = CliRunner()
    base = ["backfill", "create", "-p", str(root), "-s", "+daily"]
    bad_policy = runner.invoke(app, [*base, "--partitions", "2024-01-01", "--policy", "x"])
    assert bad_policy.exit_code == 1
    assert "unknown backfill policy 'x'" in str(bad_policy.exception)
    bad_range = runner.invoke(app, [*base, "--partitions", "2024-01-05...2023-01-01"])
    assert bad_range.exit_code == 1
    missing = runner.invoke(app, ["backfill", "status", "nope", "-p", str(root)])
    assert "no backfill 'nope'" in str(missing.exception)


def test_ten_thousand_partitions_are_created_planned_and_queued_at_once(root: Path) -> None:
    graph = load_project(root).require_graph()
    started = time.perf_counter()
    # 10,000 hours: 2020-01-01-00:00 ... 2021-02-20-15:00
    backfill = create_backfill(graph, "+hourly_down", "2020-01-01-00:00...2021-02-20-15:00")
    took = time.perf_counter() - started
    assert len(backfill.partitions) == 10_000
    assert took <= 20.0, took  # bench_queue.py records the time (~1 s); this catches a blow-up
    store = _store(root)
    store.create_backfill(backfill)
    started = time.perf_counter()
    assert submit_backfill(store, backfill) == 10_000
    assert time.perf_counter() - started <= 60.0  # one transaction (~1 s in bench_queue.py)
    assert progress(store, backfill).by_status == {"queued": 10_000}
    store.close()


def _create(root: Path, partitions: str) -> str:
    result = CliRunner().invoke(
        app, ["backfill", "create", "-p", str(root), "-s", "+daily", "--partitions", partitions,
              "--json"]
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    return str(json.loads(result.output)["backfill_id"])


def _foreground(root: Path, backfill_id: str, **env: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "catchment", "backfill", "run", backfill_id, "-p", str(root)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, **env},
        start_new_session=True,
    )


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_a_backfill_killed_mid_way_resumes_with_zero_rerun_of_succeeded_partitions(
    root: Path,
) -> None:
    backfill_id = _create(root, "2024-01-01...2024-01-06")
    store = _store(root)
    proc = _foreground(root, backfill_id, RAW_SLEEP="0.7")
    deadline = time.monotonic() + 120
    while sum(_materialized(store).values()) < 2:
        assert time.monotonic() < deadline
        assert proc.poll() is None
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)  # everything: the foreground runner and its run
    proc.wait()
    before = _materialized(store)
    assert 2 <= len(before) < 6
    # resume, with one partition failing once: it is retried by the next resume
    resumed = _foreground(root, backfill_id, FAIL_ON="2024-01-05")
    assert resumed.wait(120) == 1  # exit 1: a partition failed
    assert _foreground(root, backfill_id).wait(120) == 0
    after = _materialized(store)
    assert sorted(after) == [f"2024-01-0{d}" for d in range(1, 7)]
    assert all(after[p] == 1 for p in after), after  # zero re-runs of succeeded partitions
    backfill = store.get_backfill(backfill_id)
    assert backfill is not None
    state = progress(store, backfill)
    assert (state.status, state.partitions_done) == ("completed", 6)
    statuses = Counter(r.status for r in store.list_runs(limit=100))
    # the run that was killed is recorded as such (none when the kill fell between two runs)
    assert statuses["abandoned"] <= 1
    assert statuses["failure"] == 1
    store.close()


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_cancel_stops_queued_and_running_work(root: Path) -> None:
    backfill_id = _create(root, "2024-02-01...2024-02-05")
    store = _store(root)
    proc = _foreground(root, backfill_id, RAW_SLEEP="30")
    deadline = time.monotonic() + 60
    while not any(r.status == "started" for r in store.list_runs()):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    result = CliRunner().invoke(app, ["backfill", "cancel", backfill_id, "-p", str(root)])
    assert result.exit_code == 0, result.output
    assert "4 queued run(s) canceled, 1 running run(s) asked to stop" in result.output
    proc.wait(60)  # the running step was interrupted and nothing else started
    statuses = Counter(r.status for r in store.list_runs())
    assert statuses == Counter({"canceled": 5})
    status = CliRunner().invoke(app, ["backfill", "status", backfill_id, "-p", str(root)])
    assert "canceled" in status.output
    store.close()

"""Pools in the engine: real `catchment materialize` processes at once never run more steps of
a pool than its limit (counted from the recorded step events), a waiting step says why, and a
step that can never fit is a clear error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from catchment.events import EventType
from catchment.storage import Storage, open_storage
from typer.testing import CliRunner

ASSETS = """\
import time
from catchment import asset

@asset(pool="warehouse")
def heavy_a():
    time.sleep(0.6)
    return 1

@asset(pool="warehouse")
def heavy_b():
    time.sleep(0.6)
    return 1

@asset(pool="warehouse", pool_slots=3)
def huge():
    return 1

@asset
def light():
    return 1
"""

PROJECT = """\
project:
  name: pooled
pools:
  warehouse: {limit}
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


def _project(root: Path, limit: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "catchment.yaml").write_text(PROJECT.format(limit=limit))
    (root / "assets.py").write_text(ASSETS)
    return root


def _most_at_once(intervals: list[tuple[float, float]]) -> int:
    points = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    most = now = 0
    for _, delta in points:
        now += delta
        most = max(most, now)
    return most


def step_spans(store: Storage) -> tuple[list[tuple[float, float]], list[str]]:
    """(start, end) of every recorded step, and what the steps that waited for pool
    ``warehouse`` said."""
    spans, waits = [], []
    for run in store.list_runs():
        events = store.events_for_run(run.run_id)
        starts = {e.step_key: e.timestamp for e in events if e.type is EventType.STEP_STARTED}
        for e in events:
            if e.type is EventType.STEP_FINISHED:
                spans.append((starts[e.step_key], e.timestamp))
            if e.type is EventType.LOG and "waits: pool warehouse full" in e.log_line.message:
                waits.append(e.log_line.message)
    return spans, waits


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_processes_at_once_never_run_more_pool_steps_than_its_limit(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", limit=2)
    cmd = [sys.executable, "-m", "catchment", "materialize", "-p", str(root), "-w", "2"]
    procs = [
        subprocess.Popen(
            [*cmd, "-s", "heavy_a or heavy_b"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(4)
    ]
    outputs = [p.communicate(timeout=200)[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    store = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    spans, waits = step_spans(store)
    assert len(spans) == 8
    assert _most_at_once(spans) <= 2  # 8 steps wanted to run at once
    assert waits  # some step had to wait, and said why
    assert waits[0].endswith("pool warehouse full: 2/2")
    assert store.pools() == []  # every slot was given back (no claim left)
    store.close()


def test_a_step_that_needs_more_slots_than_the_pool_has_is_a_clear_error(tmp_path: Path) -> None:
    from catchment.cli.main import app

    root = _project(tmp_path / "p", limit=2)
    result = CliRunner().invoke(app, ["materialize", "-p", str(root), "-s", "huge"])
    assert result.exit_code == 1
    text = result.output + str(result.exception or "")
    assert "needs 3 slots of pool warehouse, which has 2" in text


def test_a_steps_slot_is_given_back_only_after_its_finish_is_recorded(tmp_path: Path) -> None:
    """Another process may start a step as soon as a slot is free: the finished step's end must
    already be in the record then, or the record shows two steps of a pool of 1 at once."""
    from catchment.execution.project import run_project
    from catchment.project import load_project
    from catchment.storage.sqlite import SqliteStorage

    root = _project(tmp_path / "p", limit=1)
    project = load_project(root)
    store = SqliteStorage(":memory:")
    finished_at_release: list[set[str]] = []
    release = store.release_pool_slots

    def checking_release(claim_ids):  # type: ignore[no-untyped-def]
        ids = list(claim_ids)
        (run,) = store.list_runs()
        events = store.events_for_run(run.run_id, [EventType.STEP_FINISHED])
        finished = {e.step_key for e in events}
        finished_at_release.append({i.split(":", 1)[1] for i in ids} - finished)
        return release(ids)

    store.release_pool_slots = checking_release  # type: ignore[method-assign]
    result = run_project(project, "heavy_a or heavy_b", storage=store)
    assert result.success
    assert len(finished_at_release) >= 2  # each pooled step gave its slot back
    assert all(not unfinished for unfinished in finished_at_release), finished_at_release


def test_pools_cli_sets_lists_and_a_stored_limit_wins(tmp_path: Path) -> None:
    from catchment.cli.main import app

    root = _project(tmp_path / "p", limit=2)
    runner = CliRunner()
    listed = runner.invoke(app, ["pools", "list", "-p", str(root)])
    assert "warehouse" in listed.output
    assert "0/2" in listed.output
    assert "(project)" in listed.output
    assert runner.invoke(app, ["pools", "set", "warehouse", "3", "-p", str(root)]).exit_code == 0
    ok = runner.invoke(app, ["materialize", "-p", str(root), "-s", "huge"])
    assert ok.exit_code == 0, ok.output  # 3 slots fit now
    listed = runner.invoke(app, ["pools", "list", "-p", str(root), "--json"])
    assert '"limit": 3' in listed.output
    assert '"limit_from": "cli"' in listed.output


def test_a_component_puts_its_steps_in_a_pool_unless_they_name_their_own(tmp_path: Path) -> None:
    from catchment.project import load_project

    root = _project(tmp_path / "p", limit=2)
    text = (root / "catchment.yaml").read_text()
    text = text.replace("      module: assets.py\n", "      module: assets.py\n    pool: db\n")
    text = text.replace("    name: core\n", "    name: core\n    pool_slots: 2\n")
    (root / "catchment.yaml").write_text(text)
    project = load_project(root)
    assert project.ok, project.problems
    graph = project.require_graph()
    pools = {name: (d.pool, d.pool_slots) for name, d in graph.definitions.items()}
    assert pools["light"] == ("db", 2)  # the component's pool
    assert pools["huge"] == ("warehouse", 3)  # an asset's own pool wins


SLEEPER = """\
import os
import time
from catchment import asset

@asset(pool="warehouse")
def sleeper():
    time.sleep(float(os.environ.get("SLEEP", "0")))
    return 1
"""


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_a_sigkilled_runs_slots_are_free_for_the_next_run(tmp_path: Path) -> None:
    import os
    import signal
    import time

    root = _project(tmp_path / "p", limit=1)
    (root / "assets.py").write_text(SLEEPER)
    cmd = [sys.executable, "-m", "catchment", "materialize", "-p", str(root), "-s", "sleeper"]
    holder = subprocess.Popen(
        cmd,
        env={**os.environ, "SLEEP": "60"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    store = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    deadline = time.monotonic() + 60
    while not any(p.used for p in store.pools()):
        assert time.monotonic() < deadline, "the first run never took its slot"
        time.sleep(0.05)
    os.killpg(holder.pid, signal.SIGKILL)
    holder.wait()
    started = time.monotonic()
    nxt = subprocess.run(cmd, capture_output=True, timeout=120)
    assert nxt.returncode == 0, nxt.stdout.decode()
    assert time.monotonic() - started < 30  # not after the 60 s lease: the dead pid is seen
    runs = store.list_runs()
    waits = [
        e
        for r in runs
        for e in store.events_for_run(r.run_id, [EventType.LOG])
        if "waits" in e.log_line.message
    ]
    assert waits == []  # the dead run's slot was dropped at the first claim
    assert store.pools() == []
    store.close()

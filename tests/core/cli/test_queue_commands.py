"""`materialize --queue`, `runs list` (queue position and why a run waits) and `runs cancel`."""

from __future__ import annotations

import json
import time
from pathlib import Path

from catchment.cli.main import app
from catchment.storage import open_storage
from catchment.storage.queue import QueueLimits
from typer.testing import CliRunner

PROJECT = """\
project:
  name: q
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

ASSETS = """\
from catchment import asset

@asset
def a():
    return 1
"""


def test_queued_runs_show_their_place_and_reason_and_can_be_canceled(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "catchment.yaml").write_text(PROJECT)
    (root / "assets.py").write_text(ASSETS)
    runner = CliRunner()
    base = ["materialize", "-p", str(root), "--queue"]
    first = runner.invoke(app, [*base, "--tag", "team=finance"])
    assert first.exit_code == 0, first.output
    assert "(position 1)" in first.output
    urgent = runner.invoke(app, [*base, "--priority", "5"])
    assert "(position 1)" in urgent.output  # it jumps the line
    bad = runner.invoke(app, [*base, "--tag", "nonsense"])
    assert bad.exit_code == 1
    assert "--tag 'nonsense' is not KEY=VALUE" in str(bad.exception)
    store = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    store.dequeue(QueueLimits(max_concurrent_runs=0), now=time.time())  # the daemon's decision
    store.close()
    listed = json.loads(runner.invoke(app, ["runs", "list", "-p", str(root), "--json"]).output)
    by_priority = sorted(listed, key=lambda r: r["queue_position"])
    assert [r["queue_position"] for r in by_priority] == [1, 2]
    assert by_priority[0]["tags"]["priority"] == "5"
    assert by_priority[1]["wait_reason"] == "max concurrent runs reached: 0/0"
    table = runner.invoke(app, ["runs", "list", "-p", str(root)]).output
    assert "#1 max" in table
    run_id = by_priority[1]["run_id"]
    canceled = runner.invoke(app, ["runs", "cancel", run_id[:8], "-p", str(root), "--json"])
    assert json.loads(canceled.output) == {
        "run_id": run_id,
        "status": "canceled",
        "signaled": False,
    }
    again = runner.invoke(app, ["runs", "cancel", run_id, "-p", str(root)])
    assert again.exit_code == 1
    assert "has already ended (canceled)" in str(again.exception)
    listed = json.loads(runner.invoke(app, ["runs", "list", "-p", str(root), "--json"]).output)
    assert {r["run_id"]: r["queue_position"] for r in listed}[run_id] is None


TWO_ASSETS = """\
from catchment import asset

@asset
def a():
    return 1

@asset
def b(a):
    return a + 1
"""


def test_apply_queue_queues_only_what_is_missing_or_stale_as_one_run(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "catchment.yaml").write_text(PROJECT)
    (root / "assets.py").write_text(TWO_ASSETS)
    runner = CliRunner()
    done = runner.invoke(app, ["materialize", "-p", str(root), "-s", "a"])
    assert done.exit_code == 0, done.output
    queued = runner.invoke(
        app, ["apply", "-p", str(root), "--queue", "--priority", "3", "--tag", "team=ops"]
    )
    assert queued.exit_code == 0, queued.output
    assert "queuing 1 asset(s): b" in queued.output
    assert "(position 1)" in queued.output
    (run,) = [
        r
        for r in json.loads(runner.invoke(app, ["runs", "list", "-p", str(root), "--json"]).output)
        if r["status"] == "queued"
    ]
    assert run["asset_keys"] == ["b"]  # a is fresh: not queued again
    assert run["tags"]["trigger"] == "apply"
    assert run["tags"]["team"] == "ops"
    assert run["tags"]["priority"] == "3"
    assert run["queue_position"] == 1

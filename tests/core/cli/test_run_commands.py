"""`catchment materialize / plan / apply / runs / assets show` on real temp projects.

The slow tests start real `catchment` processes: SIGKILL mid-run then retry from failure,
and eight concurrent runs sharing one SQLite run store.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catchment.cli.main import app
from catchment.events import EventType
from catchment.storage import open_storage
from typer.testing import CliRunner

PROJECT_YAML = """\
project:
  name: demo
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
import os, time
from pathlib import Path
from catchment import asset, asset_check

LOG = Path(__file__).parent / "ran.log"

def mark(name):
    with LOG.open("a") as f:
        f.write(f"{name} {os.getpid()}\\n")

@asset
def a():
    mark("a")
    return 1

@asset
def b(a):
    mark("b")
    return a + 1

@asset
def c(b):
    mark("c")
    if (Path(__file__).parent / "slow").exists():
        time.sleep(60)
    return b + 1

@asset
def d(c):
    mark("d")
    return c + 1

@asset_check(asset="b")
def b_positive(b):
    return b > 0
"""


def make_project(root: Path, assets: str = ASSETS) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "catchment.yaml").write_text(PROJECT_YAML)
    (root / "assets.py").write_text(assets)
    return root


def ran(root: Path) -> list[str]:
    log = root / "ran.log"
    return [line.split()[0] for line in log.read_text().splitlines()] if log.exists() else []


def cli(root: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [sys.executable, "-m", "catchment", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def store_of(root: Path):  # type: ignore[no-untyped-def]
    return open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")


runner = CliRunner()


def invoke(root: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--project", str(root)])
    return result.exit_code, result.output


# -- in-process CLI -------------------------------------------------------------------------


def test_materialize_runs_show_and_assets_show(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    code, out = invoke(root, "materialize", "-s", "+b")
    assert code == 0, out
    assert "run " in out
    assert "succeeded: 2 materialized" in out
    assert ran(root) == ["a", "b"]

    code, out = invoke(root, "runs", "list", "--json")
    (run,) = json.loads(out)
    assert run["status"] == "success"
    assert run["asset_keys"] == ["a", "b"]

    code, out = invoke(root, "runs", "show", run["run_id"][:8], "--json")
    shown = json.loads(out)
    assert shown["run"]["run_id"] == run["run_id"]
    types = [e["type"] for e in shown["events"]]
    assert types[0] == "run_started"
    assert types[-1] == "run_finished"
    assert types.count("materialization") == 2
    assert types.count("check_evaluated") == 1

    code, out = invoke(root, "assets", "show", "b", "--json")
    assert code == 0, out
    info = json.loads(out)
    assert info["state"] == "fresh"
    assert info["latest_materialization"]["run_id"] == run["run_id"]
    assert info["check_history"][0]["check"] == "b_positive"
    assert info["check_history"][0]["passed"] is True
    code, out = invoke(root, "assets", "show", "d")
    assert "never materialized" in out
    assert "missing" in out


def test_runs_list_and_show_read_records_without_loading_the_code(tmp_path: Path) -> None:
    """Reading run records needs only the run store: the project's code is not imported
    (so it works, and is fast, even while a component is broken or heavy to load)."""
    root = make_project(tmp_path / "p")
    code, out = invoke(root, "materialize", "-s", "a")
    assert code == 0, out
    marker = root / "imported"
    (root / "assets.py").write_text(f"open({str(marker)!r}, 'w').close()\n")
    code, out = invoke(root, "runs", "list", "--json")
    assert code == 0, out
    (run,) = json.loads(out)
    code, out = invoke(root, "runs", "show", run["run_id"], "--json")
    assert code == 0, out
    assert json.loads(out)["run"]["asset_keys"] == ["a"]
    assert not marker.exists()


def test_failure_exits_1_and_names_the_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p", ASSETS.replace("return a + 1", "raise ValueError('no b')"))
    code, out = invoke(root, "materialize")
    assert code == 1
    assert "ValueError: no b" in out
    assert "skipped: upstream b failed" in out
    assert "FAILED: 1 materialized, 1 failed, 2 skipped" in out


def test_unknown_run_and_bad_partition_are_clear_errors(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    result = runner.invoke(app, ["runs", "show", "nope", "--project", str(root)])
    assert result.exit_code == 1
    assert "no run 'nope'" in str(result.exception)
    result = runner.invoke(app, ["materialize", "--partition", "x", "--project", str(root)])
    assert "no selected asset is partitioned" in str(result.exception)


# -- real processes -------------------------------------------------------------------------


@pytest.mark.slow
def test_sigkill_mid_run_then_retry_from_failure(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "slow").touch()
    proc = subprocess.Popen(
        [sys.executable, "-m", "catchment", "materialize"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while "c" not in ran(root):
        assert time.time() < deadline, "the run never reached asset c"
        assert proc.poll() is None, "the run ended before it could be killed"
        time.sleep(0.05)

    def c_started() -> bool:  # the engine records a running step's start within 0.2 s
        store = store_of(root)
        try:
            (run,) = store.list_runs()
            events = store.events_for_run(run.run_id, [EventType.STEP_STARTED])
            return any(e.step_key == "c" for e in events)
        finally:
            store.close()

    while not c_started():
        assert time.time() < deadline, "c's step_started never reached the record store"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert ran(root) == ["a", "b", "c"]

    # The store is readable and holds only whole steps: every step's outputs came with its
    # end; the step killed while running (c) has only its start.
    store = store_of(root)
    (run,) = store.list_runs()
    assert run.status == "started"  # nobody has looked yet
    events = store.events_for_run(run.run_id)
    started = [e.step_key for e in events if e.type is EventType.STEP_STARTED]
    finished = [e.step_key for e in events if e.type is EventType.STEP_FINISHED]
    assert finished == ["a", "b", "b:b_positive"]
    assert started == [*finished, "c"]
    assert not [e for e in events if e.step_key == "c" and e.type is not EventType.STEP_STARTED]
    store.close()

    # The next command marks it abandoned.
    listed = cli(root, "runs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout)[0]["status"] == "abandoned"

    (root / "slow").unlink()
    retry = cli(root, "runs", "retry", run.run_id, "--from-failure")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert "retrying" in retry.stdout
    # a and b were not re-run; c (killed) and d (never started) were.
    assert ran(root) == ["a", "b", "c", "c", "d"]
    store = store_of(root)
    newest = store.list_runs()[0]
    assert newest.parent_run_id == run.run_id
    assert newest.status == "success"
    assert newest.asset_keys == ("c", "d")
    store.close()
    plan = cli(root, "plan", "--json")
    assert {s["state"] for s in json.loads(plan.stdout)} == {"fresh"}


@pytest.mark.slow
def test_eight_concurrent_runs_share_one_sqlite_store(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "catchment", "materialize"],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outputs = [p.communicate(timeout=180) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, out + err
        assert "locked" not in (out + err).lower()
    store = store_of(root)
    runs = store.list_runs(limit=100)
    assert len(runs) == 8
    assert {r.status for r in runs} == {"success"}
    # run_started + 5 steps x (started, result, finished) + run_finished
    for r in runs:
        events = store.events_for_run(r.run_id)
        assert len(events) == 17, [e.type for e in events]
        assert [e.seq for e in events] == sorted(e.seq for e in events)
    store.close()


@pytest.mark.slow
def test_plan_apply_after_a_code_change(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    assert cli(root, "materialize").returncode == 0
    fresh = json.loads(cli(root, "plan", "--json").stdout)
    assert {s["key"]: s["state"] for s in fresh} == dict.fromkeys("abcd", "fresh")

    # Change b's code: it and everything downstream of it are stale, with reasons.
    (root / "assets.py").write_text(ASSETS.replace("return a + 1", "return a + 10"))
    plan = {s["key"]: s for s in json.loads(cli(root, "plan", "--json").stdout)}
    assert plan["a"]["state"] == "fresh"
    assert plan["b"]["state"] == "stale"
    assert plan["b"]["reasons"][0].startswith("code changed (")
    assert plan["c"]["reasons"] == ["upstream b stale"]
    assert plan["d"]["reasons"] == ["upstream c stale"]
    text = cli(root, "plan")
    assert "2 missing" not in text.stdout
    assert "1 fresh" in text.stdout

    before = ran(root)
    applied = cli(root, "apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert ran(root)[len(before) :] == ["b", "c", "d"]
    after = {s["key"]: s["state"] for s in json.loads(cli(root, "plan", "--json").stdout)}
    assert after == dict.fromkeys("abcd", "fresh")
    again = cli(root, "apply")
    assert "nothing to do" in again.stdout


@pytest.mark.slow
def test_sigkill_with_workers_takes_the_workers_down_too(tmp_path: Path) -> None:
    root = make_project(tmp_path / "p")
    (root / "slow").touch()
    proc = subprocess.Popen(
        [sys.executable, "-m", "catchment", "materialize", "--workers", "2"],
        cwd=root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 60
    while "c" not in ran(root):
        assert time.time() < deadline, "the run never reached asset c"
        time.sleep(0.05)
    worker_pid = int((root / "ran.log").read_text().splitlines()[-1].split()[1])
    assert worker_pid != proc.pid
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.time() + 10
    while Path(f"/proc/{worker_pid}").exists():
        stat = Path(f"/proc/{worker_pid}/stat").read_text()
        if stat[stat.rfind(")") + 2] == "Z":
            break
        assert time.time() < deadline, "the worker outlived the killed engine"
        time.sleep(0.05)
    (root / "slow").unlink()
    retry = cli(root, "runs", "retry", store_of(root).list_runs()[0].run_id, "--from-failure")
    assert retry.returncode == 0, retry.stdout + retry.stderr
    assert ran(root) == ["a", "b", "c", "c", "d"]

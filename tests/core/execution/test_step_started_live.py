"""A step's ``step_started`` reaches the record store while the step runs (not with its end),
for each executor: readers of the store (``catchment runs show --json``, the UI's run view)
see the step running before it finishes. Quick steps still have their start written in one
transaction with their end."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catchment.events import EventType
from catchment.storage import open_storage

BIN = Path(sys.executable).parent
ENV = {**os.environ, "DO_NOT_TRACK": "1", "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}

ASSETS = """\
import time
from pathlib import Path
from catchment import asset

RELEASE = Path(__file__).with_name("release")

@asset
def first():
    return 1

@asset
def blocker(first):
    end = time.monotonic() + 120
    while not RELEASE.exists() and time.monotonic() < end:
        time.sleep(0.05)
    return first + 1

@asset
def after(blocker):
    return blocker + 1
"""


def _project(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "catchment.yaml").write_text(
        "project: {name: live}\n"
        "components:\n  - {type: python, name: code, attributes: {module: assets.py}}\n"
        "io_managers:\n  default: {type: filesystem, config: {base_dir: values}}\n"
    )
    (root / "assets.py").write_text(ASSETS)
    return root


def _wait_for_start(root: Path, proc: subprocess.Popen[str], timeout: float) -> str:
    """The run id once ``blocker``'s ``step_started`` is in the record store."""
    url = f"sqlite:///{root / '.catchment' / 'runs.db'}"
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"the run ended before its step was seen running:\n{out}\n{err}")
        if (root / ".catchment" / "runs.db").exists():
            storage = open_storage(url)
            try:
                for run in storage.list_runs():
                    started = storage.events_for_run(run.run_id, [EventType.STEP_STARTED])
                    if any(e.step_key == "blocker" for e in started):
                        return run.run_id
            finally:
                storage.close()
        time.sleep(0.1)
    pytest.fail(f"blocker's step_started was not in the record store within {timeout} s")


def _runs_show(root: Path, run_id: str) -> list[tuple[str, str | None]]:
    """(type, step) of the run's events as ``catchment runs show --json`` prints them."""
    out = subprocess.run(
        [str(BIN / "catchment"), "runs", "show", run_id, "--json", "-p", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    events: list[dict[str, str]] = json.loads(out.stdout)["events"]
    return [(e["type"], e.get("step_key")) for e in events]


def _check_seen_running(root: Path, args: list[str], timeout: float) -> None:
    proc = subprocess.Popen(
        [str(BIN / "catchment"), "materialize", "-p", str(root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    try:
        run_id = _wait_for_start(root, proc, timeout)
        steps = _runs_show(root, run_id)
        assert ("step_started", "blocker") in steps
        assert ("step_finished", "blocker") not in steps
        assert ("step_finished", "first") in steps
        assert ("step_started", "after") not in steps

        from catchment.ui import views
        from catchment.ui.state import UiState

        state = UiState(root)
        state.load()
        timeline = {s["step"]: s for s in views.run(state, run_id)["timeline"]}
        assert timeline["blocker"]["status"] == "running"
        assert not timeline["blocker"]["end"]
        assert timeline["first"]["status"] == "success"
        assert proc.poll() is None  # still blocked: all of the above was seen while it ran
        (root / "release").touch()
        out, err = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, out + err
        steps = _runs_show(root, run_id)
        assert steps.count(("step_started", "blocker")) == 1  # written once, not again at the end
        assert ("step_finished", "after") in steps
        timeline = {s["step"]: s for s in views.run(state, run_id)["timeline"]}
        assert {s["status"] for s in timeline.values()} == {"success"}
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


@pytest.mark.timeout(120)
def test_a_running_step_is_seen_running_in_process(tmp_path: Path) -> None:
    _check_seen_running(_project(tmp_path / "p"), [], 60)


@pytest.mark.timeout(120)
def test_a_running_step_is_seen_running_with_worker_processes(tmp_path: Path) -> None:
    _check_seen_running(_project(tmp_path / "p"), ["-w", "2"], 60)


@pytest.mark.slow  # starts a LocalCluster in a catchment subprocess
@pytest.mark.timeout(300)
def test_a_running_step_is_seen_running_on_dask(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    _check_seen_running(_project(tmp_path / "p"), ["--executor", "dask", "-w", "1"], 200)


def test_quick_steps_write_their_start_with_their_end(tmp_path: Path) -> None:
    """The start of a step that ends within the flush delay is written in the same
    transaction as its end: its events have consecutive sequence numbers."""
    from catchment import asset, materialize
    from catchment.io_managers import MemoryIOManager
    from catchment.storage.sqlite import SqliteStorage

    @asset
    def a() -> int:
        return 1

    @asset
    def b(a: int) -> int:
        return a + 1

    storage = SqliteStorage(tmp_path / "runs.db")
    result = materialize([a, b], storage=storage, io_managers={"default": MemoryIOManager()})
    assert result.success
    events = storage.events_for_run(result.run_id)
    for step in ("a", "b"):
        seqs = [e.seq or 0 for e in events if e.step_key == step]
        types = [e.type for e in events if e.step_key == step]
        assert types[0] is EventType.STEP_STARTED
        assert types[-1] is EventType.STEP_FINISHED
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    storage.close()

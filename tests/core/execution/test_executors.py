"""Executors: parallel worker processes respect dependencies; memory IO is refused."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from catchment import asset, materialize
from catchment.errors import ExecutionError
from catchment.events import EventType
from catchment.execution import MultiprocessExecutor
from catchment.io_managers import FilesystemIOManager


@asset
def left() -> dict[str, float]:
    start = time.time()
    time.sleep(0.4)
    return {"pid": os.getpid(), "start": start, "end": time.time()}


@asset
def right() -> dict[str, float]:
    start = time.time()
    time.sleep(0.4)
    return {"pid": os.getpid(), "start": start, "end": time.time()}


@asset
def joined(left: dict[str, float], right: dict[str, float]) -> dict[str, float]:
    return {"start": time.time(), "after": max(left["end"], right["end"])}


@asset
def boom() -> int:
    raise KeyError("no such column")


@pytest.mark.slow
def test_ready_steps_run_in_parallel_and_dependencies_hold(tmp_path: Path) -> None:
    io = {"default": FilesystemIOManager(tmp_path / "values")}
    result = materialize(
        [left, right, joined], io_managers=io, executor=MultiprocessExecutor(workers=2)
    )
    l_val, r_val = result.output_for("left"), result.output_for("right")
    assert {l_val["pid"], r_val["pid"]}.isdisjoint({os.getpid()})
    assert l_val["pid"] != r_val["pid"]
    # the two independent steps overlapped in time
    assert l_val["start"] < r_val["end"]
    assert r_val["start"] < l_val["end"]
    j = result.output_for("joined")
    assert j["start"] >= j["after"]
    assert [e.type for e in result.events].count(EventType.MATERIALIZATION) == 3
    from catchment.execution import executors

    assert executors._WORKER_RUNTIME is None  # nothing of the run outlives it in the engine


@pytest.mark.slow
def test_worker_failure_is_recorded_like_in_process(tmp_path: Path) -> None:
    io = {"default": FilesystemIOManager(tmp_path / "values")}
    result = materialize(
        [boom, left], io_managers=io, executor=MultiprocessExecutor(2), raise_on_failure=False
    )
    failure = next(e for e in result.failures if e.asset_key == "boom")
    assert failure.data["error_class"] == "KeyError"
    assert "test_executors.py" in failure.data["where"]
    assert result.status_of("left") == "success"


def test_memory_io_manager_cannot_cross_processes() -> None:
    with pytest.raises(ExecutionError, match="keeps values in memory") as info:
        materialize([left], executor=MultiprocessExecutor(2))
    assert "--workers 1" in str(info.value)


@asset
def suicide() -> int:
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
    return 1


@asset
def after_suicide(suicide: int) -> int:
    return suicide


@pytest.mark.slow
def test_a_killed_worker_fails_its_step_and_the_run_ends(tmp_path: Path) -> None:
    io = {"default": FilesystemIOManager(tmp_path / "values")}
    result = materialize(
        [suicide, after_suicide],
        io_managers=io,
        executor=MultiprocessExecutor(2),
        raise_on_failure=False,
    )
    failure = next(e for e in result.failures if e.asset_key == "suicide")
    assert failure.data["error_class"] == "WorkerDied"
    assert result.status_of("after_suicide") == "skipped"
    assert result.status == "failure"

"""A small project for the Dask cluster tests: every Python compute appends one line to
executions.log (so a test counts real executions); ``left`` and ``right`` wait for each other
(a file barrier), so they run at the same time, on different single-threaded workers: by the
time ``blocker`` starts, every worker has finished a step. ``blocker`` waits for the file
``release`` so a test can kill its worker at a known moment."""

import os
import time
from pathlib import Path

from catchment import RetryPolicy, asset

HERE = Path(__file__).parent


def _executed(name: str) -> None:
    with open(HERE / "executions.log", "a") as f:
        f.write(f"{name} {os.getpid()}\n")


@asset
def prep(context):
    _executed("prep")
    context.log.info("prep on pid %s", os.getpid())
    return [1, 2, 3]


def _barrier(name: str, other: str) -> int:
    (HERE / f"arrived-{name}").touch()
    while not (HERE / f"arrived-{other}").exists():
        time.sleep(0.02)
    _executed(name)
    return os.getpid()


@asset
def left():
    return _barrier("left", "right")


@asset
def right():
    return _barrier("right", "left")


@asset(deps=["order_totals", "left", "right"], retry=RetryPolicy(max_retries=1))
def blocker(context, prep):
    _executed("blocker")
    (HERE / f"started-{os.getpid()}").write_text(str(os.getpid()))
    context.log.info("blocker waiting on pid %s", os.getpid())
    while not (HERE / "release").exists():
        time.sleep(0.02)
    return sum(prep)


@asset
def after(blocker):
    _executed("after")
    return blocker * 2

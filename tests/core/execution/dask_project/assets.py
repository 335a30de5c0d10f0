"""A small project for the Dask cluster tests: every Python compute appends one line to
executions.log (so a test counts real executions); ``blocker`` waits for the file
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


@asset(deps=["order_totals"], retry=RetryPolicy(max_retries=1))
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

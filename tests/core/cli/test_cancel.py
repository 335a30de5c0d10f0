"""Ctrl-C during `catchment materialize` (a real subprocess, a real SIGINT): the run is
recorded as canceled, what was built before the interrupt stays recorded, the rest is not
materialized, the process exits 130, and `runs retry --from-failure` builds only the rest.
Also in-process: a compute that swallows the interrupt (as dbt does) cannot turn the run
into a failure or a success."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from catchment import asset
from catchment.events import EventType
from catchment.execution.api import materialize
from catchment.storage.sqlite import SqliteStorage

PROJECT = """
project: {name: cancel}
components:
  - type: python
    name: jobs
    attributes: {module: jobs.py}
"""

JOBS = """
import time
from pathlib import Path
from catchment import AssetKey, MaterializeResult, multi_asset, spec, asset

FLAG = Path(__file__).with_name("slow.flag")

@multi_asset(specs=[spec("first"), spec("second")])
def batch(context):
    yield MaterializeResult(key=AssetKey("first"))
    print("first built", flush=True)
    while FLAG.exists():  # slow until the test removes the flag
        time.sleep(0.05)
    yield MaterializeResult(key=AssetKey("second"))

@asset(deps=["second"])
def last():
    return MaterializeResult(key=AssetKey("last"))
"""


def _cli(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATCHMENT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "catchment", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow  # starts the CLI in subprocesses
def test_ctrl_c_records_a_canceled_run_that_resumes(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "catchment.yaml").write_text(textwrap.dedent(PROJECT))
    (root / "jobs.py").write_text(textwrap.dedent(JOBS))
    (root / "slow.flag").write_text("")

    proc = _cli(root, "materialize")
    assert proc.stdout is not None
    seen = []
    for line in proc.stdout:
        seen.append(line)
        if "first built" in line:
            break
    time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, "".join(seen) + out + err
    assert "Traceback" not in err

    storage = SqliteStorage(str(root / ".catchment" / "runs.db"))
    try:
        (run,) = storage.list_runs()
        assert run.status == "canceled"
        events = storage.events_for_run(run.run_id)
        built = [e.asset_key for e in events if e.type is EventType.MATERIALIZATION]
        assert built == ["first"]  # built before the interrupt: stays recorded
        assert not [e for e in events if e.type is EventType.ASSET_FAILED]
        skipped = {
            e.asset_key: e.data["reason"] for e in events if e.type is EventType.ASSET_SKIPPED
        }
        assert "canceled" in skipped["second"]
    finally:
        storage.close()

    (root / "slow.flag").unlink()
    retry = _cli(root, "runs", "retry", run.run_id, "--from-failure")
    out, err = retry.communicate(timeout=60)
    assert retry.returncode == 0, out + err
    storage = SqliteStorage(str(root / ".catchment" / "runs.db"))
    try:
        child = next(r for r in storage.list_runs() if r.parent_run_id == run.run_id)
        assert child.status == "success"
        rebuilt = [
            e.asset_key
            for e in storage.events_for_run(child.run_id)
            if e.type is EventType.MATERIALIZATION
        ]
        assert sorted(rebuilt) == ["last", "second"]  # not "first" again
    finally:
        storage.close()


def test_a_compute_that_swallows_ctrl_c_still_ends_the_run_canceled(tmp_path: Path) -> None:
    @asset
    def swallows() -> int:
        try:
            signal.raise_signal(signal.SIGINT)
            time.sleep(1)
        except KeyboardInterrupt:
            raise RuntimeError("dbt could not parse the project") from None
        return 1

    @asset
    def downstream(swallows: int) -> int:
        return swallows

    storage = SqliteStorage(str(tmp_path / "runs.db"))
    try:
        with pytest.raises(KeyboardInterrupt):
            materialize([swallows, downstream], storage=storage)
        (run,) = storage.list_runs()
        assert run.status == "canceled"
        events = storage.events_for_run(run.run_id)
        assert not [e for e in events if e.type is EventType.ASSET_FAILED]
        assert not [e for e in events if e.type is EventType.MATERIALIZATION]
        assert not [e for e in events if e.step_key == "downstream"]  # never started
    finally:
        storage.close()

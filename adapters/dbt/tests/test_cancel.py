"""Ctrl-C during a dbt build (a real `catchment materialize` subprocess and a real SIGINT):
dbt catches the interrupt itself, yet the run is recorded as canceled, not as a failure or a
success; the model is recorded as not built; the process exits 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catchment.events import EventType
from catchment.storage.sqlite import SqliteStorage

from .conftest import copy_jaffle

pytestmark = pytest.mark.slow

ENDLESS = (
    "{{ config(materialized='table') }}\nselect max(hash(range)) as n from range(1000000000000000)"
)

PROJECT = """
project: {name: cancel}
components:
  - type: dbt
    name: jaffle
    attributes: {project_dir: jaffle}
"""


def test_ctrl_c_during_dbt_is_recorded_as_canceled(tmp_path: Path) -> None:
    jaffle = copy_jaffle(tmp_path)
    (jaffle.project_dir / "models" / "endless.sql").write_text(ENDLESS)
    (tmp_path / "catchment.yaml").write_text(PROJECT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATCHMENT_")}
    env["DO_NOT_TRACK"] = "1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "catchment", "materialize", "-s", "endless"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if "dbt build" in line:
            break
    time.sleep(2)  # dbt is inside the endless query by now (or still starting: same result)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, out + err
    storage = SqliteStorage(str(tmp_path / ".catchment" / "runs.db"))
    try:
        (run,) = storage.list_runs()
        assert run.status == "canceled"
        events = storage.events_for_run(run.run_id)
        assert not [e for e in events if e.type is EventType.ASSET_FAILED]
        assert not [e for e in events if e.type is EventType.MATERIALIZATION]
        (skipped,) = [e for e in events if e.type is EventType.ASSET_SKIPPED]
        assert skipped.asset_key == "endless"
        assert "canceled" in skipped.data["reason"]
    finally:
        storage.close()

"""dlt telemetry is off by default in processes that use the adapter; the user can turn it on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.slow
def test_telemetry_is_off_even_when_dlt_was_configured_first(tmp_path: Path) -> None:
    script = f"""
import os, dlt
from catchment import materialize
from catchment_dlt import dlt_assets
from dlt.common.runtime.telemetry import is_telemetry_started

@dlt.source(name="tiny")
def tiny():
    return dlt.resource([{{"id": 1}}], name="numbers")

d = dlt_assets(tiny(), project_root={str(tmp_path)!r})
result = materialize([d])
print(result.success, os.environ.get("RUNTIME__DLTHUB_TELEMETRY"), is_telemetry_started())
"""
    env = {k: v for k, v in os.environ.items() if k != "RUNTIME__DLTHUB_TELEMETRY"}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "false", "False"]
    assert (tmp_path / "warehouse.duckdb").exists()


def test_a_user_setting_wins() -> None:
    code = "import os, catchment_dlt; print(os.environ['RUNTIME__DLTHUB_TELEMETRY'])"
    env = {**os.environ, "RUNTIME__DLTHUB_TELEMETRY": "true"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert out.stdout.strip() == "true"

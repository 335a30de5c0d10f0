"""`catchment daemon --once` for cron and CI: it always says what its step did, and exits 1
when a tick failed."""

from __future__ import annotations

from pathlib import Path

from catchment.cli.main import app
from typer.testing import CliRunner

from tests.core.daemon.conftest import write_project

RAISING = """\
sensors:
  - name: broken
    function: sensors.py:raising
    assets: [a]
"""


def test_once_with_nothing_due_still_says_what_it_did(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p")
    result = CliRunner().invoke(app, ["daemon", "-p", str(root), "--once"])
    assert result.exit_code == 0, result.output
    assert "one step:" in result.stdout
    assert "0 run(s) started" in result.stdout
    assert "0 failed" in result.stdout


def test_once_exits_1_when_a_sensor_tick_failed(tmp_path: Path) -> None:
    root = write_project(tmp_path / "p", RAISING)
    result = CliRunner().invoke(app, ["daemon", "-p", str(root), "--once"])
    assert result.exit_code == 1, result.output
    assert "sensor broken failure" in result.stdout
    assert "1 failed" in result.stdout

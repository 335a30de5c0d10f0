"""The test suite's own time limit: a hung test fails in minutes (not CI's 90), the session
goes on, and the processes the hung test left behind are killed."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

HUNG_TEST = '''
import subprocess, sys

SPAWNER = """
import subprocess, sys, time
grandchild = subprocess.Popen(
    [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True
)
open(sys.argv[1], "w").write(str(grandchild.pid))
time.sleep(120)
"""

def test_hangs(tmp_path):
    subprocess.run([sys.executable, "-c", SPAWNER, "{pidfile}"]{run_timeout})

def test_after():
    assert True
'''


def _dead(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def test_every_test_has_a_generous_default_limit() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    assert config["timeout"] == 300
    assert config["timeout_method"] == "signal"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="uses /proc and a subreaper")
@pytest.mark.parametrize(
    ("run_timeout", "failure"),
    [("", "Timeout"), (", timeout=1", "TimeoutExpired")],
    ids=["pytest-timeout", "subprocess-timeout"],
)
def test_a_hung_test_fails_alone_and_leaves_no_process(
    tmp_path: Path, run_timeout: str, failure: str
) -> None:
    """Whether pytest-timeout stops the test or its own ``subprocess.run(timeout=...)`` does
    (which kills the child and orphans what the child started), nothing is left running."""
    pidfile = tmp_path / "grandchild.pid"
    test_file = tmp_path / "test_hung.py"
    source = textwrap.dedent(HUNG_TEST).replace("{pidfile}", str(pidfile))
    test_file.write_text(source.replace("{run_timeout}", run_timeout))
    start = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(test_file),
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "-p",
            "conftest",
            "-o",
            "timeout=2",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert time.monotonic() - start < 60
    assert "1 failed, 1 passed" in proc.stdout, proc.stdout + proc.stderr
    assert failure in proc.stdout
    pid = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while not _dead(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _dead(pid), "the hung test's orphaned grandchild must be killed"

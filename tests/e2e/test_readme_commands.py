"""The README's first command, `bash scripts/example.sh`, in a fresh clone of the repository.

The clone sees only committed files and builds its own `.venv` (reusing uv's download cache),
as a new machine would. Only example.sh runs there: scripts/test.sh would run this test again.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import REPO

pytestmark = pytest.mark.slow

COMMANDS = ("bash scripts/example.sh", "bash scripts/test.sh")


def test_the_readme_names_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    for command in COMMANDS:
        assert f"\n{command}" in readme, f"README.md no longer shows `{command}`"


def _clean_env() -> dict[str, str]:
    """This process's environment without what points at this checkout or limits catchment."""
    venv_bin = str(REPO / ".venv" / "bin")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("CATCHMENT_") and k not in {"VIRTUAL_ENV", "PYTHONPATH", "PG_URL"}
    }
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and p != venv_bin
    )
    env["CI"] = "true"
    return env


# bootstraps a fresh clone's venv, then runs every tool (its own limit: 1800 s)
@pytest.mark.timeout(2400)
def test_example_sh_runs_the_example_end_to_end_in_a_fresh_clone(tmp_path: Path) -> None:
    clone = tmp_path / "catchment"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True, timeout=300)
    done = subprocess.run(
        ["bash", "scripts/example.sh"],
        cwd=clone,
        env=_clean_env(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, f"--- stdout\n{out[-8000:]}\n--- stderr\n{done.stderr[-8000:]}"
    assert (clone / ".venv" / "bin" / "catchment").is_file()  # its own environment
    assert re.search(r"^OK platform: \d+ assets", out, re.M), out[-3000:]
    run = re.search(r"^run \w+ succeeded: (\d+) materialized, 0 failed, 0 skipped", out, re.M)
    assert run, out[-3000:]
    plan = re.search(r"^0 missing, 0 stale, (\d+) fresh", out, re.M)
    assert plan, out[-3000:]
    assert int(plan.group(1)) >= int(run.group(1)) > 0
    assert (clone / "examples" / "platform" / "warehouse.duckdb").is_file()
    assert (clone / "examples" / "platform" / ".catchment" / "runs.db").is_file()

"""`catchment new project` writes a project that checks, runs and is fresh afterwards."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# CATCHMENT_ADAPTERS=builtin: the project uses only the built-in python component.


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "catchment", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "CATCHMENT_ADAPTERS": "builtin"},
    )


@pytest.mark.slow
def test_a_new_project_checks_materializes_and_is_fresh(tmp_path: Path) -> None:
    made = _cli(tmp_path, "new", "project", "analytics")
    assert made.returncode == 0, made.stderr
    root = tmp_path / "analytics"
    assert _cli(root, "check").returncode == 0
    run = _cli(root, "materialize")
    assert run.returncode == 0, run.stdout + run.stderr
    plan = json.loads(_cli(root, "plan", "--json").stdout)
    assert {r["key"]: r["state"] for r in plan} == {"numbers": "fresh", "doubled": "fresh"}


def test_new_project_refuses_a_folder_in_use(tmp_path: Path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    out = _cli(tmp_path, "new", "project", "busy")
    assert out.returncode == 1
    assert "not an empty folder" in out.stderr
    assert (tmp_path / "busy" / "notes.txt").read_text() == "mine"


def test_a_project_made_inside_another_says_it_is_separate(tmp_path: Path) -> None:
    """A project created in a project's folder is not part of it: the note says so and where
    to run its commands; a project made elsewhere gets no such note."""
    assert _cli(tmp_path, "new", "project", "outer").returncode == 0
    inner = _cli(tmp_path / "outer", "new", "project", "inner")
    assert inner.returncode == 0, inner.stderr
    assert f"inside the project at {(tmp_path / 'outer').resolve()}" in inner.stdout
    assert "separate project" in inner.stdout
    assert "inside the project" not in _cli(tmp_path, "new", "project", "alone").stdout


def test_new_project_rejects_a_bad_name(tmp_path: Path) -> None:
    out = _cli(tmp_path, "new", "project", "My Project")
    assert out.returncode == 1
    assert "invalid project name" in out.stderr


def test_a_missing_dataframe_library_names_the_extra(tmp_path: Path) -> None:
    """The scaffold without pandas: materialize exits 1 and names `catchment[pandas]`."""
    from catchment.testing import run_cli

    assert run_cli(["new", "project", "p"], cwd=tmp_path).returncode == 0
    blocker = tmp_path / "blocker"
    blocker.mkdir()
    (blocker / "pandas.py").write_text("raise ModuleNotFoundError(name='pandas')\n")
    env = {"PYTHONPATH": str(blocker), "CATCHMENT_DEBUG": ""}
    done = run_cli(["materialize"], cwd=tmp_path / "p", env=env)
    assert done.returncode == 1, done.output
    assert "pip install 'catchment[pandas]'" in done.stderr

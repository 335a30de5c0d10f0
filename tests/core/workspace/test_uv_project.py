"""A project run with ``uv run --project``: uv makes its environment from its pyproject.toml
(the repo's core from its path, tinylib 2 from a local wheel), and the workspace loads and
runs it there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.workspace.conftest import PROJECT_YAML, REPO, UV, build_wheel

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]

ASSETS = """\
import tinylib

from catchment import AssetKey, MaterializeResult, asset


@asset
def mk_asset():
    return MaterializeResult(key=AssetKey("mk_asset"), metadata={"tinylib": tinylib.__version__})
"""


def test_a_uv_project_loads_and_runs_in_the_environment_uv_makes(tmp_path: Path) -> None:
    wheel = build_wheel(tmp_path / "wheels", "2.0.0")
    project = tmp_path / "mk"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        "[project]\nname = 'mk'\nversion = '0.1.0'\nrequires-python = '>=3.11'\n"
        "dependencies = ['catchment', 'tinylib']\n\n[tool.uv]\npackage = false\n\n"
        "[tool.uv.sources]\n"
        f"catchment = {{ path = '{REPO / 'core'}', editable = true }}\n"
        f"tinylib = {{ path = '{wheel}' }}\n"
    )
    (project / "catchment.yaml").write_text(PROJECT_YAML.format(name="mk"))
    (project / "assets.py").write_text(ASSETS)
    env = {**os.environ, "UV_PYTHON": sys.executable, "CATCHMENT_UV": str(UV)}
    sync = subprocess.run(
        [str(UV), "sync", "--quiet", "--project", str(project)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    if sync.returncode != 0 and "network" in sync.stderr.lower():
        pytest.skip(f"uv cannot reach the package index here: {sync.stderr[-300:]}")
    assert sync.returncode == 0, sync.stderr
    (tmp_path / "catchment.workspace.yaml").write_text(
        "workspace: {name: uvdemo}\nprojects:\n  - {path: mk, uv_project: mk, team: growth}\n"
    )

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "catchment", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )

    check = cli("check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "OK uvdemo: 1 asset in 1 project, 0 cross-project edges" in check.stdout
    run = cli("materialize")
    assert run.returncode == 0, run.stdout + run.stderr
    from catchment.storage import open_storage

    store = open_storage(f"sqlite:///{tmp_path / '.catchment' / 'runs.db'}")
    try:
        (record,) = store.latest_materializations().values()
    finally:
        store.close()
    assert record.metadata["tinylib"] == "2.0.0"

"""A project whose runs are recorded in PostgreSQL (127.0.0.1:5432), as the platform team
guide shows: materialize, list the run, and plan from the shared records."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

BASE = "postgresql://postgres@127.0.0.1:5432/postgres"

ASSETS = """
from catchment import asset


@asset(io_manager_key="files")
def numbers():
    return [1, 2, 3]


@asset(io_manager_key="files")
def total(numbers):
    return sum(numbers)
"""

PROJECT = """
project: {name: shared}
defaults:
  storage: "{{ env('CATCHMENT_STORAGE_URL') }}"
io_managers:
  files: {type: filesystem, config: {base_dir: .catchment/values}}
components:
  - {type: python, name: assets, attributes: {module: assets.py}}
"""


@pytest.fixture
def schema() -> Iterator[str]:
    psycopg = pytest.importorskip("psycopg")
    name = f"catchment_test_{uuid.uuid4().hex[:10]}"
    yield name
    with psycopg.connect(BASE, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')


def _cli(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"PATH": "/usr/bin:/bin", "CATCHMENT_STORAGE_URL": url, "CATCHMENT_ADAPTERS": "builtin"}
    return subprocess.run(
        [sys.executable, "-m", "catchment", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env=env,
    )


def test_runs_are_recorded_in_postgres(tmp_path: Path, schema: str) -> None:
    (tmp_path / "catchment.yaml").write_text(PROJECT)
    (tmp_path / "assets.py").write_text(ASSETS)
    url = f"{BASE}?schema={schema}"
    run = _cli(tmp_path, url, "materialize")
    assert run.returncode == 0, run.stdout + run.stderr
    assert not (tmp_path / ".catchment" / "runs.db").exists()  # nothing went to SQLite
    listed = _cli(tmp_path, url, "runs", "list")
    assert listed.returncode == 0, listed.stderr
    assert "success" in listed.stdout
    plan = json.loads(_cli(tmp_path, url, "plan", "--json").stdout)
    assert {r["key"]: r["state"] for r in plan} == {"numbers": "fresh", "total": "fresh"}

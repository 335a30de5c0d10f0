"""A dbt run is not an edit of the project: ``dbt build`` rewrites ``target/manifest.json``
(which the definitions snapshot's key keeps, the adapter may read it) from the manifest
catchment gave it, and the key keeps seeing the file as it was before the run. Editing a model
or the user's own ``dbt parse`` still changes it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from catchment.execution.project import run_project
from catchment.keys import AssetKey
from catchment.project import load_project
from catchment.snapshot import load_read_only

from .conftest import copy_jaffle

pytestmark = pytest.mark.slow

CATCHMENT_YAML = """
project:
  name: shop
defaults:
  warehouse: warehouse.duckdb
components:
  - type: dbt
    name: jaffle
    attributes:
      project_dir: jaffle
"""


def _parse_as_the_user(project_dir: Path, warehouse: Path) -> None:
    from catchment_dbt.runner import invoke

    args = ["parse", "--project-dir", str(project_dir), "--profiles-dir", "."]
    env = {"CATCHMENT_WAREHOUSE": str(warehouse)}
    assert invoke(args, project_dir=project_dir, env=env).success


def test_a_dbt_run_keeps_the_snapshot_and_an_edit_still_rebuilds_it(tmp_path: Path) -> None:
    jaffle = copy_jaffle(tmp_path)
    (tmp_path / "catchment.yaml").write_text(textwrap.dedent(CATCHMENT_YAML))
    jaffle.load_raw()
    _parse_as_the_user(jaffle.project_dir, jaffle.warehouse)  # the adapter reads target/'s
    manifest = jaffle.project_dir / "target" / "manifest.json"
    assert not load_read_only(tmp_path).from_snapshot
    assert load_read_only(tmp_path).from_snapshot

    before = manifest.stat()
    for _ in range(2):  # a second run rewrites what the first one wrote
        result = run_project(load_project(tmp_path), ["stg_customers", "customers"])
        assert AssetKey("customers") in result.materialized_keys
        assert manifest.stat().st_mtime_ns != before.st_mtime_ns  # dbt did rewrite it
        project = load_read_only(tmp_path)
        assert project.from_snapshot, "a dbt run was taken for an edit of the project"

    model = jaffle.project_dir / "models" / "staging" / "stg_customers.sql"
    model.write_text(model.read_text() + "\n-- edited\n")
    assert not load_read_only(tmp_path).from_snapshot
    assert load_read_only(tmp_path).from_snapshot

    _parse_as_the_user(jaffle.project_dir, jaffle.warehouse)  # not a catchment run: seen
    assert not load_read_only(tmp_path).from_snapshot

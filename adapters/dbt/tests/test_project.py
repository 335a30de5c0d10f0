"""Finding a manifest: fresh target/, cache by file hash, in-process parse, clear errors."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from catchment.errors import ConfigError
from catchment_dbt.project import DbtProject

from .conftest import Jaffle


def test_missing_project_dir_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="dbt project folder does not exist") as err:
        DbtProject(project_dir=tmp_path / "nope")
    assert err.value.where == str(tmp_path / "nope")
    assert "project_dir" in (err.value.hint or "")


@pytest.mark.slow
def test_parse_once_then_reuse_the_cache_until_a_file_changes(jaffle: Jaffle) -> None:
    env = {"CATCHMENT_WAREHOUSE": str(jaffle.warehouse)}
    project = DbtProject(project_dir=jaffle.project_dir, env=env, vars={"enable_broken": False})
    first = project.manifest_path()
    assert first.parent.parent == jaffle.project_dir / "target" / "catchment"
    stamp = first.stat().st_mtime_ns

    again = DbtProject(project_dir=jaffle.project_dir, env=env, vars={"enable_broken": False})
    assert again.manifest_path() == first
    assert first.stat().st_mtime_ns == stamp  # not parsed again

    model = jaffle.project_dir / "models" / "marts" / "fct_orders.sql"
    os.utime(model, (time.time() + 5, time.time() + 5))  # touched, same content
    assert (
        DbtProject(
            project_dir=jaffle.project_dir, env=env, vars={"enable_broken": False}
        ).manifest_path()
        == first
    )
    assert first.stat().st_mtime_ns == stamp

    model.write_text(model.read_text() + "\n-- edited\n")
    edited = DbtProject(project_dir=jaffle.project_dir, env=env, vars={"enable_broken": False})
    assert edited.manifest_path() == first
    assert first.stat().st_mtime_ns != stamp  # re-parsed
    nodes = edited.load_manifest().nodes
    assert "-- edited" not in str(nodes["model.jaffle.fct_orders"])  # raw code is not read
    assert nodes["model.jaffle.fct_orders"].checksum.checksum  # but the new checksum is


@pytest.mark.slow
def test_vars_change_the_manifest(jaffle: Jaffle) -> None:
    env = {"CATCHMENT_WAREHOUSE": str(jaffle.warehouse)}
    plain = DbtProject(project_dir=jaffle.project_dir, env=env).load_manifest()
    broken = DbtProject(
        project_dir=jaffle.project_dir, env=env, vars={"enable_broken": True}
    ).load_manifest()
    assert "model.jaffle.mart_broken" not in plain.nodes
    assert "model.jaffle.mart_broken" in broken.nodes


@pytest.mark.slow
def test_a_fresh_target_manifest_is_used_without_parsing(jaffle: Jaffle) -> None:
    env = {"CATCHMENT_WAREHOUSE": str(jaffle.warehouse)}
    cached = DbtProject(project_dir=jaffle.project_dir, env=env, vars={"x": 1}).manifest_path()
    own = jaffle.project_dir / "target" / "manifest.json"
    own.write_bytes(cached.read_bytes())
    assert DbtProject(project_dir=jaffle.project_dir, env=env).manifest_path() == own
    later = time.time() + 10
    os.utime(jaffle.project_dir / "models" / "staging" / "stg_orders.sql", (later, later))
    assert DbtProject(project_dir=jaffle.project_dir, env=env).manifest_path() != own


@pytest.mark.slow
def test_a_model_with_a_compile_error_names_its_file(jaffle: Jaffle) -> None:
    bad = jaffle.project_dir / "models" / "marts" / "bad_model.sql"
    bad.write_text("select * from {{ ref('stg_orders' }}\n")
    project = DbtProject(
        project_dir=jaffle.project_dir, env={"CATCHMENT_WAREHOUSE": str(jaffle.warehouse)}
    )
    with pytest.raises(ConfigError) as err:
        project.manifest_path()
    assert err.value.where == str(bad)
    assert "dbt could not parse the project" in err.value.message
    assert "\n" not in err.value.message

"""Profile targets: rendering like dbt, identity of relations per warehouse type."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.errors import ConfigError
from catchment.tables import duckdb_table, table
from catchment_dbt.profiles import load_target


def _project(tmp_path: Path, profiles: str) -> Path:
    (tmp_path / "dbt_project.yml").write_text("name: p\nprofile: p\n")
    (tmp_path / "profiles.yml").write_text(profiles)
    return tmp_path


DUCK = """
p:
  target: dev
  outputs:
    dev:
      type: duckdb
      path: "{{ env_var('WH', 'data/wh.duckdb') }}"
      password: "{{ env_var('SECRET_PW', 'hunter2') }}"
    snow: {type: snowflake, account: AB123.eu-west-1, database: ANALYTICS, schema: PUBLIC}
    pg: {type: postgres, host: db.internal, port: 5433, dbname: app, schema: public}
"""


def test_relative_duckdb_path_resolves_against_the_project(tmp_path: Path) -> None:
    project = _project(tmp_path, DUCK)
    target = load_target(project, project, profile=None, target=None, env={})
    assert target.relation("wh", "main", "orders") == duckdb_table(
        project / "data" / "wh.duckdb", "orders", schema="main"
    )


def test_env_var_is_rendered_and_secrets_are_not_kept(tmp_path: Path) -> None:
    project = _project(tmp_path, DUCK)
    target = load_target(project, project, profile=None, target=None, env={"WH": "/x/y.duckdb"})
    assert target.fields["path"] == "/x/y.duckdb"
    assert "password" not in target.fields
    assert "hunter2" not in repr(target)


def test_snowflake_and_postgres_identities(tmp_path: Path) -> None:
    project = _project(tmp_path, DUCK)
    snow = load_target(project, project, profile=None, target="snow", env={})
    assert snow.relation("ANALYTICS", "PUBLIC", "ORDERS") == table(
        "snowflake", "orders", schema="public", database="analytics", location="ab123.eu-west-1"
    )
    pg = load_target(project, project, profile=None, target="pg", env={})
    assert pg.relation("app", "public", "orders").location == "db.internal:5433"


def test_unknown_target_lists_the_defined_ones(tmp_path: Path) -> None:
    project = _project(tmp_path, DUCK)
    with pytest.raises(ConfigError, match="target 'prod' is not defined") as err:
        load_target(project, project, profile=None, target="prod", env={})
    assert err.value.where == str(project / "profiles.yml")
    assert "dev" in (err.value.hint or "")


def test_missing_profiles_file_names_it(tmp_path: Path) -> None:
    (tmp_path / "dbt_project.yml").write_text("name: p\nprofile: p\n")
    with pytest.raises(ConfigError, match=r"profiles\.yml not found") as err:
        load_target(tmp_path, tmp_path / "nowhere", profile=None, target=None, env={})
    assert err.value.where == str(tmp_path / "nowhere" / "profiles.yml")

"""Observation of Snowflake objects through the CLI, on fakesnow (Snowflake's cloud cannot be
reached here; the real connector API talks to fakesnow inside ``fakesnow.patch()``): a
dropped table is missing and `apply` rebuilds it and its downstream view; a column added by
hand is drift; stages and file formats are not mistaken for missing tables."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fakesnow
import pytest
from catchment.tables import table
from catchment_snowflake.observe import SnowflakeObserver
from catchment_snowflake.resource import SnowflakeResource

from .test_project import LOADERS, PROJECT, cli

NOPS = [r"CREATE (OR REPLACE )?FILE FORMAT .*"]


@pytest.fixture
def project(project_root: Path, monkeypatch: pytest.MonkeyPatch, password: str) -> Path:
    (project_root / "catchment.yaml").write_text(PROJECT)
    (project_root / "loaders.py").write_text(LOADERS)
    monkeypatch.setenv("SF_TEST_PASSWORD", password)
    return project_root


def _plan(root: Path) -> dict[str, Any]:
    result = cli(root, "plan", "--json", "--observe-ttl", "0")
    assert result.exit_code == 0, result.output
    return {s["key"]: s for s in json.loads(result.output)}


def test_a_dropped_table_is_missing_and_rebuilt_with_its_view(
    project: Path, run_sql: Any, password: str
) -> None:
    with fakesnow.patch(nop_regexes=NOPS):
        assert cli(project, "materialize").exit_code == 0
        assert {s["state"] for s in _plan(project).values()} == {"fresh"}
        run_sql("DROP TABLE ANALYTICS.RAW.ORDERS")
        plan = _plan(project)
        assert plan["raw/orders"]["state"] == "missing"
        assert plan["raw/orders"]["reasons"] == ["table gone (analytics.raw.orders not found)"]
        assert plan["marts/big_orders"]["state"] == "stale"
        assert plan["raw/csv_format"]["state"] == plan["raw/landing"]["state"] == "fresh"
        applied = cli(project, "apply")
        assert applied.exit_code == 0, applied.output
        assert "applying 2 asset(s): raw/orders, marts/big_orders" in applied.output
        assert run_sql("SELECT count(*) FROM ANALYTICS.MARTS.BIG_ORDERS") == [(2,)]
        assert {s["state"] for s in _plan(project).values()} == {"fresh"}

        run_sql("ALTER TABLE ANALYTICS.RAW.AUDIT ADD COLUMN SNEAKY VARCHAR")
        (reason,) = _plan(project)["raw/audit"]["reasons"]
        assert reason == "drifted (columns differ from what the code produced: added sneaky)"
        observed = cli(project, "observe", "--json")
        assert observed.exit_code == 0, observed.output
        assert password not in observed.output + applied.output


def test_the_observer_reads_rows_and_columns_in_one_session(resource: SnowflakeResource) -> None:
    with fakesnow.patch():
        with resource.connect() as conn:
            conn.cursor().execute("CREATE SCHEMA IF NOT EXISTS ANALYTICS.RAW")
            conn.cursor().execute("CREATE TABLE ANALYTICS.RAW.T AS SELECT 1 AS ID")
        t = table("snowflake", "t", schema="raw", database="analytics", location="acme-prod")
        nope = table("snowflake", "nope", schema="raw", database="analytics", location="acme-prod")
        stage = table("snowflake", "st", schema="raw", database="analytics", location="acme-prod")
        found = SnowflakeObserver(resource, skip=frozenset({stage})).observe([t, nope, stage])
        assert found[t].row_count == 1
        assert found[t].columns == {
            "id": "INTEGER"
        }  # fakesnow keeps CTAS types as DuckDB names them
        assert found[nope].exists is False
        assert stage not in found


def test_a_sql_source_can_run_its_query_on_the_snowflake_resource(
    resource: SnowflakeResource, tmp_path: Path
) -> None:
    """``observe: {sql: ..., resource: NAME}`` on this resource: its ``connect()`` session runs
    the query; a changed row changes the data version."""
    from catchment.observers.sources import observe_source

    how = {"sql": "SELECT max(ID) FROM ANALYTICS.RAW.SRC", "resource": "sf"}
    with fakesnow.patch():
        with resource.connect() as conn:
            conn.cursor().execute("CREATE SCHEMA IF NOT EXISTS ANALYTICS.RAW")
            conn.cursor().execute("CREATE TABLE ANALYTICS.RAW.SRC AS SELECT 1 AS ID")
        before = observe_source(how, tmp_path, {"sf": resource})
        assert before.exists is True
        again = observe_source(how, tmp_path, {"sf": resource})
        assert again.data_version == before.data_version  # the same data: the same version
        with resource.connect() as conn:
            conn.cursor().execute("INSERT INTO ANALYTICS.RAW.SRC VALUES (2)")
        after = observe_source(how, tmp_path, {"sf": resource})
        assert after.data_version != before.data_version

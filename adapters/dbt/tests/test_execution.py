"""Running the real jaffle project through catchment's engine: exact subsets, checks,
failures attributed to their model, downstream skips, partition windows as vars."""

from __future__ import annotations

import textwrap
from pathlib import Path

import duckdb
import pytest
from catchment.execution.api import materialize
from catchment.execution.project import run_project
from catchment.execution.result import ExecutionResult
from catchment.keys import AssetKey
from catchment.project import Project, load_project
from catchment_dbt import dbt_assets

from .conftest import FIXTURE, Jaffle, copy_jaffle

pytestmark = pytest.mark.slow

RAW_MODULE = f'''
"""Loads the raw tables the jaffle dbt sources read, through the DuckDB IO manager."""
import importlib.util

import pandas as pd

from catchment import asset

_spec = importlib.util.spec_from_file_location("jaffle_raw", {str(FIXTURE / "load_raw.py")!r})
_raw = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_raw)


@asset(key="raw/orders")
def orders() -> pd.DataFrame:
    cols = ["order_id", "customer_id", "product_id", "order_date", "status", "quantity",
            "updated_at"]
    frame = pd.DataFrame(_raw._orders(1), columns=cols)
    frame["order_date"] = pd.to_datetime(frame["order_date"]).dt.date
    return frame


@asset(key="raw/payments")
def payments() -> pd.DataFrame:
    cols = ["payment_id", "order_id", "payment_method", "amount_cents", "created_at"]
    return pd.DataFrame(_raw._payments(_raw._orders(1)), columns=cols)
'''

CATCHMENT_YAML = """
project:
  name: shop
components:
  - type: python
    name: loaders
    attributes:
      module: pipelines/raw.py
  - type: dbt
    name: jaffle
    attributes:
      project_dir: jaffle
      vars: {enable_broken: true}
  - type: dbt
    name: ghost
    attributes:
      project_dir: no_such_dbt_project
"""


def _write_project(root: Path) -> Path:
    copy_jaffle(root)
    (root / "pipelines").mkdir()
    (root / "pipelines" / "raw.py").write_text(RAW_MODULE)
    (root / "catchment.yaml").write_text(textwrap.dedent(CATCHMENT_YAML))
    return root


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Project:
    return load_project(_write_project(tmp_path_factory.mktemp("shop")))


@pytest.fixture(scope="module")
def full_run(shop: Project) -> ExecutionResult:
    return run_project(shop)


def test_a_broken_component_does_not_stop_the_others(shop: Project) -> None:
    ghost = [p for p in shop.problems if "ghost" in p.where or "ghost" in p.message]
    assert len(ghost) == 1
    assert "dbt project folder does not exist" in ghost[0].message
    assert shop.graph is not None
    assert AssetKey("stg_orders") in shop.graph
    assert AssetKey("raw/orders") in shop.graph


def test_dbt_sources_link_to_the_python_loader(shop: Project) -> None:
    graph = shop.require_graph()
    assert graph.upstream(AssetKey("stg_orders")) == {AssetKey("raw/orders")}
    assert graph.upstream(AssetKey("stg_payments")) == {AssetKey("raw/payments")}
    assert AssetKey("orders_snapshot") in graph.downstream(AssetKey("raw/orders"))
    assert not any(graph.is_external(k) for k in graph.specs)


def test_the_failing_model_fails_alone_and_its_child_is_skipped(
    shop: Project, full_run: ExecutionResult
) -> None:
    assert full_run.status_of("mart_broken") == "failed"
    failure = next(e for e in full_run.failures if e.asset_key == "mart_broken")
    assert failure.data["where"] == str(
        shop.root / "jaffle" / "models" / "marts" / "mart_broken.sql"
    )
    assert "mart_broken fails on purpose" in failure.data["message"]
    assert full_run.status_of("mart_broken_child") == "skipped"
    others = [
        k for k in shop.require_graph().specs if k.name not in {"mart_broken", "mart_broken_child"}
    ]
    assert others
    assert {full_run.status_of(k) for k in others} == {"success"}


def test_tests_are_check_results_and_unit_tests_wait_to_be_asked(full_run: ExecutionResult) -> None:
    results = {(r.asset_key.to_string(), r.check_name): r for r in full_run.check_results}
    warn = next(r for (a, n), r in results.items() if n.startswith("accepted_values_stg_orders"))
    assert (warn.passed, warn.severity, warn.metadata["failures"]) == (False, "warn", 1)
    assert results[("fct_orders", "assert_payments_cover_order_amounts")].passed
    assert results[("stg_orders", "unique_stg_orders_order_id")].passed
    assert not any(r.metadata.get("dbt_status") is None for r in results.values())
    assert not [n for (_, n) in results if n.startswith("test_stg_payments")]  # unit test


def test_materializations_carry_dbt_metadata(shop: Project, full_run: ExecutionResult) -> None:
    by_key = {e.asset_key: e.data["metadata"] for e in full_run.materializations}
    seed = by_key["customers"]
    assert seed["rows_affected"] == 8
    assert seed["execution_time"] >= 0
    fct = by_key["fct_orders"]
    assert fct["relation"] == '"warehouse"."main"."fct_orders"'
    assert Path(fct["compiled_code_path"]).is_file()
    with duckdb.connect(str(shop.defaults.warehouse)) as con:
        assert con.execute("select count(*) from main.fct_orders").fetchone() == (20,)


def test_a_subset_runs_exactly_that_subset(jaffle: Jaffle, monkeypatch: pytest.MonkeyPatch) -> None:
    jaffle.load_raw()
    monkeypatch.setenv("CATCHMENT_DBT_UNIT_TESTS", "1")
    d = dbt_assets(jaffle.project_dir, warehouse=jaffle.warehouse)
    result = materialize([d], selection=["stg_orders", "stg_payments"])
    assert sorted(k.to_string() for k in result.materialized_keys) == ["stg_orders", "stg_payments"]
    checked = {r.asset_key.to_string() for r in result.check_results}
    assert checked == {"stg_orders", "stg_payments"}
    names = {r.check_name for r in result.check_results}
    assert "test_stg_payments_converts_cents_and_normalizes_method" in names  # asked for
    with duckdb.connect(str(jaffle.warehouse)) as con:
        tables = {
            r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
        }
    assert {"stg_orders", "stg_payments", "orders", "payments"} <= tables
    assert not tables & {"fct_orders", "customers", "stg_order_lines", "orders_snapshot"}


def test_a_partition_window_reaches_dbt_as_vars(tmp_path: Path) -> None:
    jaffle = copy_jaffle(tmp_path)
    jaffle.load_raw()
    d = dbt_assets(
        jaffle.project_dir,
        warehouse=jaffle.warehouse,
        partitions={"start": "2024-01-01", "end": "2024-01-11", "models": ["fct_daily_revenue"]},
    )
    spec = next(s for s in d.specs if s.key == AssetKey("fct_daily_revenue"))
    assert spec.partitions is not None
    upstream = [k for k in d.keys if k.name != "fct_daily_revenue"]
    materialize([d], selection=upstream)
    result = materialize([d], selection=["fct_daily_revenue"], partition="2024-01-03...2024-01-04")
    assert result.materialized_keys == [AssetKey("fct_daily_revenue")]
    with duckdb.connect(str(jaffle.warehouse)) as con:
        days = con.execute(
            "select order_date::varchar from fct_daily_revenue order by 1"
        ).fetchall()
    assert [d[0] for d in days] == ["2024-01-03", "2024-01-04"]


def test_runs_from_a_manifest_the_user_parsed(jaffle: Jaffle) -> None:
    from catchment_dbt.runner import invoke

    env = {"CATCHMENT_WAREHOUSE": str(jaffle.warehouse)}
    args = ["parse", "--project-dir", str(jaffle.project_dir), "--profiles-dir", "."]
    assert invoke(args, project_dir=jaffle.project_dir, env=env).success
    jaffle.load_raw()
    d = dbt_assets(jaffle.project_dir, warehouse=jaffle.warehouse)
    assert d.metadata["dbt_manifest"] == str(jaffle.project_dir / "target" / "manifest.json")
    result = materialize([d], selection=["customers"])
    assert result.materialized_keys == [AssetKey("customers")]
    assert sorted((r.check_name, r.passed) for r in result.check_results) == [
        ("not_null_customers_customer_id", True),
        ("unique_customers_customer_id", True),
    ]


def test_the_warehouse_is_released_after_a_dbt_step(jaffle: Jaffle) -> None:
    """Another process (a Sling stream, a spark-submit job) must be able to open the DuckDB
    warehouse as soon as the dbt step is over, while this process lives on."""
    import subprocess
    import sys

    jaffle.load_raw()
    d = dbt_assets(jaffle.project_dir, warehouse=jaffle.warehouse)
    assert materialize([d], selection=["stg_orders"]).success
    probe = f"import duckdb; duckdb.connect({str(jaffle.warehouse)!r}).close(); print('opened')"
    other = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert other.stdout.strip() == "opened", other.stderr[-300:]

"""spark-submit script jobs declared in catchment.yaml, run by the real engine, reporting over
catchment pipes (each test starts its own Spark driver JVM)."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from catchment.execution.project import run_project
from catchment.keys import AssetKey
from catchment.project import load_project
from catchment.tables import duckdb_table

from .conftest import FIXTURES

pytestmark = pytest.mark.slow

ORDERS_MODULE = """
import pandas as pd
from catchment import asset

@asset
def orders():
    return pd.DataFrame({
        "day": ["2026-01-01", "2026-01-01", "2026-01-02"],
        "customer": ["a", "b", "c"],
        "amount": [10.0, 5.0, 7.5],
    })
"""


def make_project(root: Path, script: str) -> Path:
    (root / "jobs").mkdir(parents=True)
    shutil.copy(FIXTURES / "jobs" / script, root / "jobs" / script)
    (root / "pipelines.py").write_text(ORDERS_MODULE)
    (root / "catchment.yaml").write_text(
        textwrap.dedent(
            f"""
            project:
              name: spark_test
            components:
              - type: python
                name: sources
                attributes:
                  module: pipelines.py
              - type: spark
                name: spark_jobs
                attributes:
                  master: local[1]
                  conf:
                    spark.sql.shuffle.partitions: "2"
                  jobs:
                    - name: revenue
                      script: jobs/{script}
                      group: finance
                      owners: [data@example.com]
                      inputs:
                        - duckdb: main.orders
                      outputs:
                        - key: spark/revenue_daily
                          path: data/spark/revenue_daily
                          checks:
                            - name: revenue_not_negative
                        - key: spark/top_customers
                          path: data/spark/top_customers
            """
        )
    )
    return root


def test_a_script_reports_two_materializations_and_a_check(tmp_path, spark):
    project = load_project(make_project(tmp_path / "p", "revenue.py"))
    assert project.problems == []
    graph = project.require_graph()
    # the job's DuckDB read links to the python asset the DuckDB IO manager writes
    assert graph.upstream(AssetKey("spark/revenue_daily")) == {AssetKey("orders")}
    assert graph.specs[AssetKey("orders")].table == duckdb_table(
        project.defaults.warehouse, "orders"
    )

    result = run_project(project)

    assert result.success, result.failures
    assert result.status_of("spark/revenue_daily") == "success"
    assert result.status_of("spark/top_customers") == "success"
    by_key = {e.asset_key: e for e in result.materializations}
    assert by_key["spark/revenue_daily"].data["metadata"]["rows"] == 2
    [check] = result.check_results
    assert (check.check_name, check.passed) == ("revenue_not_negative", True)
    assert check.metadata == {"negative_days": 0}
    daily = spark.read.parquet(str(project.root / "data/spark/revenue_daily")).orderBy("day")
    assert [(r.day, r.revenue) for r in daily.collect()] == [
        ("2026-01-01", 15.0),
        ("2026-01-02", 7.5),
    ]
    logs = [e.data.get("message", "") for e in result.events if e.type == "log"]
    assert any("read 3 orders" in m for m in logs)


def test_a_script_that_crashes_before_reporting_fails_its_assets_with_the_reason(tmp_path):
    project = load_project(make_project(tmp_path / "p", "crash.py"))
    result = run_project(project)

    assert not result.success
    assert result.status_of("orders") == "success"
    failures = {e.asset_key: e for e in result.failures if e.asset_key}
    assert set(failures) == {"spark/revenue_daily", "spark/top_customers"}
    for event in failures.values():
        message = event.data["message"]
        assert "spark-submit crash.py exited with code 1 before opening" in message
        assert "RuntimeError: input bucket s3://nowhere is not reachable" in message
        assert "input bucket s3://nowhere is not reachable" in event.data["output"]
    assert [e.asset_key for e in result.materializations] == ["orders"]

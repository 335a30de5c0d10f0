"""A Modal function that reads a dbt mart's table sits downstream of that dbt model, with no
key alignment by hand: the real dbt adapter on the jaffle fixture project, then a real run."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import duckdb
import pytest
from catchment.execution.project import run_project
from catchment.keys import AssetKey
from catchment.project import load_project
from catchment.tables import duckdb_table

from .conftest import APP_FILE

pytestmark = pytest.mark.slow

JAFFLE = Path(__file__).resolve().parents[2] / "dbt" / "tests" / "fixtures" / "jaffle"

CATCHMENT_YAML = """\
project:
  name: shop
components:
  - type: dbt
    name: jaffle
    attributes:
      project_dir: jaffle
  - type: modal
    name: ml_jobs
    attributes:
      app: jobs/shop_app.py:app
      functions: [score_customers]
"""


def _load_raw(warehouse: Path) -> None:
    spec = importlib.util.spec_from_file_location("jaffle_load_raw", JAFFLE / "load_raw.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.load_raw(str(warehouse), 1)


def test_a_modal_function_reading_a_dbt_mart_runs_downstream_of_it(tmp_path: Path) -> None:
    pytest.importorskip("catchment_dbt")
    assert (JAFFLE / "dbt_project.yml").is_file()
    shutil.copytree(JAFFLE, tmp_path / "jaffle", ignore=shutil.ignore_patterns("target", "logs"))
    (tmp_path / "jobs").mkdir()
    shutil.copy(APP_FILE, tmp_path / "jobs" / "shop_app.py")
    (tmp_path / "catchment.yaml").write_text(CATCHMENT_YAML)

    project = load_project(tmp_path)
    assert project.problems == []
    graph = project.require_graph()
    mart, scores = AssetKey("mart_customer_ltv"), AssetKey("ml/customer_scores")
    mart_defn = graph.definition_of(mart)
    assert mart_defn is not None
    assert mart_defn.adapter == "dbt"
    assert graph.specs[mart].table == duckdb_table(
        project.defaults.warehouse, "mart_customer_ltv", schema="main"
    )
    assert graph.upstream(scores) == {mart}
    assert scores in graph.descendants([AssetKey("stg_orders")])
    order = graph.toposort()
    assert order.index(mart) < order.index(scores)

    _load_raw(project.defaults.warehouse)
    result = run_project(project, selection="+ml/customer_scores")
    assert result.success
    assert result.status_of("mart_customer_ltv") == "success"
    event = next(e for e in result.materializations if e.asset_key == "ml/customer_scores")
    with duckdb.connect(str(project.defaults.warehouse)) as con:
        customers = con.execute("select count(*) from main.mart_customer_ltv").fetchone()
    assert customers is not None
    assert event.data["metadata"]["rows"] == customers[0] > 0

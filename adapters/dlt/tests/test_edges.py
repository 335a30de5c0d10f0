"""Edges discovery adds: a transformer on its parent resource, and overrides' ``deps`` and
``reads`` (issue 25), with real dlt into DuckDB."""

from __future__ import annotations

import shutil

import pytest
from catchment.execution.project import run_project
from catchment.keys import AssetKey

from .conftest import FIXTURES, ShopProject, load

pytestmark = pytest.mark.slow


def _crm_yaml(shop: ShopProject, overrides: dict | None = None) -> str:
    import yaml

    shutil.copy(FIXTURES / "crm" / "crm_sources.py", shop.root / "crm_sources.py")
    attrs: dict = {"source": "crm_sources.py:crm", "dataset_name": "crm"}
    if overrides:
        attrs["overrides"] = overrides
    components = [
        {"type": "dlt", "name": "crm", "attributes": attrs},
        {"type": "python", "name": "extras", "attributes": {"module": "extras.py"}},
    ]
    (shop.root / "extras.py").write_text(
        "import pandas as pd\nfrom catchment import asset\n\n\n@asset(key='ref/regions')\n"
        "def regions():\n    return pd.DataFrame({'region': ['eu']})\n"
    )
    return yaml.safe_dump({"project": {"name": "crm"}, "components": components})


def test_a_transformer_depends_on_its_parent_resource(shop: ShopProject) -> None:
    project = load(shop, _crm_yaml(shop))
    assert project.problems == []
    graph = project.require_graph()
    assert graph.upstream(AssetKey("crm/user_details")) == {AssetKey("crm/users")}
    assert graph.upstream(AssetKey("crm/plans")) == set()
    result = run_project(project, "crm/user_details")
    assert result.success, result.failures
    assert shop.query("select id, score from crm.user_details order by id") == [(1, 10), (2, 20)]


def test_overrides_add_deps_and_reads(shop: ShopProject) -> None:
    overrides = {
        "plans": {"deps": ["ref/regions"], "reads": ["crm.users"]},
        "users": {"deps": [f"duckdb://{shop.warehouse}/warehouse.main.regions_seed"]},
    }
    project = load(shop, _crm_yaml(shop, overrides))
    assert project.problems == []
    graph = project.require_graph()
    # a key dep, and a read of the table crm/users writes in the same warehouse
    assert graph.upstream(AssetKey("crm/plans")) == {AssetKey("ref/regions"), AssetKey("crm/users")}
    # a table nobody writes becomes an external source asset
    [external] = graph.upstream(AssetKey("crm/users"))
    assert graph.is_external(external)
    result = run_project(project, "crm/plans or ref/regions")
    assert result.success, result.failures


def test_an_override_with_a_bad_table_names_the_field(shop: ShopProject) -> None:
    project = load(shop, _crm_yaml(shop, {"plans": {"reads": ["a.b.c.d"]}}))
    [problem] = project.problems
    assert "'a.b.c.d' is not a table" in problem.message
    assert "overrides.plans" in problem.message or "overrides.plans" in problem.where

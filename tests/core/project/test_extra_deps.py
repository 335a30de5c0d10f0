"""Every component's ``assets:`` entries accept ``deps`` and ``reads`` (issue 25): upstreams a
tool cannot see, as asset keys or tables, whatever adapter built the asset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from catchment import AssetKey
from catchment.errors import ConfigError
from catchment.extra_deps import parse_table_text
from catchment.plugins import PluginRegistry
from catchment.project import load_project
from catchment.tables import duckdb_table, table

WriteProject = Callable[..., Path]

PROJECT = """project: {name: shop}
components:
  - type: python
    name: marts
    attributes: {module: marts.py}
  - type: python
    name: egress
    attributes: {module: egress.py}
    assets:
      "exports/*":
        deps: [marts/orders]
      exports/report:
        reads: [main.customers, "postgres://db.internal:5432/crm.public.accounts"]
"""

MARTS = """
from pathlib import Path

from catchment import asset, duckdb_table

WAREHOUSE = Path(__file__).parent / "warehouse.duckdb"


@asset(key="marts/orders")
def orders():
    return 1


@asset(key="marts/customers", table=duckdb_table(WAREHOUSE, "customers"))
def customers():
    return 1
"""

EGRESS = """
from catchment import asset

@asset(key="exports/orders_csv")
def orders_csv():
    return 1

@asset(key="exports/report")
def report():
    return 1
"""


def test_assets_entries_add_deps_and_reads(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(PROJECT, {"marts.py": MARTS, "egress.py": EGRESS})
    project = load_project(root, registry=registry)
    assert project.problems == []
    graph = project.require_graph()
    assert graph.upstream(AssetKey("exports/orders_csv")) == {AssetKey("marts/orders")}
    ups = graph.upstream(AssetKey("exports/report"))
    # the key dep (glob), the warehouse table marts/customers writes, an external table
    assert AssetKey("marts/orders") in ups
    assert AssetKey("marts/customers") in ups
    [external] = [k for k in ups if graph.is_external(k)]
    assert graph.specs[external].table == table(
        "postgres", "accounts", schema="public", database="crm", location="db.internal:5432"
    )


def test_a_bad_table_is_a_problem_naming_the_line(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    text = PROJECT.replace("main.customers", "a.b.c.d")
    root = write_project(text, {"marts.py": MARTS, "egress.py": EGRESS})
    [problem] = load_project(root, registry=registry).problems
    assert "'a.b.c.d' is not a table" in problem.message
    assert "catchment.yaml:" in problem.where


def test_table_text_forms(tmp_path: Path) -> None:
    wh = tmp_path / "warehouse.duckdb"
    assert parse_table_text("raw.orders", wh) == duckdb_table(wh, "orders", schema="raw")
    assert parse_table_text("orders", wh) == duckdb_table(wh, "orders")
    text = str(duckdb_table(wh, "orders", schema="raw"))
    assert parse_table_text(text, wh) == duckdb_table(wh, "orders", schema="raw")  # round trip
    with pytest.raises(ConfigError, match="is not a table"):
        parse_table_text("raw..orders", wh)

"""`catchment assets list`: selection, JSON shape, table, and a graph that cannot be built."""

from __future__ import annotations

import json
from pathlib import Path

from catchment.cli.main import app
from typer.testing import CliRunner

ASSETS = """
from catchment import asset, asset_check, table

@asset(group="sales", owners=["ana"], reads=[table("postgres", "orders", location="db:5432")])
def orders():
    "Orders, cleaned."
    return [1]

@asset(group="finance")
def revenue(orders):
    return 1

@asset_check(asset="orders")
def not_empty(orders):
    return True
"""


def _project(root: Path, module: str = ASSETS) -> Path:
    (root / "catchment.yaml").write_text(
        "project: {name: shop}\n"
        "io_managers: {default: {type: memory}}\n"
        "components: [{type: python, name: core, attributes: {module: assets.py}}]\n"
    )
    (root / "assets.py").write_text(module)
    return root


def test_json_lists_every_asset_with_its_fields(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app, ["assets", "list", "--json", "--project", str(_project(tmp_path))]
    )
    assert result.exit_code == 0, result.output
    rows = {r["key"]: r for r in json.loads(result.stdout)}
    assert list(rows) == ["external/postgres/public/orders", "orders", "revenue"]
    orders = rows["orders"]
    assert orders["group"] == "sales"
    assert orders["kinds"] == ["python"]
    assert orders["deps"] == ["external/postgres/public/orders"]
    assert orders["checks"] == ["not_empty"]
    assert orders["component"] == "core"
    assert orders["owners"] == ["ana"]
    assert orders["description"] == "Orders, cleaned."
    assert orders["external"] is False
    assert orders["table"] is None  # the memory IO manager names no table
    source = rows["external/postgres/public/orders"]
    assert source["external"] is True
    assert source["table"]["qualified_name"] == "public.orders"
    assert rows["revenue"]["deps"] == ["orders"]


def test_selection_and_table_output(tmp_path: Path) -> None:
    root = _project(tmp_path)
    selected = CliRunner().invoke(
        app, ["assets", "list", "-s", "group:finance", "--json", "-p", str(root)]
    )
    assert selected.exit_code == 0, selected.output
    assert [r["key"] for r in json.loads(selected.stdout)] == ["revenue"]
    table = CliRunner().invoke(app, ["assets", "list", "-p", str(root)])
    assert table.exit_code == 0
    assert "revenue" in table.stdout
    assert "(external)" in table.stdout


def test_unbuildable_graph_exits_1_with_the_problem(tmp_path: Path) -> None:
    cycle = (
        "from catchment import asset\n"
        "@asset(deps=['b'])\ndef a():\n    pass\n"
        "@asset(deps=['a'])\ndef b():\n    pass\n"
    )
    result = CliRunner().invoke(app, ["assets", "list", "-p", str(_project(tmp_path, cycle))])
    assert result.exit_code == 1
    assert "cycle" in result.output
    assert "could not be built" in result.output


def test_json_keys_come_in_the_documented_order_and_table_rows_agree(tmp_path: Path) -> None:
    from catchment.cli.listing import asset_rows
    from catchment.keys import AssetKey
    from catchment.project import load_project

    root = _project(tmp_path)
    result = CliRunner().invoke(app, ["assets", "list", "--json", "-p", str(root)])
    assert result.exit_code == 0, result.output
    printed = json.loads(result.stdout)
    assert list(printed[0]) == [
        "key",
        "group",
        "kinds",
        "deps",
        "table",
        "checks",
        "component",
        "definition",
        "adapter",
        "owners",
        "description",
        "external",
    ]
    project = load_project(root / "catchment.yaml")
    graph = project.require_graph()
    # the dicts the table view and `assets show` use are what the JSON prints
    assert asset_rows(project, graph, None) == printed
    source = next(r for r in printed if r["external"])
    ref = graph.specs[AssetKey.parse(source["key"])].table
    assert ref is not None
    assert source["table"] == ref.to_dict()

"""`catchment graph`: mermaid, dot and JSON output of a small Python project's lineage."""

from __future__ import annotations

import json
import re
from pathlib import Path

from catchment.cli.main import app
from typer.testing import CliRunner

ASSETS = """
from catchment import asset, asset_check, table

@asset(group="sales", reads=[table("postgres", "orders", location="db:5432")])
def orders():
    return [1]

@asset(group="finance")
def revenue(orders):
    return 1

@asset(group="finance")
def forecast(revenue):
    return 2

@asset_check(asset="orders")
def not_empty(orders):
    return True
"""


def _project(root: Path) -> Path:
    (root / "catchment.yaml").write_text(
        "project: {name: shop}\n"
        "components: [{type: python, name: core, attributes: {module: assets.py}}]\n"
    )
    (root / "assets.py").write_text(ASSETS)
    return root


def _graph(root: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["graph", "--project", str(root), *args])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_json_has_every_node_with_its_tool_and_every_edge(tmp_path: Path) -> None:
    data = json.loads(_graph(_project(tmp_path), "--format", "json"))
    nodes = {n["key"]: n for n in data["nodes"]}
    assert list(nodes) == ["external/postgres/public/orders", "orders", "revenue", "forecast"]
    source = nodes["external/postgres/public/orders"]
    assert (source["tool"], source["external"]) == ("external", True)
    assert source["table"] == "public.orders"
    orders = nodes["orders"]
    assert (orders["tool"], orders["external"], orders["component"]) == ("python", False, "core")
    assert orders["checks"] == 1
    # the default DuckDB IO manager's table
    assert (orders["system"], orders["table"]) == ("duckdb", "warehouse.main.orders")
    edges = {(e["from"], e["to"]) for e in data["edges"]}
    assert edges == {
        ("external/postgres/public/orders", "orders"),
        ("orders", "revenue"),
        ("revenue", "forecast"),
    }


def test_selection_keeps_only_edges_between_selected_assets(tmp_path: Path) -> None:
    data = json.loads(_graph(_project(tmp_path), "-s", "group:finance", "--format", "json"))
    assert [n["key"] for n in data["nodes"]] == ["revenue", "forecast"]
    assert data["edges"] == [{"from": "revenue", "to": "forecast"}]


def test_mermaid_is_a_left_to_right_flowchart_boxed_by_tool(tmp_path: Path) -> None:
    text = _graph(_project(tmp_path))  # mermaid is the default
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    # one subgraph per tool, external sources first, each closed
    titles = re.findall(r'^  subgraph (\w+)\["([^"]+)"\]$', text, re.M)
    assert [t for _, t in titles] == ["external sources", "python"]
    assert text.count("\n  end\n") == len(titles)
    # nodes: id, quoted label, class per tool; the external source is a cylinder
    nodes = dict(re.findall(r'^    (a\d+)[\[(]+"([^"]+)"[\])]+:::tool\d$', text, re.M))
    assert nodes["a0"] == "external/postgres/public/orders<br/>postgres"
    assert nodes["a1"] == "orders<br/>duckdb"
    assert '    a0[("external/postgres/public/orders<br/>postgres")]:::tool0' in lines
    # edges by id: dotted out of the external source, solid between assets
    assert "  a0 -.-> a1" in lines
    assert "  a1 --> a2" in lines
    assert "  a2 --> a3" in lines
    assert re.search(r"^  classDef tool0 fill:#\w+,stroke:#\w+,.*stroke-dasharray", text, re.M)
    assert re.search(r"^  classDef tool1 fill:#\w+,stroke:#\w+", text, re.M)


def test_dot_is_a_digraph_with_one_cluster_per_tool(tmp_path: Path) -> None:
    text = _graph(_project(tmp_path), "--format", "dot")
    assert text.startswith("digraph lineage {\n  rankdir=LR;")
    assert text.rstrip().endswith("}")
    assert text.count("{") == text.count("}")
    assert re.findall(r'label="([^"]+)"; style="rounded,dashed"', text) == [
        "external sources",
        "python",
    ]
    assert '"external/postgres/public/orders" -> "orders" [style=dashed];' in text
    assert '"orders" -> "revenue";' in text
    assert '"revenue" -> "forecast";' in text
    assert '"orders" [label="orders\\nduckdb"' in text


def test_dot_output_parses_as_graphviz_dot(tmp_path: Path) -> None:
    """pydot's parser (pure Python, no Graphviz binary needed) reads every node and edge."""
    import pydot

    text = _graph(_project(tmp_path), "--format", "dot")
    (graph,) = pydot.graph_from_dot_data(text)
    edges = {(e.get_source().strip('"'), e.get_destination().strip('"')) for e in graph.get_edges()}
    for sub in graph.get_subgraphs():
        edges |= {
            (e.get_source().strip('"'), e.get_destination().strip('"')) for e in sub.get_edges()
        }
    assert {("orders", "revenue"), ("revenue", "forecast")} <= edges
    assert ("external/postgres/public/orders", "orders") in edges


def test_labels_are_escaped() -> None:
    from catchment.cli.graph_cmd import Lineage, Node, to_dot, to_mermaid

    node = Node(
        id="a0",
        key='odd"<key>',
        tool="python",
        kinds=("python",),
        group=None,
        component=None,
        table=None,
        system=None,
        checks=0,
        external=False,
    )
    lin = Lineage(nodes=(node,), edges=())
    assert 'a0["odd#quot;#lt;key#gt;"]:::tool0' in to_mermaid(lin)
    assert '"odd\\"<key>" [label="odd\\"<key>"' in to_dot(lin)


def test_unbuildable_graph_exits_1_with_the_problem(tmp_path: Path) -> None:
    (tmp_path / "catchment.yaml").write_text(
        "project: {name: shop}\n"
        "components: [{type: python, name: core, attributes: {module: assets.py}}]\n"
    )
    (tmp_path / "assets.py").write_text(
        "from catchment import asset\n"
        "@asset(deps=['b'])\ndef a():\n    pass\n"
        "@asset(deps=['a'])\ndef b():\n    pass\n"
    )
    result = CliRunner().invoke(app, ["graph", "--project", str(tmp_path)])
    assert result.exit_code == 1
    assert "cycle" in result.stderr

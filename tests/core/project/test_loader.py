"""catchment.yaml loading: what loads, and errors that name file:line and the field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from catchment import AdapterInfo, AssetKey, hookimpl
from catchment.errors import ConfigError, GraphError
from catchment.plugins import PluginRegistry
from catchment.project import Problem, load_project

from .conftest import make_registry

WriteProject = Callable[..., Path]

ASSETS = """
from catchment import asset, asset_check

@asset(owners=["ana@example.com"])
def orders():
    "All orders."
    return [1, 2, 3]

@asset
def order_count(orders):
    return len(orders)

@asset_check(asset="orders")
def not_empty(orders):
    return bool(orders)
"""


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_python_component_loads_assets_and_checks(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project:
          name: shop
        components:
          - type: python
            name: core
            attributes:
              module: pipelines/assets.py
              group: sales
        """,
        {"pipelines/assets.py": ASSETS},
    )
    project = load_project(root, registry=registry)
    assert project.problems == []
    assert project.name == "shop"
    graph = project.require_graph()
    assert [k.to_string() for k in graph] == ["orders", "order_count"]
    assert graph.specs[AssetKey("orders")].group == "sales"
    assert graph.upstream(AssetKey("order_count")) == {AssetKey("orders")}
    assert [c.name for c in graph.checks_for(AssetKey("orders"))] == ["not_empty"]
    assert {d.component for d in project.definitions} == {"core"}
    assert project.components == {"core": "python"}


def test_dotted_module_and_key_prefix(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: shop}
        components:
          - type: python
            name: prefixed
            attributes: {module: shop_assets_prefixed, key_prefix: [eu, raw]}
        """,
        {"shop_assets_prefixed/__init__.py": ASSETS},
    )
    project = load_project(root, registry=registry)
    graph = project.require_graph()
    keys = {k.to_string() for k in graph}
    assert keys == {"eu/raw/orders", "eu/raw/order_count"}
    assert graph.upstream(AssetKey("eu/raw/order_count")) == {AssetKey("eu/raw/orders")}
    assert [c.asset.to_string() for c in graph.checks_for(AssetKey("eu/raw/orders"))] == [
        "eu/raw/orders"
    ]


def test_defaults_and_default_io_manager(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: shop}
        defaults:
          warehouse: data/wh.duckdb
        io_managers:
          scratch: {type: memory}
        """
    )
    project = load_project(root / "catchment.yaml", registry=registry)
    assert project.problems == []
    assert project.defaults.warehouse == (root / "data" / "wh.duckdb").resolve()
    assert project.defaults.storage_url == f"sqlite:///{root.resolve() / '.catchment' / 'runs.db'}"
    assert set(project.io_managers) == {"default", "scratch"}
    assert type(project.io_managers["default"]).__name__ == "DuckDBIOManager"


def test_unknown_component_type_lists_known_and_suggests_the_adapter(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: shop}
        components:
          - type: python
            name: ok
            attributes: {module: a.py}
          - type: dbt_project
            name: warehouse
            attributes: {project_dir: dbt}
        """,
        {"a.py": "from catchment import asset\n@asset\ndef a():\n    return 1\n"},
    )
    project = load_project(root, registry=registry)
    p = _only(project.problems)
    assert p.kind == "component"
    assert _line(p.where) == 6
    assert "component 'warehouse': unknown component type 'dbt_project'" in p.message
    assert p.hint is not None
    assert "python" in p.hint
    assert "typed" in p.hint
    assert "pip install catchment-dbt" in p.hint
    assert {k.to_string() for k in project.require_graph()} == {"a"}  # the rest loaded


def _line(where: str) -> int:
    """The line of a ``catchment.yaml:LINE`` location (asserting it names the project file)."""
    file, line = where.rsplit(":", 1)
    assert file.endswith("catchment.yaml"), where
    return int(line)


def test_missing_required_attribute_names_line_and_field(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: shop}
        components:
          - type: typed
            name: pg
            attributes:
              server: {host: db}
              tables: [a]
        """
    )
    p = _only(load_project(root, registry=registry).problems)
    assert _line(p.where) == 6  # the `server:` line
    assert "component 'pg' (typed): attributes.server.port: Field required" in p.message


def test_wrong_field_type_names_line_and_field_without_echoing_the_value(
    write_project: WriteProject, registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PG_PORT", "hunter2-secret")
    root = write_project(
        """
        project: {name: shop}
        components:
          - type: typed
            name: pg
            attributes:
              server:
                host: db
                port: "{{ env('PG_PORT') }}"
              tables: [a, b]
        """
    )
    project = load_project(root, registry=registry)
    p = _only(project.problems)
    assert _line(p.where) == 8
    assert "attributes.server.port" in p.message
    assert "valid integer" in p.message
    assert "hunter2" not in str(p)


def test_extra_attribute_lists_known_fields(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: shop}
        components:
          - type: python
            name: p
            attributes:
              module: x.py
              modul: y
        """
    )
    p = _only(load_project(root, registry=registry).problems)
    assert p.where.endswith(":7")
    assert "attributes.modul" in p.message
    assert p.hint == "known fields: module, group, key_prefix"


def test_yaml_syntax_error_names_file_line_and_column(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: shop}
        components:
          - type: python
            name: [unclosed
        """
    )
    with pytest.raises(ConfigError) as info:
        load_project(root, registry=registry)
    assert info.value.where is not None
    file, line, column = info.value.where.rsplit(":", 2)
    assert file.endswith("catchment.yaml")
    assert (int(line), int(column)) == (5, 1)
    assert "invalid YAML" in info.value.message


def test_duplicate_yaml_key_is_an_error(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project("project: {name: a}\nproject: {name: b}\n")
    with pytest.raises(ConfigError, match="duplicate key 'project'") as info:
        load_project(root, registry=registry)
    assert info.value.where.endswith("catchment.yaml:2:1")


def test_undefined_template_variable_names_line_and_field(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: shop}
        components:
          - type: python
            name: p
            attributes:
              module: a.py
              group: "{{ team_name }}"
        """
    )
    p = _only(load_project(root, registry=registry).problems)
    assert _line(p.where) == 7
    assert "components[0].attributes.group" in p.message
    assert "'team_name' is undefined" in p.message


def test_missing_environment_variable_names_it(
    write_project: WriteProject, registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CATCHMENT_TEST_UNSET", raising=False)
    root = write_project(
        """
        project: {name: shop}
        io_managers:
          files:
            type: filesystem
            config: {base_dir: "{{ env('CATCHMENT_TEST_UNSET') }}"}
        """
    )
    p = _only(load_project(root, registry=registry).problems)
    assert _line(p.where) == 5
    assert "environment variable CATCHMENT_TEST_UNSET is not set" in p.message
    assert "io_managers.files.config.base_dir" in p.message


def test_template_helpers_render_and_python_is_never_evaluated(
    write_project: WriteProject, registry: PluginRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEAM", "finance")
    root = write_project(
        """
        project: {name: shop}
        components:
          - type: typed
            name: t
            attributes:
              server: {host: "{{ project_root }}", port: "{{ 40 + 2 }}"}
              tables: ["{{ env('TEAM') }}_{{ today('%Y') | length }}", "{{ env('NOPE', 'x') }}"]
          - type: typed
            name: evil
            attributes:
              server: {host: "{{ ''.__class__.__mro__[1].__subclasses__() }}", port: 1}
              tables: []
        """
    )
    project = load_project(root, registry=registry)
    keys = {k.to_string() for k in project.require_graph()}
    assert keys == {"t/finance_4", "t/x"}
    p = _only(project.problems)
    assert "component 'evil'" in p.message
    assert "sandbox" in p.message


def test_failing_and_misbehaving_components_do_not_stop_the_rest(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: shop}
        components:
          - {type: explodes, name: broken}
          - {type: wrong_return, name: odd}
          - {type: typed, name: fine, attributes: {server: {host: h, port: 1}, tables: [a]}}
          - {type: typed, name: fine, attributes: {server: {host: h, port: 1}, tables: [b]}}
          - {type: typed, nam: typo}
        """
    )
    project = load_project(root, registry=registry)
    by_line = {p.where.rsplit(":", 1)[1]: p for p in project.problems}
    assert set(by_line) == {"3", "4", "6", "7"}
    assert "component 'broken' (explodes) failed to build: RuntimeError" in by_line["3"].message
    assert "the tool's manifest is corrupt" in by_line["3"].message
    assert "returned str from build" in by_line["4"].message
    assert "defined twice" in by_line["6"].message
    assert "component #5" in by_line["7"].message
    assert {k.to_string() for k in project.require_graph()} == {"fine/a"}


def test_graph_errors_are_problems_and_block_the_graph(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    module = "from catchment import asset\n@asset\ndef same():\n    return 1\n"
    root = write_project(
        """
        project: {name: shop}
        components:
          - {type: python, name: one, attributes: {module: one.py}}
          - {type: python, name: two, attributes: {module: two.py}}
        """
    )
    (root / "one.py").write_text(module)
    (root / "two.py").write_text(module)
    project = load_project(root, registry=registry)
    assert project.graph is None
    assert project.problems
    assert all(p.kind == "graph" for p in project.problems)
    assert "same" in " ".join(p.message for p in project.problems)
    with pytest.raises(GraphError):
        project.require_graph()


def test_policy_rejection_is_a_graph_problem(write_project: WriteProject, tmp_path: Path) -> None:
    class NoFridays:
        @hookimpl
        def catchment_adapter_info(self) -> AdapterInfo:
            return AdapterInfo(name="policy", version="1")

        @hookimpl
        def catchment_graph_built(self, graph: Any) -> list[str]:
            return [f"{k} is not allowed" for k in graph if k.name == "forbidden"]

    registry = make_registry(("policy", NoFridays()))
    root = write_project(
        """
        project: {name: shop}
        components: [{type: python, name: p, attributes: {module: m.py}}]
        """
    )
    (root / "m.py").write_text("from catchment import asset\n@asset\ndef forbidden():\n    pass\n")
    project = load_project(root, registry=registry)
    p = _only(project.problems)
    assert (p.kind, p.where, p.message) == ("graph", "adapter policy", "forbidden is not allowed")
    assert project.graph is not None
    with pytest.raises(GraphError, match="forbidden is not allowed"):
        project.require_graph()


def test_project_level_mistakes_are_problems(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {nam: shop}
        defaults: {warehouse: 5, storge: x}
        resources:
          db: {type: postgres}
        io_managers:
          default: {type: s3}
        extras: 1
        """
    )
    project = load_project(root, registry=registry)
    text = "\n".join(str(p) for p in project.problems)
    assert "unknown section 'extras'" in text
    assert "project.nam" in text or "project.name" in text
    assert "defaults.storge" in text
    assert "unknown resource type 'postgres'" in text
    assert "unknown IO manager type 's3'" in text
    assert all(p.kind == "project" for p in project.problems)


def test_missing_file_and_non_mapping_raise_config_error(
    tmp_path: Path, registry: PluginRegistry
) -> None:
    with pytest.raises(ConfigError, match=r"no catchment\.yaml here"):
        load_project(tmp_path, registry=registry)
    (tmp_path / "catchment.yaml").write_text("- just\n- a list\n")
    with pytest.raises(ConfigError, match="must be a mapping"):
        load_project(tmp_path, registry=registry)


def test_broken_adapters_are_problems(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    registry.add_plugin(object(), name="nothing")  # implements no adapter info
    root = write_project("project: {name: shop}\n")
    p = _only(load_project(root, registry=registry).problems)
    assert p.kind == "adapter"
    assert p.where == "adapter nothing"
    assert "catchment_adapter_info" in p.message


def test_duplicate_component_and_unknown_resource_type_say_what_to_do(
    write_project: WriteProject, registry: PluginRegistry
) -> None:
    root = write_project(
        """
        project: {name: shop}
        resources:
          warehouse: {type: snowflake}
        components:
          - {type: typed, name: fine, attributes: {server: {host: h, port: 1}, tables: [a]}}
          - {type: typed, name: fine, attributes: {server: {host: h, port: 1}, tables: [b]}}
        """
    )
    project = load_project(root, registry=registry)
    twice = next(p for p in project.problems if "defined twice" in p.message)
    assert twice.hint is not None
    assert "rename one" in twice.hint
    resource = next(p for p in project.problems if "unknown resource type" in p.message)
    assert resource.hint is not None
    assert "pip install catchment-snowflake" in resource.hint

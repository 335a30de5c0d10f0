"""Discovery: resources and child tables as specs, identity, metadata, overrides; no run."""

from __future__ import annotations

from pathlib import Path

import dlt
import pytest
from catchment import AssetKey, duckdb_table
from catchment.components import ComponentContext, ProjectDefaults
from catchment.errors import ConfigError
from catchment_dlt import dlt_assets
from catchment_dlt.attributes import DltAttributes
from catchment_dlt.component import build

from .conftest import ShopProject, load, shop_yaml


def _build(shop: ShopProject, **attrs: object):  # type: ignore[no-untyped-def]
    context = ComponentContext(name="shop", project=ProjectDefaults.for_root(shop.root))
    values = {"source": "shop_sources.py:shop", "args": {"data_dir": str(shop.data)}}
    values.update({"dataset_name": "raw", **attrs})
    [definition] = build(DltAttributes.model_validate(values), context)
    return definition


def test_each_resource_and_declared_child_table_is_an_asset(shop: ShopProject) -> None:
    d = _build(shop)
    assert [str(k) for k in d.keys] == [
        "raw/orders",
        "raw/orders/lines",
        "raw/customers",
        "raw/events",
    ]
    assert d.adapter == "dlt"
    assert d.can_subset
    assert d.component == "shop"
    specs = {str(s.key): s for s in d.specs}
    orders = specs["raw/orders"]
    assert orders.table == duckdb_table(shop.warehouse, "orders", schema="raw")
    assert orders.kinds == ("dlt", "duckdb")
    assert orders.metadata["write_disposition"] == "merge"
    assert orders.metadata["primary_key"] == ["id"]
    assert orders.metadata["incremental_cursor"] == "updated_at"
    assert specs["raw/customers"].metadata["write_disposition"] == "replace"
    assert "incremental_cursor" not in specs["raw/customers"].metadata
    lines = specs["raw/orders/lines"]
    assert lines.table == duckdb_table(shop.warehouse, "orders__lines", schema="raw")
    assert lines.dep_keys == (AssetKey("raw/orders"),)
    assert lines.metadata["dlt_parent_table"] == "orders"
    assert not shop.warehouse.exists(), "discovery must not run the pipeline"


def test_code_version_changes_when_the_source_changes(shop: ShopProject) -> None:
    before = {s.key: s.code_version for s in _build(shop).specs}
    path = shop.root / "shop_sources.py"
    path.write_text(
        path.read_text().replace('write_disposition="replace"', 'write_disposition="append"')
    )
    import sys

    for name in [m for m in sys.modules if m.startswith("catchment_dlt_sources.")]:
        del sys.modules[name]
    after = {s.key: s.code_version for s in _build(shop).specs}
    assert before[AssetKey("raw/customers")] != after[AssetKey("raw/customers")]
    assert all(v for v in after.values())


def test_resources_subset_and_overrides(shop: ShopProject) -> None:
    d = _build(
        shop,
        resources=["orders", "customers"],
        group="ingest",
        overrides={
            "orders": {"key": "shop/orders", "owners": ["ana@x.com"], "tags": {"tier": "gold"}},
            "customers": {"group": "crm", "child_tables": ["addresses"]},
        },
    )
    specs = {str(s.key): s for s in d.specs}
    assert sorted(specs) == [
        "raw/customers",
        "raw/customers/addresses",
        "shop/orders",
        "shop/orders/lines",
    ]
    assert specs["shop/orders"].owners == ("ana@x.com",)
    assert specs["shop/orders"].tags == {"tier": "gold"}
    assert specs["shop/orders"].group == "ingest"
    assert specs["raw/customers"].group == "crm"
    assert specs["shop/orders/lines"].dep_keys == (AssetKey("shop/orders"),)
    assert specs["raw/customers/addresses"].table == duckdb_table(
        shop.warehouse, "customers__addresses", schema="raw"
    )


def test_unknown_resource_is_named(shop: ShopProject) -> None:
    with pytest.raises(ConfigError, match=r"\['payments'\].*not in dlt source 'shop'") as info:
        _build(shop, resources=["orders", "payments"])
    assert "orders, customers, events" in (info.value.hint or "")


def test_destination_file_and_other_destination_identity(shop: ShopProject) -> None:
    d = _build(shop, destination="lake/raw.duckdb")
    assert d.specs[0].table == duckdb_table(
        shop.root / "lake" / "raw.duckdb", "orders", schema="raw"
    )
    d = _build(
        shop, destination="postgres", destination_location="db:5432", destination_database="wh"
    )
    table = d.specs[0].table
    assert table is not None
    assert (table.system, table.location, table.database, table.schema, table.name) == (
        "postgres",
        "db:5432",
        "wh",
        "raw",
        "orders",
    )
    assert d.specs[0].kinds == ("dlt", "postgres")


def test_python_api(tmp_path: Path) -> None:
    @dlt.source(name="crm")
    def crm():  # type: ignore[no-untyped-def]
        @dlt.resource(primary_key="id")
        def accounts():  # type: ignore[no-untyped-def]
            yield {"id": 1}

        @dlt.resource(nested_hints={("contacts", "phones"): {}})
        def people():  # type: ignore[no-untyped-def]
            yield {"id": 1}

        return accounts, people

    target = tmp_path / "w.duckdb"
    d = dlt_assets(crm(), destination=target, dataset_name="crm_raw", project_root=tmp_path)
    assert [str(k) for k in d.keys] == [
        "crm_raw/accounts",
        "crm_raw/people",
        "crm_raw/people/contacts",
        "crm_raw/people/contacts/phones",
    ]
    specs = {str(s.key): s for s in d.specs}
    assert specs["crm_raw/people/contacts/phones"].dep_keys == (
        AssetKey("crm_raw/people/contacts"),
    )
    assert specs["crm_raw/people/contacts/phones"].table == duckdb_table(
        target, "people__contacts__phones", schema="crm_raw"
    )
    assert d.metadata["pipelines_dir"] == str(tmp_path / ".catchment" / "dlt")


def test_max_table_nesting_limits_declared_children(tmp_path: Path) -> None:
    @dlt.source(name="deep", max_table_nesting=1)
    def deep():  # type: ignore[no-untyped-def]
        @dlt.resource(nested_hints={("a", "b"): {}})
        def r():  # type: ignore[no-untyped-def]
            yield {}

        return r

    d = dlt_assets(deep(), destination=tmp_path / "w.duckdb", project_root=tmp_path)
    assert [str(k) for k in d.keys] == ["deep/r", "deep/r/a"]


def test_component_loads_through_the_project(shop: ShopProject) -> None:
    project = load(shop, shop_yaml(shop))
    assert project.problems == []
    graph = project.require_graph()
    assert AssetKey("raw/orders/lines") in graph
    assert graph.upstream(AssetKey("raw/orders/lines")) == {AssetKey("raw/orders")}


def test_adapter_import_and_registration_do_not_import_dlt() -> None:
    import os
    import subprocess
    import sys

    code = (
        "import sys, catchment_dlt.hooks\n"
        "print('dlt' in sys.modules, 'pydantic' in sys.modules)\n"
        "from catchment.plugins import get_registry\n"
        "assert 'dlt' in get_registry().component_types\n"
        "print('dlt' in sys.modules)\n"
    )
    env = {**os.environ, "CATCHMENT_ADAPTERS": "dlt"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
    )
    assert out.stdout.split() == ["False", "False", "False"]

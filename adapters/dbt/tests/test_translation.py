"""Discovery on the real jaffle project matches its manifest one to one."""

from __future__ import annotations

import json
from collections import Counter

import pytest
from catchment.graph import AssetGraph
from catchment.keys import AssetKey
from catchment.tables import duckdb_table
from catchment_dbt import dbt_assets

from .conftest import Jaffle

pytestmark = pytest.mark.slow


def _manifest_json(jaffle: Jaffle) -> dict:
    cached = sorted((jaffle.project_dir / "target" / "catchment").glob("*/manifest.json"))
    path = cached[0] if cached else jaffle.project_dir / "target" / "manifest.json"
    return json.loads(path.read_text())


def test_every_model_seed_and_snapshot_is_one_asset(parsed_jaffle: Jaffle) -> None:
    d = dbt_assets(parsed_jaffle.project_dir, warehouse=parsed_jaffle.warehouse)
    manifest = _manifest_json(parsed_jaffle)
    expected = {
        n["name"]
        for n in manifest["nodes"].values()
        if n["resource_type"] in {"model", "seed", "snapshot"}
    }
    assert {k.to_string() for k in d.keys} == expected
    kinds = Counter(s.metadata["dbt_resource_type"] for s in d.specs)
    assert kinds == {"model": 13, "seed": 2, "snapshot": 1}
    assert d.can_subset
    assert d.adapter == "dbt"


def test_tests_become_checks_on_the_right_assets(parsed_jaffle: Jaffle) -> None:
    d = dbt_assets(parsed_jaffle.project_dir, warehouse=parsed_jaffle.warehouse)
    manifest = _manifest_json(parsed_jaffle)
    checks = {c.metadata["dbt_unique_id"]: c for c in d.all_check_specs}
    tests = {u: n for u, n in manifest["nodes"].items() if n["resource_type"] == "test"}
    on_sources = {u for u, n in tests.items() if n["depends_on"]["nodes"][0].startswith("source.")}
    assert set(checks) == set(tests) - on_sources
    for uid, test in tests.items():
        if test.get("attached_node") and uid in checks:
            attached = manifest["nodes"][test["attached_node"]]["name"]
            assert checks[uid].asset == AssetKey(attached)
    # singular test over fct_orders AND stg_payments: on the most downstream one
    assert checks["test.jaffle.assert_payments_cover_order_amounts"].asset == AssetKey("fct_orders")
    warn = [c for c in checks.values() if c.name.startswith("accepted_values_stg_orders_status")]
    assert [(c.severity, c.blocking) for c in warn] == [("warn", False)]
    assert not [c for c in checks.values() if c.metadata.get("dbt_unit_test")]


def test_unit_tests_are_checks_only_when_asked(parsed_jaffle: Jaffle) -> None:
    d = dbt_assets(
        parsed_jaffle.project_dir, warehouse=parsed_jaffle.warehouse, run_unit_tests=True
    )
    unit = [c for c in d.all_check_specs if c.metadata.get("dbt_unit_test")]
    assert [(c.asset, c.name) for c in unit] == [
        (AssetKey("stg_payments"), "test_stg_payments_converts_cents_and_normalizes_method")
    ]


def test_spec_fields_come_from_the_manifest(parsed_jaffle: Jaffle) -> None:
    d = dbt_assets(parsed_jaffle.project_dir, warehouse=parsed_jaffle.warehouse)
    manifest = _manifest_json(parsed_jaffle)
    specs = {s.key.to_string(): s for s in d.specs}
    fct = specs["fct_orders"]
    node = manifest["nodes"]["model.jaffle.fct_orders"]
    assert fct.code_version == node["checksum"]["checksum"]
    assert fct.kinds == ("dbt", "duckdb")
    assert fct.owners == ("carol@jaffle.example",)  # meta.owner
    assert specs["stg_products"].owners == ("platform@jaffle.example",)  # dbt group owner
    assert fct.group == "marts"
    assert specs["stg_orders"].group == "staging"
    assert fct.metadata["materialized"] == "table"
    assert fct.description == node["description"]
    assert fct.table == duckdb_table(parsed_jaffle.warehouse, "fct_orders", schema="main")
    assert {d.key.to_string() for d in fct.deps} == {"stg_order_lines", "stg_order_payments"}
    assert specs["orders_snapshot"].table == duckdb_table(
        parsed_jaffle.warehouse, "orders_snapshot", schema="snapshots"
    )


def test_sources_are_reads_linked_to_their_writer(parsed_jaffle: Jaffle) -> None:
    from catchment import MaterializeResult, multi_asset, spec

    raw_orders = duckdb_table(parsed_jaffle.warehouse, "orders", schema="raw")

    @multi_asset(specs=[spec("loader/orders", table=raw_orders)])
    def loader(context):  # type: ignore[no-untyped-def]
        yield MaterializeResult(key=AssetKey("loader/orders"))

    d = dbt_assets(parsed_jaffle.project_dir, warehouse=parsed_jaffle.warehouse)
    stg = next(s for s in d.specs if s.key == AssetKey("stg_orders"))
    assert stg.reads == (raw_orders,)
    graph = AssetGraph.build([loader, d])
    assert graph.upstream(AssetKey("stg_orders")) == {AssetKey("loader/orders")}
    assert AssetKey("orders_snapshot") in graph.downstream(AssetKey("loader/orders"))
    # raw.payments has no writer here: an external source asset
    assert graph.upstream(AssetKey("stg_payments")) == {
        AssetKey("external/duckdb/warehouse/raw/payments")
    }


def test_options_prefix_and_dbt_groups(parsed_jaffle: Jaffle) -> None:
    d = dbt_assets(
        parsed_jaffle.project_dir,
        warehouse=parsed_jaffle.warehouse,
        key_prefix="shop/dbt",
        group_from="dbt_group",
    )
    specs = {s.key.to_string(): s for s in d.specs}
    assert "shop/dbt/fct_orders" in specs
    assert specs["shop/dbt/fct_orders"].deps[0].key.path[:2] == ("shop", "dbt")
    assert specs["shop/dbt/customers"].group is None
    assert specs["shop/dbt/stg_orders"].group == "staging"


def test_select_and_exclude_use_dbt_semantics(parsed_jaffle: Jaffle) -> None:
    d = dbt_assets(
        parsed_jaffle.project_dir,
        warehouse=parsed_jaffle.warehouse,
        select="+fct_orders",
        exclude="resource_type:seed",
    )
    keys = {k.to_string() for k in d.keys}
    assert "fct_orders" in keys
    assert "stg_orders" in keys
    assert "customers" not in keys
    assert "mart_customer_ltv" not in keys
    fct = next(s for s in d.specs if s.key == AssetKey("fct_orders"))
    stg_products = next(s for s in d.specs if s.key == AssetKey("stg_products"))
    # an upstream outside the selection is a read of its table, not a dangling key
    assert duckdb_table(parsed_jaffle.warehouse, "products", schema="main") in stg_products.reads
    assert fct.deps


def test_documented_columns_are_in_the_metadata(parsed_jaffle: Jaffle) -> None:
    """The names the catalog (``catchment ui``) searches by."""
    d = dbt_assets(parsed_jaffle.project_dir, warehouse=parsed_jaffle.warehouse)
    manifest = _manifest_json(parsed_jaffle)
    for spec in d.specs:
        node = manifest["nodes"][spec.metadata["dbt_unique_id"]]
        documented = [c.get("name") or n for n, c in node.get("columns", {}).items()]
        assert spec.metadata.get("columns", []) == documented
    assert any(spec.metadata.get("columns") for spec in d.specs)

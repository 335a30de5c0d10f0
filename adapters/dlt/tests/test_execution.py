"""Execution with real dlt into DuckDB, through the real engine (``run_project``)."""

from __future__ import annotations

import duckdb
import pytest
from catchment.events import EventType
from catchment.execution.project import run_project

from .conftest import ShopProject, load, orders, shop_yaml

pytestmark = pytest.mark.slow


def _metadata(result, key: str) -> dict:  # type: ignore[no-untyped-def]
    [event] = [e for e in result.materializations if e.asset_key == key]
    return event.data["metadata"]


def _failure(result, key: str) -> str:  # type: ignore[no-untyped-def]
    [event] = [e for e in result.events if e.type is EventType.ASSET_FAILED and e.asset_key == key]
    return str(event.data["message"])


def test_subset_run_loads_only_the_selected_resource(shop: ShopProject) -> None:
    project = load(shop, shop_yaml(shop))
    result = run_project(project, "raw/customers")
    assert result.success, result.failures
    assert [str(k) for k in result.materialized_keys] == ["raw/customers"]
    meta = _metadata(result, "raw/customers")
    assert meta["rows"] == 2
    assert meta["table"].endswith("warehouse.raw.customers")
    assert meta["dlt_load_id"]
    assert "name" in meta["schema_changes"]["new_columns"]
    tables = {
        r[0]
        for r in shop.query(
            "select table_name from information_schema.tables where table_schema = 'raw'"
        )
    }
    assert "customers" in tables
    assert "orders" not in tables
    assert "events" not in tables
    assert (shop.root / ".catchment" / "dlt" / "shop").is_dir()


def test_incremental_second_run_adds_only_new_rows(shop: ShopProject) -> None:
    project = load(shop, shop_yaml(shop))
    first = run_project(project, "raw/orders or raw/orders/lines")
    assert first.success, first.failures
    assert _metadata(first, "raw/orders")["rows"] == 3
    assert _metadata(first, "raw/orders")["incremental_last_value"] == 3
    assert _metadata(first, "raw/orders/lines")["rows"] == 3

    shop.write("orders", orders(range(1, 6)))  # the source returns old and new rows
    project = load(shop, shop_yaml(shop))
    second = run_project(project, "raw/orders or raw/orders/lines")
    assert second.success, second.failures
    assert _metadata(second, "raw/orders")["rows"] == 2
    assert _metadata(second, "raw/orders/lines")["rows"] == 2
    assert _metadata(second, "raw/orders")["incremental_last_value"] == 5
    assert shop.query("select count(*), max(id) from raw.orders") == [(5, 5)]
    assert shop.query("select count(*) from raw.orders__lines") == [(5,)]


def test_a_raising_resource_fails_its_asset_and_others_run_separately(shop: ShopProject) -> None:
    text = shop_yaml(shop, args={"data_dir": str(shop.data), "fail": "customers"})
    project = load(shop, text)
    result = run_project(project, "raw/orders or raw/customers")
    assert not result.success
    assert result.status_of("raw/customers") == "failed"
    assert "customers API answered 500: try later" in _failure(result, "raw/customers")
    # dlt extracts every resource before loading any: the others of this run did not load
    assert result.status_of("raw/orders") == "skipped"
    assert result.materializations == []

    again = run_project(load(shop, text), "raw/orders")
    assert again.success, again.failures
    assert _metadata(again, "raw/orders")["rows"] == 3
    assert shop.query("select count(*) from raw.orders") == [(3,)]


def test_a_failed_load_job_fails_its_table_and_restores_state(shop: ShopProject) -> None:
    project = load(shop, shop_yaml(shop))
    assert run_project(project, "raw/customers or raw/events").success
    # the warehouse rejects a row: a CHECK constraint on a table dlt loads into
    con = duckdb.connect(str(shop.warehouse))
    con.execute(
        "drop table raw.customers; create table raw.customers (id varchar check (id <> 'bad'), "
        "name varchar, _dlt_load_id varchar not null, _dlt_id varchar not null)"
    )
    con.close()
    shop.write("customers", [{"id": "bad", "name": "Mallory"}])
    result = run_project(load(shop, shop_yaml(shop)), "raw/customers or raw/events")
    assert result.status_of("raw/customers") == "failed"
    message = _failure(result, "raw/customers")
    assert "'customers'" in message
    assert "CHECK constraint failed" in message
    assert result.status_of("raw/events") == "failed"
    assert "not committed" in _failure(result, "raw/events")

    shop.write("customers", [{"id": "c9", "name": "Eve"}])
    again = run_project(load(shop, shop_yaml(shop)), "raw/customers")
    assert again.success, again.failures
    assert shop.query("select id from raw.customers") == [("c9",)]


def test_partition_loads_its_incremental_window(shop: ShopProject) -> None:
    day = 86_400
    base = 1_767_225_600  # 2026-01-01T00:00:00Z
    rows = [
        {"id": i, "updated_at": base + i * day // 2, "customer": "c0", "lines": []}
        for i in range(6)
    ]
    shop.write("orders", rows)  # two orders per day from 2026-01-01 to 2026-01-03
    text = shop_yaml(
        shop,
        resources=["orders"],
        partitions={"cadence": "daily", "start": "2026-01-01", "end": "2026-01-04"},
    )
    project = load(shop, text)
    assert project.problems == []
    result = run_project(project, "raw/orders", partition="2026-01-02")
    assert result.success, result.failures
    meta = _metadata(result, "raw/orders")
    assert meta["rows"] == 2
    assert meta["incremental_window"][0].startswith("2026-01-02T00:00:00")
    assert shop.query("select id from raw.orders order by id") == [(2,), (3,)]
    # window runs neither read nor advance the incremental state: an earlier window still loads
    earlier = run_project(load(shop, text), "raw/orders", partition="2026-01-01")
    assert earlier.success, earlier.failures
    assert _metadata(earlier, "raw/orders")["rows"] == 2
    assert shop.query("select id from raw.orders order by id") == [(0,), (1,), (2,), (3,)]
    # a range is one run over one window spanning its partitions
    span = run_project(load(shop, text), "raw/orders", partition="2026-01-02...2026-01-03")
    assert span.success, span.failures
    assert shop.query("select count(*), max(id) from raw.orders") == [(6, 5)]


def test_selecting_a_child_table_loads_its_resource(shop: ShopProject) -> None:
    result = run_project(load(shop, shop_yaml(shop)), "raw/orders/lines")
    assert result.success, result.failures
    assert [str(k) for k in result.materialized_keys] == ["raw/orders/lines"]
    assert _metadata(result, "raw/orders/lines")["rows"] == 3
    # the parent table is loaded too (same resource), but only the selection is reported
    assert shop.query("select count(*) from raw.orders") == [(3,)]

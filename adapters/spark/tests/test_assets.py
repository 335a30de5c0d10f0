"""@spark_asset + SparkIOManager through the real engine on the shared local session."""

from __future__ import annotations

import pandas as pd
import pytest
from catchment import asset, duckdb_table, materialize
from catchment.io_managers import DuckDBIOManager
from catchment.keys import AssetKey
from catchment.tables import file_table
from catchment_spark import SparkIOManager, spark_asset

pytestmark = pytest.mark.slow


def test_function_asset_writes_parquet_and_the_downstream_reads_it_back(
    spark_resource, spark, warehouse_dir
):
    @spark_asset(key="web/events")
    def events(spark):
        return spark.createDataFrame([(1, "view"), (2, "click"), (3, "view")], ["id", "kind"])

    @spark_asset(key="web/event_kinds", ins={"events": "web/events"})
    def event_kinds(spark, events):
        return events.groupBy("kind").count()

    io = SparkIOManager(warehouse_dir)
    result = materialize(
        [events, event_kinds], resources={"spark": spark_resource}, io_managers={"spark": io}
    )

    path = warehouse_dir / "web" / "events"
    assert any(path.glob("*.parquet"))
    assert sorted(r.id for r in spark.read.parquet(str(path)).collect()) == [1, 2, 3]
    by_key = {e.asset_key: e for e in result.materializations}
    assert by_key["web/events"].data["metadata"]["rows"] == 3
    assert by_key["web/events"].data["table"] == str(file_table(path))
    kinds = result.output_for("web/event_kinds")
    assert {r.kind: r["count"] for r in kinds.collect()} == {"view": 2, "click": 1}
    assert result.graph.upstream(AssetKey("web/event_kinds")) == {AssetKey("web/events")}
    assert result.graph.specs[AssetKey("web/events")].table == file_table(path)


def test_an_upstream_duckdb_table_links_through_a_declared_read_and_is_read(
    spark_resource, tmp_path, warehouse_dir
):
    db = tmp_path / "warehouse.duckdb"

    @asset
    def orders():
        return pd.DataFrame({"customer": ["a", "b", "a"], "amount": [10.0, 5.0, 2.5]})

    @spark_asset(reads={"orders_table": duckdb_table(db, "orders")})
    def customer_totals(spark, orders_table):
        return orders_table.groupBy("customer").sum("amount")

    result = materialize(
        [orders, customer_totals],
        resources={"spark": spark_resource},
        io_managers={"default": DuckDBIOManager(db), "spark": SparkIOManager(warehouse_dir)},
    )

    graph = result.graph
    assert graph.upstream(AssetKey("customer_totals")) == {AssetKey("orders")}
    totals = {r.customer: r["sum(amount)"] for r in result.output_for("customer_totals").collect()}
    assert totals == {"a": 12.5, "b": 5.0}


def test_upstreams_stored_by_other_io_managers_arrive_as_spark_dataframes(
    spark_resource, tmp_path, warehouse_dir
):
    @asset
    def prices():
        return pd.DataFrame({"sku": ["x", "y"], "price": [1.0, 2.0]})

    seen = {}

    @spark_asset
    def expensive(spark, prices):
        seen["type"] = type(prices).__module__
        return prices.filter("price > 1.5")

    result = materialize(
        [prices, expensive],
        resources={"spark": spark_resource},
        io_managers={
            "default": DuckDBIOManager(tmp_path / "w.duckdb"),
            "spark": SparkIOManager(warehouse_dir),
        },
    )
    assert seen["type"].startswith("pyspark.sql")
    assert [r.sku for r in result.output_for("expensive").collect()] == ["y"]


def test_partitioned_spark_assets_write_one_directory_per_partition(spark_resource, warehouse_dir):
    from catchment.partitions import StaticPartitions

    @spark_asset(partitions=StaticPartitions(["eu", "us"]))
    def regional(spark, context):
        return spark.createDataFrame([(context.partition_key, 1)], ["region", "n"])

    io = SparkIOManager(warehouse_dir)
    for region in ("eu", "us"):
        materialize(
            [regional],
            resources={"spark": spark_resource},
            io_managers={"spark": io},
            partition=region,
        )
    assert (warehouse_dir / "regional" / "partition=eu").is_dir()
    last = materialize(
        [regional], resources={"spark": spark_resource}, io_managers={"spark": io}, partition="us"
    )
    only_us = last.output_for("regional", partition="us").collect()
    assert [r.region for r in only_us] == ["us"]

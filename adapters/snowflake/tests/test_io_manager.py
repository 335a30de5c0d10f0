"""SnowflakeIOManager against fakesnow (Snowflake's cloud is unreachable here) through the
real connector and the real engine (catchment.materialize)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest
import snowflake.connector
from catchment import asset
from catchment.errors import ConfigError
from catchment.execution.api import materialize
from catchment.keys import AssetKey
from catchment.partitions import StaticPartitions
from catchment.tables import table
from catchment_snowflake.io_manager import SnowflakeIOManager, make_io_manager
from catchment_snowflake.resource import SnowflakeResource

pytestmark = pytest.mark.usefixtures("fake")


def _orders() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "order_id": [1, 2, 3],
            "customer": ["ann", "bob", None],
            "amount": [10.5, 20.0, 7.25],
            "paid": [True, False, True],
            "ordered_at": pd.to_datetime(
                ["2024-01-01 10:00", "2024-01-02 11:30", "2024-01-03 00:00"]
            ),
        }
    )


def test_pandas_round_trip_through_the_engine(resource: SnowflakeResource, run_sql: Any) -> None:
    io = SnowflakeIOManager(resource)

    @asset(key="raw/orders", io_manager_key="sf")
    def orders() -> pd.DataFrame:
        return _orders()

    @asset(key="marts/revenue", io_manager_key="sf", ins={"orders": "raw/orders"})
    def revenue(orders: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({"total": [orders["amount"].sum()], "n": [len(orders)]})

    result = materialize([orders, revenue], io_managers={"sf": io})
    loaded = result.output_for("raw/orders")
    pd.testing.assert_frame_equal(
        loaded.sort_values("order_id").reset_index(drop=True), _orders(), check_dtype=False
    )
    assert result.output_for("marts/revenue").to_dict("records") == [{"total": 37.75, "n": 3}]
    # Stored under Snowflake's names: schema RAW, table ORDERS, upper-case columns.
    assert run_sql("SELECT COUNT(*), SUM(AMOUNT) FROM ANALYTICS.RAW.ORDERS") == [(3, 37.75)]
    meta = result.materializations[0].data["metadata"]
    assert meta["rows"] == 3
    assert meta["table"] == "ANALYTICS.RAW.ORDERS"
    assert result.materializations[0].data["table"] == "snowflake://acme-prod/analytics.raw.orders"


def test_pyarrow_round_trip_and_rewrite_replaces_rows(resource: SnowflakeResource) -> None:
    io = SnowflakeIOManager(resource)
    rows = {"n": 2}

    @asset(key="raw/events", io_manager_key="sf", metadata={"dataframe": "pyarrow"})
    def events() -> pa.Table:
        return pa.table(
            {
                "id": pa.array(range(rows["n"]), pa.int64()),
                "kind": pa.array(["click"] * rows["n"]),
                "day": pa.array([pd.Timestamp("2024-05-01").date()] * rows["n"], pa.date32()),
            }
        )

    first = materialize([events], io_managers={"sf": io}).output_for("raw/events")
    assert isinstance(first, pa.Table)
    assert first.column_names == ["id", "kind", "day"]
    assert first.num_rows == 2
    rows["n"] = 5
    again = materialize([events], io_managers={"sf": io}).output_for("raw/events")
    assert sorted(again.column("id").to_pylist()) == [0, 1, 2, 3, 4]


def test_changed_columns_replace_an_unpartitioned_table(
    resource: SnowflakeResource, run_sql: Any
) -> None:
    io = SnowflakeIOManager(resource)
    shape = {"extra": False}

    @asset(key="raw/things", io_manager_key="sf")
    def things() -> pd.DataFrame:
        frame = pd.DataFrame({"id": [1, 2]})
        if shape["extra"]:
            frame["label"] = ["a", "b"]
        return frame

    materialize([things], io_managers={"sf": io})
    shape["extra"] = True
    out = materialize([things], io_managers={"sf": io}).output_for("raw/things")
    assert list(out.columns) == ["id", "label"]
    assert run_sql(
        "SELECT column_name FROM ANALYTICS.information_schema.columns "
        "WHERE table_schema = 'RAW' AND table_name = 'THINGS' ORDER BY ordinal_position"
    ) == [("ID",), ("LABEL",)]


def test_partitions_replace_only_their_rows(resource: SnowflakeResource, run_sql: Any) -> None:
    io = SnowflakeIOManager(resource)
    regions = StaticPartitions(["eu", "us"])
    version = {"v": 1}

    @asset(key="raw/sales", io_manager_key="sf", partitions=regions)
    def sales(context: Any) -> pd.DataFrame:
        return pd.DataFrame({"amount": [version["v"] * 10, version["v"] * 20]})

    materialize([sales], io_managers={"sf": io}, partition="eu")
    materialize([sales], io_managers={"sf": io}, partition="us")
    version["v"] = 2
    result = materialize([sales], io_managers={"sf": io}, partition="eu")
    assert run_sql(
        "SELECT PARTITION_KEY, SUM(AMOUNT) FROM ANALYTICS.RAW.SALES GROUP BY 1 ORDER BY 1"
    ) == [("eu", 60), ("us", 30)]
    eu = result.output_for("raw/sales", partition="eu")
    assert sorted(eu["amount"]) == [20, 40]
    assert set(eu["partition_key"]) == {"eu"}


def test_a_declared_partition_column_and_a_range_run(
    resource: SnowflakeResource, run_sql: Any
) -> None:
    io = SnowflakeIOManager(resource)
    regions = StaticPartitions(["eu", "us", "apac"])

    @asset(
        key="raw/visits",
        io_manager_key="sf",
        partitions=regions,
        metadata={"partition_column": "region"},
    )
    def visits(context: Any) -> pd.DataFrame:
        keys = list(context.partition_keys)
        return pd.DataFrame({"region": keys, "visits": [len(k) for k in keys]})

    materialize([visits], io_managers={"sf": io}, partition=["eu", "us", "apac"])
    materialize([visits], io_managers={"sf": io}, partition=["eu", "us"])
    assert run_sql("SELECT REGION, VISITS FROM ANALYTICS.RAW.VISITS ORDER BY 1") == [
        ("apac", 4),
        ("eu", 2),
        ("us", 2),
    ]
    assert "PARTITION_KEY" not in str(
        run_sql(
            "SELECT column_name FROM ANALYTICS.information_schema.columns "
            "WHERE table_name = 'VISITS'"
        )
    )


def test_rows_outside_the_run_partitions_are_refused(resource: SnowflakeResource) -> None:
    io = SnowflakeIOManager(resource)

    @asset(
        key="raw/mixed",
        io_manager_key="sf",
        partitions=StaticPartitions(["a", "b"]),
        metadata={"partition_column": "part"},
    )
    def mixed() -> pd.DataFrame:
        return pd.DataFrame({"part": ["a", "b"], "x": [1, 2]})

    result = materialize([mixed], io_managers={"sf": io}, partition="a", raise_on_failure=False)
    assert not result.success
    assert result.status_of("raw/mixed") == "failed"
    messages = [str(e.data.get("message")) for e in result.failures]
    assert "asset raw/mixed returned rows for partitions outside its run: ['b']" in messages


def test_identity_matches_a_dbt_model_on_the_same_relation(resource: SnowflakeResource) -> None:
    io = SnowflakeIOManager(resource)
    # What a dbt-on-Snowflake model "ANALYTICS"."RAW"."ORDERS" resolves to (profiles account).
    dbt_relation = table(
        "snowflake", '"ORDERS"', schema="RAW", database="ANALYTICS", location="ACME-PROD"
    )
    assert io.table_for(AssetKey("raw/orders")) == dbt_relation
    assert io.relation_for(AssetKey("marts/daily/orders")).dotted == "ANALYTICS.MARTS.DAILY__ORDERS"
    assert io.relation_for(AssetKey("orders")).dotted == "ANALYTICS.PUBLIC.ORDERS"
    no_schema = SnowflakeIOManager(resource.model_copy(update={"schema_": None}))
    with pytest.raises(ConfigError, match="one-segment key"):
        no_schema.table_for(AssetKey("orders"))


def test_a_dbt_snowflake_target_names_the_same_relation(
    resource: SnowflakeResource, tmp_path: Any
) -> None:
    profiles = pytest.importorskip("catchment_dbt.profiles")
    target = profiles.Target(
        profile="shop",
        name="prod",
        type="snowflake",
        fields={"account": "ACME-PROD", "database": "ANALYTICS", "schema": "RAW"},
        project_dir=tmp_path,
    )
    io = SnowflakeIOManager(resource)
    assert target.relation("ANALYTICS", "RAW", "ORDERS") == io.table_for(AssetKey("raw/orders"))


def test_insert_write_method_and_the_query_tag(resource: SnowflakeResource) -> None:
    io = SnowflakeIOManager(resource, write_method="insert")

    @asset(key="raw/small", io_manager_key="sf")
    def small() -> pd.DataFrame:
        return pd.DataFrame({"k": ["a", "b"], "v": [1, None]})

    result = materialize([small], io_managers={"sf": io})
    out = result.output_for("raw/small")
    assert out["k"].tolist() == ["a", "b"]
    # Every session the IO manager opened carried a JSON query tag naming the asset, and the
    # write's tag the run.
    calls = snowflake.connector.connect.call_args_list  # the fakesnow patch records them
    tags = [json.loads(c.kwargs["session_parameters"]["QUERY_TAG"]) for c in calls]
    assert tags
    assert all(t["asset_key"] == "raw/small" for t in tags)
    assert {"app": "catchment", "run_id": result.run_id, "asset_key": "raw/small"} in tags


def test_non_frames_and_missing_tables_give_clear_errors(resource: SnowflakeResource) -> None:
    io = SnowflakeIOManager(resource)

    @asset(key="raw/scalar", io_manager_key="sf")
    def scalar() -> int:
        return 3

    result = materialize([scalar], io_managers={"sf": io}, raise_on_failure=False)
    assert not result.success
    assert "stores only pandas, pyarrow and polars frames" in str(result.failures[0].data)

    @asset(key="raw/never", io_manager_key="sf")
    def never() -> pd.DataFrame:
        return pd.DataFrame({"a": [1]})

    @asset(key="marts/uses", ins={"never": "raw/never"})
    def uses(never: pd.DataFrame) -> int:
        return len(never)

    result = materialize(
        [never, uses], io_managers={"sf": io}, selection=["marts/uses"], raise_on_failure=False
    )
    messages = " ".join(str(e.data.get("message")) for e in result.failures)
    assert "table ANALYTICS.RAW.NEVER of asset raw/never does not exist" in messages


def test_yaml_factory_needs_a_database(resource: SnowflakeResource, project_root: Any) -> None:
    from catchment.components import ProjectDefaults

    defaults = ProjectDefaults.for_root(project_root)
    config = {"connection": {"account": "a", "user": "u", "password": "p"}, "schema": "raw"}
    with pytest.raises(ConfigError, match="needs a database"):
        make_io_manager(config, defaults)
    built = make_io_manager({**config, "database": "db"}, defaults)
    assert built.relation_for(AssetKey("x")).dotted == "DB.RAW.X"

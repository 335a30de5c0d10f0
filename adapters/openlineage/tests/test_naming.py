"""Dataset names per tool against the OpenLineage naming spec: the naming classes that ship with
openlineage-python (``openlineage.client.naming.dataset``) and the rule dbt-ol applies to a
DuckDB profile (``duckdb://{path}``, ``{database}.{schema}.{table}``)."""

from __future__ import annotations

from pathlib import Path

from catchment.tables import duckdb_table, file_table, table
from catchment_openlineage.naming import dataset_id, parse_table_text, snowflake_account
from openlineage.client.naming import dataset as spec


def test_a_dbt_model_on_duckdb_is_named_as_dbt_ol_names_it(tmp_path: Path) -> None:
    # dbt-duckdb profile path: /abs/warehouse.duckdb -> the model's relation
    # "warehouse"."main"."customer_orders" (what catchment-dbt declares for it)
    path = tmp_path / "warehouse.duckdb"
    model = table(
        "duckdb", '"customer_orders"', schema='"main"', database='"warehouse"', location=path
    )
    assert dataset_id(model) == (f"duckdb://{path}", "warehouse.main.customer_orders")


def test_a_sling_target_and_a_dlt_table_in_the_same_file_share_the_model_namespace(
    tmp_path: Path,
) -> None:
    path = tmp_path / "warehouse.duckdb"
    sling_target = duckdb_table(path, "orders", schema="raw")  # Sling object raw.orders
    dlt_table = duckdb_table(path, "events", schema="raw")  # dlt dataset raw
    assert dataset_id(sling_target) == (f"duckdb://{path}", "warehouse.raw.orders")
    assert dataset_id(dlt_table)[0] == dataset_id(sling_target)[0]


def test_a_postgres_table_follows_the_spec_class() -> None:
    ref = table("postgres", "orders", schema="public", database="shop", location="db.internal:5432")
    expected = spec.Postgres(
        host="db.internal", port="5432", database="shop", schema="public", table="orders"
    )
    assert dataset_id(ref) == (expected.get_namespace(), expected.get_name())


def test_a_snowflake_table_follows_the_spec_class_and_dbt_ol_account_rules() -> None:
    ref = table("snowflake", "orders", schema="raw", database="analytics", location="acme-prod")
    expected = spec.Snowflake(
        organization_name="acme",
        account_name="prod",
        database="ANALYTICS",
        schema="RAW",
        table="ORDERS",
    )
    assert dataset_id(ref) == (expected.get_namespace(), expected.get_name())
    # legacy account locators get dbt-ol's / Airflow's default region and cloud
    assert snowflake_account("xy12345") == "xy12345.us-west-1.aws"
    assert snowflake_account("xy12345.us-east-1") == "xy12345.us-east-1.aws"
    assert snowflake_account("xy12345.east-us-2.azure") == "xy12345.east-us-2.azure"


def test_a_file_follows_the_local_file_system_class(tmp_path: Path) -> None:
    ref = file_table(tmp_path / "features" / "customer_features")
    expected = spec.LocalFileSystem(path=str(tmp_path / "features" / "customer_features"))
    assert dataset_id(ref) == (expected.get_namespace(), expected.get_name())


def test_a_materializations_table_text_is_read_back() -> None:
    ref = duckdb_table("/data/w.duckdb", "orders", schema="raw")
    assert parse_table_text(str(ref)) == dataset_id(ref)
    assert parse_table_text("not a table") is None

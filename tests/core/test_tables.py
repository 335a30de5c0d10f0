"""TableRef: one normalised identity per relation, whatever tool spells it."""

from __future__ import annotations

from pathlib import Path

from catchment.tables import TableRef, duckdb_table, file_table, table


def test_duckdb_spellings_resolve_to_one_identity(tmp_path: Path) -> None:
    db = tmp_path / "Warehouse.duckdb"
    dbt_style = table("duckdb", '"ORDERS"', schema='"main"', database="warehouse", location=db)
    sling_style = table("DuckDB", "orders", location=str(db))
    io_manager_style = duckdb_table(db, "orders")
    assert dbt_style == sling_style == io_manager_style
    assert sling_style.location == str(db.resolve())
    assert sling_style.database == "warehouse"  # the file's stem, as DuckDB names the catalog
    assert hash(dbt_style) == hash(io_manager_style)


def test_different_files_or_schemas_are_different_tables(tmp_path: Path) -> None:
    a = duckdb_table(tmp_path / "a.duckdb", "orders")
    assert a != duckdb_table(tmp_path / "b.duckdb", "orders")
    assert a != duckdb_table(tmp_path / "a.duckdb", "orders", schema="raw")


def test_postgres_defaults_public_schema_and_aliases() -> None:
    a = table("postgresql", "Orders", location="LOCALHOST:5432", database="App")
    assert a == TableRef(
        system="postgres", location="localhost:5432", database="app", schema="public", name="orders"
    )
    assert a.namespace == "postgres://localhost:5432"
    assert a.qualified_name == "app.public.orders"
    assert str(a) == "postgres://localhost:5432/app.public.orders"


def test_memory_duckdb_and_file_tables(tmp_path: Path) -> None:
    mem = table("duckdb", "t")
    assert (mem.location, mem.database, mem.schema) == (":memory:", "memory", "main")
    f = file_table(tmp_path / "data" / "events.parquet")
    assert f == TableRef(system="file", location=str(tmp_path / "data"), name="events.parquet")
    assert table("file", "events.parquet", location=tmp_path / "data") == f


def test_to_dict_carries_openlineage_fields() -> None:
    d = table("snowflake", "Orders", schema="Raw", database="Analytics", location="ACME").to_dict()
    assert d["namespace"] == "snowflake://acme"
    assert d["qualified_name"] == "analytics.raw.orders"
    assert d["name"] == "orders"

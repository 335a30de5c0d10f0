"""Declared reads and writes resolve to the same TableRef other adapters use for a relation."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.errors import ConfigError
from catchment.tables import duckdb_table, file_table, table
from catchment_modal.identity import resolve_identity


def resolve(value: object, tmp_path: Path):
    return resolve_identity(
        value, root=tmp_path, warehouse=tmp_path / "warehouse.duckdb", where="specs.f.reads"
    )


def test_duckdb_shorthand_names_a_table_of_the_project_warehouse(tmp_path: Path) -> None:
    wh = tmp_path / "warehouse.duckdb"
    assert resolve("duckdb:raw.orders", tmp_path) == duckdb_table(wh, "orders", schema="raw")
    assert resolve("duckdb:Orders", tmp_path) == duckdb_table(wh, "orders", schema="main")
    assert resolve("DUCKDB:other.main.t", tmp_path) == duckdb_table(
        wh, "t", schema="main", database="other"
    )


def test_other_systems_and_files(tmp_path: Path) -> None:
    assert resolve("postgres:orders", tmp_path) == table("postgres", "orders", schema="public")
    assert resolve("snowflake:analytics.marts.orders", tmp_path) == table(
        "snowflake", "orders", schema="marts", database="analytics"
    )
    assert resolve("file:data/out/scores.parquet", tmp_path) == file_table(
        tmp_path / "data" / "out" / "scores.parquet"
    )


def test_mappings_give_a_location(tmp_path: Path) -> None:
    assert resolve({"system": "duckdb", "location": "other.duckdb", "name": "t"}, tmp_path) == (
        duckdb_table(tmp_path / "other.duckdb", "t")
    )
    assert resolve(
        {"system": "postgres", "location": "db:5432", "schema": "s", "name": "t"}, tmp_path
    ) == table("postgres", "t", schema="s", location="db:5432")
    ref = table("spark", "t", schema="s")
    assert resolve(ref, tmp_path) is ref


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("orders", "is not a table identity"),
        ("duckdb:", "is not a table identity"),
        ("duckdb:a.b.c.d", "at most database.schema.name"),
        ({"system": "duckdb"}, "system and name are required"),
        ({"system": "duckdb", "name": "t", "table": "x"}, "unknown fields ['table']"),
        (42, "is not a table identity"),
    ],
)
def test_bad_identities_say_where_and_how(value: object, says: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as err:
        resolve(value, tmp_path)
    assert says in err.value.message
    assert err.value.where == "specs.f.reads"
    assert err.value.hint is not None
    assert "duckdb:raw.orders" in err.value.hint

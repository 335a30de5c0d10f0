"""Column lineage of SQL: CTEs, joins, derived tables, set operations, stars and bad SQL."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from catchment.columns import ColumnSource, SqlParseError, column_lineage

MODEL = """
with orders as (select id, customer_id, amount from "warehouse"."main"."raw_orders"),
customers as (select id as customer_id, name from warehouse.main.raw_customers)
select c.customer_id, c.name, sum(o.amount) as revenue, count(*) as n_orders,
       upper(name) as shout
from orders o join customers c on o.customer_id = c.customer_id
where o.id not in (select order_id from warehouse.main.refunds)
group by 1, 2, 5
"""


def test_a_dbt_like_model_resolves_ctes_to_physical_columns() -> None:
    lineage = column_lineage(MODEL, dialect="duckdb")
    assert lineage.tables == (
        "warehouse.main.raw_orders",
        "warehouse.main.raw_customers",
        "warehouse.main.refunds",
    )
    orders, customers = "warehouse.main.raw_orders", "warehouse.main.raw_customers"
    assert lineage.columns == {
        "customer_id": (ColumnSource(customers, "id"),),
        "name": (ColumnSource(customers, "name"),),
        "revenue": (ColumnSource(orders, "amount"),),
        "n_orders": (),
        "shout": (ColumnSource(customers, "name"),),
    }
    assert lineage.kinds == {
        "customer_id": "identity",
        "name": "identity",
        "revenue": "aggregation",
        "n_orders": "aggregation",
        "shout": "transformation",
    }


def test_a_union_maps_columns_by_position_and_a_create_reads_its_select() -> None:
    sql = (
        "create or replace table main.all_events as "
        "select id, ts as at from raw.web union all select event_id, created_at from raw.app"
    )
    lineage = column_lineage(sql, dialect="duckdb")
    assert lineage.tables == ("raw.web", "raw.app")
    assert lineage.columns["at"] == (
        ColumnSource("raw.app", "created_at"),
        ColumnSource("raw.web", "ts"),
    )
    assert lineage.columns["id"] == (
        ColumnSource("raw.app", "event_id"),
        ColumnSource("raw.web", "id"),
    )


def test_stars_pass_through_derived_tables_and_stay_stars_on_tables() -> None:
    lineage = column_lineage(
        "select d.*, t.* from (select a as x from s.one) d join s.two t on true", dialect="duckdb"
    )
    assert lineage.columns == {
        "x": (ColumnSource("s.one", "a"),),
        "*": (ColumnSource("s.two", "*"),),
    }


def test_unparseable_sql_is_one_clear_error() -> None:
    with pytest.raises(SqlParseError, match="cannot parse the SQL"):
        column_lineage("select from where (", dialect="duckdb")
    with pytest.raises(SqlParseError, match="no statement"):
        column_lineage("  ", dialect="duckdb")


@pytest.mark.timeout(60)
def test_a_wide_union_is_fast() -> None:
    cols = ", ".join(f"coalesce(a.c{i}, 0) + 1 as c{i}" for i in range(150))
    sql = " union all ".join(f"select {cols} from s.t{j} a" for j in range(7))
    column_lineage(sql, dialect="duckdb")  # warm sqlglot's dialect tables
    start = time.process_time()
    lineage = column_lineage(sql, dialect="duckdb")
    spent = time.process_time() - start
    assert len(lineage.columns) == 150
    assert lineage.columns["c149"] == tuple(ColumnSource(f"s.t{j}", "c149") for j in range(7))
    assert spent < 0.5  # benchmarks/column_lineage.py measures it (docs/benchmarks.md)


PLAIN_QUERIES = [
    'select t0.id, (t0.val + t1.val) % 1000003 as val from "warehouse"."main"."a" as t0 '
    'join "warehouse"."main"."b" as t1 on t1.id = t0.id',
    "select distinct a.x, b.y as why, upper(a.z) zed, sum(b.n) total, a.k || 'x' as s "
    "from db.s.one a left outer join s.two b on a.id = b.id and (a.k = b.k) "
    "where a.x > 1 group by 1, 2 order by 1 desc limit 5;",
    "select id, ts as at from raw.web union all select event_id, created_at from raw.app",
    "select x, case when y is null then 0 else y end as y2, coalesce(z, 1) z from t",
    "select count(x) as n, max(y) m from t union select 1 as n, min(y) as m from u",
]


@pytest.mark.parametrize("sql", PLAIN_QUERIES)
def test_the_token_path_agrees_with_the_parse_tree(sql: str) -> None:
    import sqlglot
    from catchment import columns

    fast = columns._fast(sql, "duckdb")
    assert fast is not None, "a plain query takes the token path"
    full = columns._full(sqlglot, sql, "duckdb")
    assert fast.columns == full.columns
    assert fast.kinds == full.kinds
    assert sorted(fast.tables) == sorted(full.tables)


@pytest.mark.parametrize(
    "sql",
    [
        "select * from t",
        "with c as (select 1 as x) select x from c",
        "select x from (select x from t) d",
        "select x from t where x in (select y from u)",
        "select x + 1 from t",
        "select cast(x as int) as y from t",
        "select x from t; select y from u",
        "select a.x from t a join u using (id)",
    ],
)
def test_anything_less_plain_takes_the_parse_tree(sql: str) -> None:
    from catchment import columns

    assert columns._fast(sql, "duckdb") is None


def test_an_assets_sql_comes_from_its_compiled_file_else_its_spec(tmp_path: Path) -> None:
    from catchment import AssetKey, AssetSpec
    from catchment.cli.assets_cmd import column_lines
    from catchment.columns import asset_column_lineage, asset_sql
    from catchment.tables import table

    spec = AssetSpec(
        key=AssetKey("orders"),
        kinds=("sling",),
        metadata={"sql": "select id, amount * 100 as cents from public.orders"},
        table=table("duckdb", "orders", location=tmp_path / "w.duckdb"),
    )
    compiled = tmp_path / "orders.sql"
    compiled.write_text("select id from main.stg_orders")
    assert asset_sql(spec) == spec.metadata["sql"]
    assert asset_sql(spec, {"compiled_code_path": str(compiled)}) == compiled.read_text()
    assert (
        asset_sql(spec, {"compiled_code_path": str(tmp_path / "gone.sql")}) == spec.metadata["sql"]
    )
    lineage = asset_column_lineage(spec)
    assert lineage is not None
    assert lineage.columns["cents"] == (ColumnSource("public.orders", "amount"),)
    data, lines = column_lines(spec, None)
    assert data == {
        "id": {"kind": "identity", "sources": ["public.orders.id"]},
        "cents": {"kind": "transformation", "sources": ["public.orders.amount"]},
    }
    assert lines[0] == "  columns (2, from public.orders):"
    bare = AssetSpec(key=AssetKey("x"))
    assert column_lines(bare, None) == (
        None,
        ["  columns       no SQL to read column lineage from"],
    )


def test_how_a_column_is_computed_carries_through_ctes() -> None:
    lineage = column_lineage(
        "with o as (select id, max(d) as d, id + 1 as j from t group by id) "
        "select o.d, coalesce(o.d, 0) as e, o.id, o.j from o",
        dialect="duckdb",
    )
    assert lineage.kinds == {
        "d": "aggregation",
        "e": "aggregation",
        "id": "identity",
        "j": "transformation",
    }

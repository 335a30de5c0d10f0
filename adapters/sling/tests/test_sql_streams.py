"""A ``sql:`` stream's upstreams come from a sqlglot parse of its SQL (issue 25): it links to
the assets writing the tables it reads, and the real Sling binary runs it after them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from catchment import materialize
from catchment.definitions import AssetsDefinition
from catchment.errors import ConfigError
from catchment.graph import AssetGraph
from catchment.keys import AssetKey
from catchment.tables import table
from catchment_sling.sqlreads import tables_read

Builder = Callable[..., AssetsDefinition]


def test_tables_read_skips_ctes_and_table_functions() -> None:
    sql = (
        "with recent as (select * from shop.orders where ts > now() - interval '1 day') "
        "select r.*, c.name from recent r join customers c on r.customer_id = c.id "
        "cross join generate_series(1, 2)"
    )
    assert set(tables_read(sql, "postgres", "here")) == {(None, "customers"), ("shop", "orders")}


def test_unparseable_sql_names_the_stream() -> None:
    with pytest.raises(ConfigError, match="cannot be parsed") as info:
        tables_read("select from from where", "postgres", "replication.yaml (streams.x.sql)")
    assert info.value.where == "replication.yaml (streams.x.sql)"


def test_a_sql_stream_reads_the_tables_its_sql_names(build_sling: Builder) -> None:
    defn = build_sling(
        {
            "replication": {
                "source": "PG",
                "target": "WH",
                "streams": {
                    "big_orders": {
                        "sql": "select o.* from shop.orders o join shop.customers c using (id)",
                        "object": "raw.big_orders",
                        "mode": "full-refresh",
                    }
                },
            },
            "connections": {"PG": "postgresql://u@db:5432/app", "WH": "duckdb://warehouse.duckdb"},
        }
    )
    (spec,) = defn.specs
    location = "db:5432"
    assert set(spec.reads) == {
        table("postgres", "orders", schema="shop", database="app", location=location),
        table("postgres", "customers", schema="shop", database="app", location=location),
    }


@pytest.fixture
def shop(pg: Any) -> Iterator[str]:
    schema = f"sqlstream_{uuid.uuid4().hex[:10]}"
    pg.execute(f"create schema {schema}")
    pg.execute(f"create table {schema}.orders (id int, amount int)")
    pg.execute(f"insert into {schema}.orders values (1, 5), (2, 50), (3, 500)")
    try:
        yield schema
    finally:
        pg.execute(f"drop schema if exists {schema} cascade")


@pytest.mark.slow
@pytest.mark.postgres
def test_a_sql_stream_runs_after_the_stream_that_loads_its_input(
    project: Path, build_sling: Builder, pg_url: str, shop: str
) -> None:
    """Ingest lands PostgreSQL orders in DuckDB; a second component's SQL stream reads that
    DuckDB table (found by parsing its SQL) and lands the big ones back in PostgreSQL."""
    ingest = build_sling(
        {
            "replication": {
                "source": "PG",
                "target": "WH",
                "defaults": {"mode": "full-refresh", "object": "raw.{stream_table}"},
                "streams": {f"{shop}.orders": None},
            },
            "connections": {"PG": pg_url, "WH": "duckdb://warehouse.duckdb"},
        },
        name="ingest",
    )
    egress = build_sling(
        {
            "replication": {
                "source": "WH",
                "target": "PG",
                "streams": {
                    "big": {
                        "sql": "select id, amount from raw.orders where amount > 10",
                        "object": f"{shop}.big_orders",
                        "mode": "full-refresh",
                    }
                },
            },
            "connections": {"PG": pg_url, "WH": "duckdb://warehouse.duckdb"},
        },
        name="egress",
    )
    graph = AssetGraph.build([ingest, egress])
    big = AssetKey((shop, "big_orders"))
    assert graph.upstream(big) == {AssetKey("raw/orders")}
    result = materialize([ingest, egress])
    assert result.success, result.failures
    order = [e.asset_key for e in result.materializations]
    assert order == ["raw/orders", str(big)]
    with duckdb.connect(str(project / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.orders").fetchone() == (3,)

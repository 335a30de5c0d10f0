"""A target URL's ``?schema=`` is the default schema of objects without one, for every target
type (issue 25): two shards writing ``{stream_table}`` into different schemas of one DuckDB
file are two assets, and the real Sling binary writes where the assets say."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from catchment import materialize
from catchment.definitions import AssetsDefinition
from catchment.graph import AssetGraph
from catchment_sling.connections import parse_connection

Builder = Callable[..., AssetsDefinition]


@pytest.mark.parametrize(
    ("url", "schema"),
    [
        ("duckdb:///tmp/w.duckdb?schema=shard_a", "shard_a"),
        ("duckdb:///tmp/w.duckdb", "main"),
        ("sqlite:///tmp/w.db?schema=landing", "landing"),
        ("postgresql://u@h:5432/db?sslmode=disable&schema=shard_b", "shard_b"),
        ("snowflake://u@acct/DB?schema=RAW&role=LOADER", "RAW"),
        ("postgresql://u@h:5432/db", "public"),
    ],
)
def test_every_target_type_takes_the_urls_default_schema(
    url: str, schema: str, tmp_path: Path
) -> None:
    assert parse_connection("T", url, tmp_path).default_schema == schema


@pytest.fixture
def shards(pg: Any) -> Iterator[list[str]]:
    """Two PostgreSQL schemas (shards) holding an ``orders`` table each."""
    names = [f"shard_{uuid.uuid4().hex[:8]}_{i}" for i in range(2)]
    for i, name in enumerate(names):
        pg.execute(f"create schema {name}")
        pg.execute(f"create table {name}.orders (id int primary key, shard int)")
        pg.execute(f"insert into {name}.orders select g, {i} from generate_series(1, {i + 2}) g")
    try:
        yield names
    finally:
        for name in names:
            pg.execute(f"drop schema if exists {name} cascade")


@pytest.mark.slow
@pytest.mark.postgres
def test_two_shards_land_in_their_own_default_schemas(
    project: Path, build_sling: Builder, pg_url: str, shards: list[str]
) -> None:
    defns = [
        build_sling(
            {
                "replication": {
                    "source": "PG",
                    "target": "WH",
                    "defaults": {"mode": "full-refresh", "object": "{stream_table}"},
                    "streams": {f"{shard}.orders": None},
                },
                "connections": {
                    "PG": pg_url,
                    "WH": f"duckdb://warehouse.duckdb?schema=landing_{i}",
                },
            },
            name=f"shard{i}",
        )
        for i, shard in enumerate(shards)
    ]
    graph = AssetGraph.build(defns)  # no duplicate-asset error
    assert sorted(str(k) for k in graph.specs if not graph.is_external(k)) == [
        "landing_0/orders",
        "landing_1/orders",
    ]
    result = materialize(defns)
    assert result.success, result.failures
    with duckdb.connect(str(project / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from landing_0.orders").fetchone() == (2,)
        assert con.execute("select count(*) from landing_1.orders").fetchone() == (3,)
    rows = {e.asset_key: e.data["metadata"].get("rows") for e in result.materializations}
    assert rows == {"landing_0/orders": 2, "landing_1/orders": 3}

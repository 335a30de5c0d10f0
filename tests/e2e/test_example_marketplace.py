"""The marketplace example end to end (issue 25), from a clean copy, through the CLI.

Real tools throughout: two PostgreSQL shards (per-test databases on 127.0.0.1:5432) landed by
the Sling binary through one wildcard replication into two default schemas, dlt currency
rates, dbt hourly incremental models fed the run's window as vars, landing checks made in a
loop, and Snowflake (fakesnow) receiving each hour through a stage.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from .conftest import REPO, RUN_LEFTOVERS, Cli

EXAMPLE = REPO / "examples" / "marketplace"
SEED = (EXAMPLE / "data" / "shard_seed.sql").read_text()
RANGE = "2026-12-02-21:00...2026-12-02-23:00"


def _seed(conn: Any, currency: str, first_id: int) -> None:
    sql = SEED.replace(":'currency'", f"'{currency}'").replace(":first_id", str(first_id))
    with conn.cursor() as cur:
        cur.execute(sql)


@pytest.fixture
def shards(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Two throwaway shard databases, seeded; their URLs in SHARD_EU_URL / SHARD_US_URL."""
    psycopg = pytest.importorskip("psycopg")
    admin = psycopg.connect("host=127.0.0.1 port=5432 user=postgres dbname=postgres")
    admin.autocommit = True
    names = {s: f"mkt_{s}_{uuid.uuid4().hex[:8]}" for s in ("eu", "us")}
    urls = {}
    try:
        for shard, db in names.items():
            admin.execute(f"create database {db}")
            with psycopg.connect(f"host=127.0.0.1 port=5432 user=postgres dbname={db}") as conn:
                _seed(conn, "EUR" if shard == "eu" else "USD", 0 if shard == "eu" else 1000)
            urls[shard] = f"postgresql://postgres@127.0.0.1:5432/{db}?sslmode=disable"
            monkeypatch.setenv(f"SHARD_{shard.upper()}_URL", urls[shard])
        yield urls
    finally:
        for db in names.values():
            admin.execute(f"drop database if exists {db} with (force)")
        admin.close()


@pytest.fixture
def marketplace(tmp_path: Path) -> Cli:
    root = tmp_path / "marketplace"
    shutil.copytree(EXAMPLE, root, ignore=RUN_LEFTOVERS)
    return Cli(root)


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(900)
def test_the_marketplace_checks_and_materializes_an_hourly_range(
    marketplace: Cli, shards: dict[str, str]
) -> None:
    marketplace.run("check")
    assets = {r["key"]: r for r in marketplace.json("assets", "list")}
    # one asset per shard table (wildcard), in the schema each target URL names
    for shard in ("shard_eu", "shard_us"):
        for table in ("orders", "customers"):
            assert assets[f"{shard}/{table}"]["adapter"] == "sling"
    assert assets["reference/fx_rates"]["adapter"] == "dlt"
    assert sorted(assets["stg_orders"]["deps"]) == [
        "reference/fx_rates",
        "shard_eu/orders",
        "shard_us/orders",
    ]
    assert assets["orders_hourly"]["deps"] == ["stg_orders"]

    done = marketplace.run("materialize", "--partition", RANGE)
    assert "landed" in done.stdout
    wh = marketplace.root / "warehouse.duckdb"
    assert _rows(wh, "select count(*) from shard_eu.orders") == [(20,)]
    assert _rows(wh, "select count(*) from shard_us.orders") == [(20,)]
    # only the run's three hours were built, five orders per shard and hour
    hourly = _rows(
        wh,
        "select strftime(hour, '%H'), shard, orders from main.orders_hourly order by 1, 2",
    )
    assert hourly == [(h, s, 5) for h in ("21", "22", "23") for s in ("eu", "us")]

    [run] = marketplace.json("runs", "list")
    events = marketplace.json("runs", "show", run["run_id"])["events"]
    materialized = [e for e in events if e["type"] == "materialization"]
    # unpartitioned landing assets once, partitioned ones once per hour
    once = [e for e in materialized if e["asset_key"] == "shard_eu/orders"]
    assert [e.get("partition") for e in once] == [None]
    copied = [e for e in materialized if e["asset_key"] == "exports/orders_hourly_copied"]
    assert [e.get("partition") for e in copied] == [
        "2026-12-02-21:00",
        "2026-12-02-22:00",
        "2026-12-02-23:00",
    ]
    # each hour's record counts that hour's rows (two shards), not the range's six
    assert [e["data"]["metadata"]["rows"] for e in copied] == [2, 2, 2]
    landed = [e for e in events if e["type"] == "check_evaluated"]
    assert sum(e["data"]["check_name"] == "landed" and e["data"]["passed"] for e in landed) == 4

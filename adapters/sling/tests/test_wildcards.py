"""Wildcard streams (``schema.*``) expand at load time into one asset per table the source
has (issue 25), with a bounded catalog query; the real Sling binary loads them."""

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

Builder = Callable[..., AssetsDefinition]


@pytest.fixture
def sharded(pg: Any) -> Iterator[str]:
    """A schema with three tables (two ``orders_*``, one other)."""
    schema = f"wild_{uuid.uuid4().hex[:10]}"
    pg.execute(f"create schema {schema}")
    for name, rows in (("orders_eu", 2), ("orders_us", 3), ("customers", 1)):
        pg.execute(f"create table {schema}.{name} (id int)")
        pg.execute(f"insert into {schema}.{name} select g from generate_series(1, {rows}) g")
    try:
        yield schema
    finally:
        pg.execute(f"drop schema if exists {schema} cascade")


def _wild(build_sling: Builder, pg_url: str, streams: dict) -> AssetsDefinition:
    return build_sling(
        {
            "replication": {
                "source": "PG",
                "target": "WH",
                "defaults": {"mode": "full-refresh", "object": "raw.{stream_table}"},
                "streams": streams,
            },
            "connections": {"PG": pg_url, "WH": "duckdb://warehouse.duckdb"},
            "overrides": {},
        }
    )


@pytest.mark.postgres
def test_a_wildcard_stream_is_one_asset_per_table(
    build_sling: Builder, pg_url: str, sharded: str, password: str
) -> None:
    everything = _wild(build_sling, pg_url, {f"{sharded}.*": None})
    assert sorted(str(s.key) for s in everything.specs) == [
        "raw/customers",
        "raw/orders_eu",
        "raw/orders_us",
    ]
    # a pattern narrows it; an explicit stream keeps its own settings
    some = _wild(
        build_sling,
        pg_url,
        {f"{sharded}.orders_*": None, f"{sharded}.orders_us": {"object": "raw.us_orders"}},
    )
    assert sorted(str(s.key) for s in some.specs) == ["raw/orders_eu", "raw/us_orders"]
    with pytest.raises(ConfigError, match="matches no table") as info:
        _wild(build_sling, pg_url, {f"{sharded}.nothing_*": None})
    assert password not in str(info.value)


def test_an_unreachable_source_is_a_bounded_clear_error(build_sling: Builder) -> None:
    url = "postgresql://u:s3cret-pw@127.0.0.1:1/app?sslmode=disable"
    with pytest.raises(ConfigError, match="could not list the tables") as info:
        _wild(build_sling, url, {"shop.*": None})
    assert "s3cret-pw" not in f"{info.value} {info.value.hint}"


@pytest.mark.slow
@pytest.mark.postgres
def test_a_wildcard_stream_runs_with_the_real_binary(
    project: Path, build_sling: Builder, pg_url: str, sharded: str
) -> None:
    defn = _wild(build_sling, pg_url, {f"{sharded}.orders_*": None})
    result = materialize([defn])
    assert result.success, result.failures
    rows = {e.asset_key: e.data["metadata"]["rows"] for e in result.materializations}
    assert rows == {"raw/orders_eu": 2, "raw/orders_us": 3}
    with duckdb.connect(str(project / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from raw.orders_us").fetchone() == (3,)

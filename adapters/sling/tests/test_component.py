"""Discovery: streams become assets with keys, identities, kinds and metadata; linking across
tools by table identity; clear errors for bad component input."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from catchment.definitions import AssetsDefinition, asset
from catchment.errors import ConfigError
from catchment.graph import AssetGraph
from catchment.keys import AssetKey
from catchment.tables import duckdb_table, file_table, table

Builder = Callable[..., AssetsDefinition]

REPLICATION = {
    "source": "PG",
    "target": "WH",
    "defaults": {"mode": "full-refresh", "object": "raw.{stream_table}"},
    "streams": {
        "shop.orders": {
            "mode": "incremental",
            "primary_key": ["id"],
            "update_key": "updated_at",
        },
        "shop.customers": None,
        "shop.items": {"object": "items"},
        "custom": {"sql": "select 1 as a", "object": "raw.custom"},
    },
}


def _write(project: Path, data: dict, name: str = "replication.yaml") -> str:
    (project / name).write_text(yaml.safe_dump(data, sort_keys=False))
    return name


def _attrs(project: Path, pg_url: str, **extra: object) -> dict:
    return {
        "replication": _write(project, REPLICATION),
        "connections": {"PG": pg_url, "WH": "duckdb://warehouse.duckdb"},
        **extra,
    }


def test_each_stream_is_an_asset_with_identity_kinds_and_metadata(
    project: Path, build_sling: Builder, pg_url: str
) -> None:
    defn = build_sling(_attrs(project, pg_url))
    specs = {s.key.to_string(): s for s in defn.specs}
    assert list(specs) == ["raw/orders", "raw/customers", "main/items", "raw/custom"]
    assert defn.can_subset
    assert defn.adapter == "sling"
    assert defn.component == "ingest"
    assert defn.source == "catchment.yaml:3 (component ingest)"

    orders = specs["raw/orders"]
    wh = project / "warehouse.duckdb"
    assert orders.table == duckdb_table(wh, "orders", schema="raw")
    assert orders.reads == (
        table("postgres", "orders", schema="shop", database="postgres", location="127.0.0.1:5432"),
    )
    assert orders.kinds == ("sling", "duckdb")
    assert orders.metadata["mode"] == "incremental"
    assert orders.metadata["primary_key"] == ["id"]
    assert orders.metadata["update_key"] == "updated_at"
    assert orders.metadata["stream"] == "shop.orders"
    assert specs["main/items"].table == duckdb_table(wh, "items", schema="main")
    assert specs["raw/customers"].metadata["mode"] == "full-refresh"
    assert "update_key" not in specs["raw/customers"].metadata
    # custom SQL: the relations it reads are not guessed
    assert specs["raw/custom"].reads == ()
    assert specs["raw/custom"].metadata["sql"] == "select 1 as a"


def test_code_version_changes_only_for_the_edited_stream(
    project: Path, build_sling: Builder, pg_url: str
) -> None:
    before = {s.key: s.code_version for s in build_sling(_attrs(project, pg_url)).specs}
    edited = yaml.safe_load(yaml.safe_dump(REPLICATION))
    edited["streams"]["shop.orders"]["update_key"] = "modified_at"
    _write(project, edited)
    after = {
        s.key: s.code_version
        for s in build_sling(
            {
                "replication": "replication.yaml",
                "connections": {"PG": pg_url, "WH": "duckdb://warehouse.duckdb"},
            }
        ).specs
    }
    assert after[AssetKey("raw/orders")] != before[AssetKey("raw/orders")]
    assert after[AssetKey("raw/customers")] == before[AssetKey("raw/customers")]
    assert all(v and len(v) == 16 for v in after.values())


def test_overrides_prefix_and_component_defaults(
    project: Path, build_sling: Builder, pg_url: str
) -> None:
    defn = build_sling(
        _attrs(
            project,
            pg_url,
            key_prefix="sling",
            group="ingest",
            owners=["team:data"],
            tags={"tier": "bronze"},
            overrides={
                "shop.orders": {
                    "key": "sales/orders",
                    "group": "sales",
                    "owners": ["ann@example.com"],
                    "tags": {"pii": "no"},
                }
            },
        )
    )
    specs = {s.key.to_string(): s for s in defn.specs}
    assert set(specs) == {
        "sales/orders",
        "sling/raw/customers",
        "sling/main/items",
        "sling/raw/custom",
    }
    orders = specs["sales/orders"]
    assert (orders.group, orders.owners) == ("sales", ("ann@example.com",))
    assert orders.tags == {"tier": "bronze", "pii": "no"}
    customers = specs["sling/raw/customers"]
    assert (customers.group, customers.owners, customers.tags) == (
        "ingest",
        ("team:data",),
        {"tier": "bronze"},
    )


def test_inline_replication_and_csv_source(project: Path, build_sling: Builder) -> None:
    (project / "data").mkdir()
    defn = build_sling(
        {
            "replication": {
                "source": "LOCAL",
                "target": "WH",
                "defaults": {"object": "raw.{stream_file_name}"},
                "streams": {"file://data/people.csv": None},
            },
            "connections": {"WH": "duckdb://warehouse.duckdb"},
        }
    )
    (spec,) = defn.specs
    assert spec.key == AssetKey("raw/people")
    assert spec.reads == (file_table(project / "data" / "people.csv"),)
    assert spec.table == duckdb_table(project / "warehouse.duckdb", "people", schema="raw")


def test_postgres_source_is_external_and_python_reader_links_downstream(
    project: Path, build_sling: Builder, pg_url: str
) -> None:
    defn = build_sling(_attrs(project, pg_url))
    wh = project / "warehouse.duckdb"

    @asset(reads=[duckdb_table(wh, "orders", schema="raw")])
    def order_stats() -> int:
        return 1

    graph = AssetGraph.build([defn, order_stats])
    orders = AssetKey("raw/orders")
    assert graph.upstream(AssetKey("order_stats")) == frozenset({orders})
    (external,) = graph.upstream(orders)
    assert graph.is_external(external)
    assert external == AssetKey("external/postgres/postgres/shop/orders")


def test_unknown_connection_is_a_clear_config_error(
    project: Path, build_sling: Builder, pg_url: str, password: str
) -> None:
    with pytest.raises(ConfigError) as info:
        build_sling({"replication": _write(project, REPLICATION), "connections": {"PG": pg_url}})
    assert "'WH' is not a known connection" in info.value.message
    assert info.value.where == "replication.yaml (target)"
    assert password not in str(info.value)


def test_malformed_replication_yaml_is_a_clear_config_error(
    project: Path, build_sling: Builder, pg_url: str
) -> None:
    (project / "bad.yaml").write_text("source: PG\ntarget: WH\nstreams:\n  a.b: {object: [\n")
    with pytest.raises(ConfigError) as info:
        build_sling({"replication": "bad.yaml", "connections": {"PG": pg_url}})
    assert info.value.where is not None
    assert info.value.where.startswith("bad.yaml:")
    assert "does not parse" in info.value.message


def test_wrong_explicit_binary_and_unknown_override_fail_at_build(
    project: Path, build_sling: Builder, pg_url: str
) -> None:
    with pytest.raises(ConfigError) as info:
        build_sling(_attrs(project, pg_url, binary="bin/sling"))
    assert info.value.where == "attributes.binary"
    with pytest.raises(ConfigError) as info:
        build_sling(_attrs(project, pg_url, overrides={"shop.nope": {"group": "x"}}))
    assert "shop.nope" in info.value.message
    assert "shop.orders" in (info.value.hint or "")


def test_two_streams_writing_one_table_are_rejected(
    project: Path, build_sling: Builder, pg_url: str
) -> None:
    data = {
        "source": "PG",
        "target": "WH",
        "streams": {"a.t": {"object": "raw.t"}, "b.t": {"object": "raw.T"}},
    }
    with pytest.raises(ConfigError) as info:
        build_sling({"replication": data, "connections": {"PG": pg_url, "WH": "duckdb://w.duckdb"}})
    assert "'a.t' and 'b.t' both write" in info.value.message


def test_the_definition_never_shows_the_connection_url(
    project: Path, build_sling: Builder, pg_url: str, password: str
) -> None:
    defn = build_sling(_attrs(project, pg_url))
    assert password not in repr(defn)
    assert password not in str([s.metadata for s in defn.specs])
    assert password not in repr(defn.compute)


def test_overrides_accept_deps_and_reads(build_sling: Builder, project: Path) -> None:
    """Issue 25: an egress stream can say it runs after the dbt model it reads."""
    defn = build_sling(
        {
            "replication": REPLICATION,
            "connections": {"PG": "postgresql://u@db:5432/app", "WH": "duckdb://warehouse.duckdb"},
            "overrides": {
                "custom": {
                    "deps": ["marts/daily_revenue"],
                    "reads": ["marts.daily_revenue", "postgres://db:5432/app.shop.refunds"],
                }
            },
        }
    )
    spec = next(s for s in defn.specs if s.key == AssetKey("raw/custom"))
    assert [d.key for d in spec.deps] == [AssetKey("marts/daily_revenue")]
    assert spec.reads == (
        duckdb_table(project / "warehouse.duckdb", "daily_revenue", schema="marts"),
        table("postgres", "refunds", schema="shop", database="app", location="db:5432"),
    )

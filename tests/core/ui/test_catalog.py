"""The catalog index: words match key, description, table and column names; facets filter."""

from __future__ import annotations

from catchment import AssetGraph
from catchment.definitions import AssetsDefinition
from catchment.keys import AssetKey
from catchment.specs import AssetSpec
from catchment.tables import table
from catchment.ui.catalog import CatalogIndex, column_names


def _index() -> CatalogIndex:
    specs = (
        AssetSpec(
            key=AssetKey("stg/orders"),
            group="staging",
            kinds=("dbt",),
            metadata={"columns": {"order_id": {}, "amount": {}}},
            table=table("duckdb", "stg_orders", schema="main"),
        ),
        AssetSpec(
            key=AssetKey("marts/revenue"),
            group="marts",
            owners=("team:fin",),
            description="Daily revenue",
            tags={"tier": "gold"},
            metadata={"columns": [{"name": "revenue_day"}]},
        ),
    )
    return CatalogIndex.build(
        AssetGraph.build([AssetsDefinition(name="d", specs=specs, compute=lambda c: None)])
    )


def test_search_matches_every_word_in_key_description_table_and_columns() -> None:
    ix = _index()
    assert [e.name for e in ix.search("amount")] == ["stg/orders"]
    assert [e.name for e in ix.search("STG_ORDERS")] == ["stg/orders"]
    assert [e.name for e in ix.search("daily revenue_day")] == ["marts/revenue"]
    assert ix.search("daily amount") == []


def test_facets_count_and_filter() -> None:
    ix = _index()
    assert ix.counts["group"] == {"marts": 1, "staging": 1}
    assert ix.counts["tag"] == {"tier=gold": 1}
    assert [e.name for e in ix.search("", {"owner": "team:fin"})] == ["marts/revenue"]
    assert [e.name for e in ix.search("", {"kind": "dbt", "group": ""})] == ["stg/orders"]


def test_column_names_reads_the_shapes_adapters_record() -> None:
    assert column_names(AssetSpec(key=AssetKey("x"), metadata={"columns": "nope"})) == []
    assert column_names(
        AssetSpec(key=AssetKey("x"), metadata={"columns": ["a", {"name": "b"}]})
    ) == ["a", "b"]

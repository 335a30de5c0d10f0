"""The snapshot format: specs with partitions, mappings, automation, freshness and checks come
back equal; a value it cannot encode is refused, never written half."""

from __future__ import annotations

from typing import Any

import pytest
from catchment.keys import AssetKey
from catchment.multi_partitions import MultiPartitions
from catchment.partitions import (
    AllPartitionsMapping,
    DynamicPartitions,
    IdentityMapping,
    StaticMapping,
    StaticPartitions,
    TimeWindowMapping,
    TimeWindowPartitions,
)
from catchment.snapshot.format import (
    FORMAT_VERSION,
    DefaultsRecord,
    DefinitionRecord,
    ProblemRecord,
    Snapshot,
    UnsnapshotableError,
    decode,
    encode,
    head,
)
from catchment.specs import AssetDep, CheckSpec, RetryPolicy, spec
from catchment.tables import TableRef


def _snapshot(*definitions: DefinitionRecord) -> Snapshot:
    return Snapshot(
        format=FORMAT_VERSION,
        catchment_version="0",
        key="k",
        name="shop",
        root="/p",
        file="/p/catchment.yaml",
        defaults=DefaultsRecord(warehouse="/p/w.duckdb", storage_url=None),
        definitions=definitions,
        components={"core": "python"},
        problems=(ProblemRecord("component", "catchment.yaml:3", "broken", "fix it"),),
        graph_built=True,
    )


def test_specs_round_trip_with_every_partition_kind_and_mapping() -> None:
    daily = TimeWindowPartitions("2026-01-01", cadence="daily", timezone="Europe/Berlin")
    specs = (
        spec(
            "raw/orders",
            partitions=daily,
            table=TableRef(system="duckdb", name="orders", schema="raw"),
            automation="eager()",
            freshness="36h",
            partition_scope="last 7",
            metadata={"sql": "select 1", "n": 3, "nested": {"a": [1, 2]}},
            checks=[CheckSpec(name="not_empty", asset=AssetKey("raw/orders"), severity="warn")],
        ),
        spec(
            "marts/daily",
            partitions=daily,
            deps=[AssetDep(AssetKey("raw/orders"), TimeWindowMapping(-1, -1))],
        ),
        spec(
            "regions",
            partitions=StaticPartitions(["eu", "us"]),
            deps=[AssetDep(AssetKey("marts/daily"), AllPartitionsMapping())],
        ),
        spec(
            "customers",
            partitions=DynamicPartitions("customers"),
        ),
        spec(
            "orders_by_region",
            partitions=MultiPartitions(daily, ["eu", "us"]),
            deps=[
                AssetDep(AssetKey("regions"), StaticMapping({"c1": ["eu"]})),
                AssetDep(AssetKey("raw/orders"), IdentityMapping()),
            ],
        ),
    )
    record = DefinitionRecord(
        name="d",
        specs=specs,
        can_subset=True,
        required_resources=frozenset({"db"}),
        retry=RetryPolicy(max_retries=2),
        source="catchment.yaml:4 (component core)",
        component="core",
        adapter="dbt",
        timeout=30.0,
        pool="warehouse",
    )
    back = decode(encode(_snapshot(record)))
    assert back.definitions == (record,)
    parts = back.definitions[0].specs[0].partitions
    assert parts is not None
    assert list(parts.keys())[:1] == ["2026-01-01"]
    assert back.problems[0].hint == "fix it"


def test_head_reads_format_and_key_only() -> None:
    assert head(encode(_snapshot())) == (FORMAT_VERSION, "k")


class _Opaque:
    pass


@pytest.mark.parametrize(
    "value",
    [{"obj": _Opaque()}, {"when": object()}],
)
def test_a_value_without_an_encoding_is_refused(value: dict[str, Any]) -> None:
    record = DefinitionRecord(name="d", specs=(spec("a", metadata=value),))
    with pytest.raises(UnsnapshotableError):
        encode(_snapshot(record))


def test_garbage_does_not_decode() -> None:
    with pytest.raises(Exception, match=r"(?i)msgpack|expected|truncated|invalid"):
        decode(b"\x93garbage")


def test_only_definitions_with_partition_mappings_are_boxed() -> None:
    """The scan for mappings is per definition: one without any is encoded as it is, one
    with a mapping on any spec's dep comes back with it."""
    from catchment.snapshot.format import _boxed

    plain = DefinitionRecord(name="plain", specs=(spec("a"), spec("b", deps=["a"])))
    mapped = DefinitionRecord(
        name="mapped",
        specs=(
            spec("c", deps=["a"]),
            spec("d", deps=["c", AssetDep(AssetKey("b"), IdentityMapping())]),
        ),
    )
    unboxed = _snapshot(plain)
    assert _boxed(unboxed) is unboxed
    boxed = _boxed(_snapshot(plain, mapped))
    assert boxed.definitions[0] is plain
    assert boxed.definitions[1] is not mapped
    back = decode(encode(_snapshot(plain, mapped)))
    assert back.definitions == (plain, mapped)

"""The selection language: every operator, depth limits, precedence and each error."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from catchment.definitions import AssetsDefinition
from catchment.errors import SelectionError
from catchment.graph import AssetGraph
from catchment.keys import AssetKey
from catchment.selection import (
    And,
    AttrMatch,
    Downstream,
    KeyMatch,
    Not,
    Or,
    TagMatch,
    Upstream,
    parse,
    tokenize,
)
from catchment.specs import spec
from catchment.tables import duckdb_table

EXT = "external/duckdb/w/raw/events"


def _noop(context: Any) -> Iterator[Any]:
    yield from ()


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> AssetGraph:
    """raw/orders -> stg/orders -> marts/revenue -> marts/ltv, raw/customers -> stg/customers
    -> marts/revenue, and stg/orders also reads raw.events, which nothing writes."""
    events = duckdb_table(Path(tmp_path_factory.mktemp("sel")) / "w.duckdb", "events", schema="raw")
    specs = [
        spec("raw/orders", group="raw", kinds=["dlt"], owners=["team@data"], tags={"src": "shop"}),
        spec("raw/customers", group="raw", kinds=["dlt"], owners=["team@data"]),
        spec(
            "stg/orders",
            deps=["raw/orders"],
            reads=[events],
            group="staging",
            kinds=["dbt"],
            tags={"pii": "false"},
        ),
        spec(
            "stg/customers",
            deps=["raw/customers"],
            group="staging",
            kinds=["dbt"],
            tags={"pii": "true"},
        ),
        spec(
            "marts/revenue",
            deps=["stg/orders", "stg/customers"],
            group="marts",
            kinds=["dbt"],
            owners=["team@finance"],
            tags={"tier": "1"},
        ),
        spec(
            "marts/ltv", deps=["marts/revenue"], group="marts", kinds=["python"], tags={"tier": "2"}
        ),
    ]
    return AssetGraph.build([AssetsDefinition(name="all", specs=tuple(specs), compute=_noop)])


def sel(graph: AssetGraph, text: str) -> set[str]:
    return {str(k) for k in graph.select(text)}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("raw/orders", {"raw/orders"}),
        ("key:raw/orders", {"raw/orders"}),
        ("key:raw/*", {"raw/orders", "raw/customers"}),
        ("*/orders", {"raw/orders", "stg/orders"}),
        ("key:marts/?tv", {"marts/ltv"}),
        ("key:external/*", {EXT}),
        ("group:staging", {"stg/orders", "stg/customers"}),
        ("group:st*", {"stg/orders", "stg/customers"}),
        ("tag:pii=true", {"stg/customers"}),
        ("tag:pii", {"stg/orders", "stg/customers"}),
        ("tag:tier=*", {"marts/revenue", "marts/ltv"}),
        ("kind:dlt", {"raw/orders", "raw/customers"}),
        ("owner:team@finance", {"marts/revenue"}),
        (
            "*",
            {
                "raw/orders",
                "raw/customers",
                "stg/orders",
                "stg/customers",
                "marts/revenue",
                "marts/ltv",
            },
        ),
    ],
)
def test_atoms(graph: AssetGraph, text: str, expected: set[str]) -> None:
    assert sel(graph, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+stg/orders", {"stg/orders", "raw/orders", EXT}),
        ("1+marts/ltv", {"marts/ltv", "marts/revenue"}),
        ("2+marts/ltv", {"marts/ltv", "marts/revenue", "stg/orders", "stg/customers"}),
        ("raw/customers+", {"raw/customers", "stg/customers", "marts/revenue", "marts/ltv"}),
        ("raw/customers+1", {"raw/customers", "stg/customers"}),
        ("raw/customers+2 ", {"raw/customers", "stg/customers", "marts/revenue"}),
        ("+stg/customers+1", {"raw/customers", "stg/customers", "marts/revenue"}),
        ("group:raw+1", {"raw/orders", "raw/customers", "stg/orders", "stg/customers"}),
        (
            "+(tag:tier=2)",
            {
                "marts/ltv",
                "marts/revenue",
                "stg/orders",
                "stg/customers",
                "raw/orders",
                "raw/customers",
                EXT,
            },
        ),
        (
            "1+(stg/orders or stg/customers)",
            {"stg/orders", "stg/customers", "raw/orders", "raw/customers", EXT},
        ),
    ],
)
def test_graph_operators_and_depth(graph: AssetGraph, text: str, expected: set[str]) -> None:
    assert sel(graph, text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("group:raw or group:marts", {"raw/orders", "raw/customers", "marts/revenue", "marts/ltv"}),
        ("kind:dbt and group:marts", {"marts/revenue"}),
        ("group:marts and not kind:python", {"marts/revenue"}),
        ("not group:raw and not group:marts", {"stg/orders", "stg/customers"}),
        # precedence: not > and > or
        ("group:raw or group:marts and kind:python", {"raw/orders", "raw/customers", "marts/ltv"}),
        ("(group:raw or group:marts) and kind:python", {"marts/ltv"}),
        ("not kind:dbt or group:raw", {"raw/orders", "raw/customers", "marts/ltv"}),
        ("not (kind:dbt or group:raw)", {"marts/ltv"}),
        ("not not kind:python", {"marts/ltv"}),
        ("kind:dbt AND NOT tag:pii", {"marts/revenue"}),
        ("+marts/revenue and kind:dlt", {"raw/orders", "raw/customers"}),
    ],
)
def test_boolean_operators_and_precedence(graph: AssetGraph, text: str, expected: set[str]) -> None:
    assert sel(graph, text) == expected


def test_not_never_selects_external_sources(graph: AssetGraph) -> None:
    assert AssetKey(EXT) not in graph.select("not kind:dbt")
    assert AssetKey(EXT) not in graph.select(None)


def test_parse_tree_shapes() -> None:
    assert parse("a or b and not c") == Or(KeyMatch("a"), And(KeyMatch("b"), Not(KeyMatch("c"))))
    group_x = AttrMatch("group", "x")
    assert parse("2+group:x+1") == Or(Upstream(group_x, 2), Downstream(group_x, 1))
    assert parse("+(a)") == Upstream(KeyMatch("a"), None)
    assert parse("tag:k") == TagMatch("k", None)
    assert parse("tag:k=v=w") == TagMatch("k", "v=w")
    assert parse("2019_data") == KeyMatch("2019_data")  # digits not followed by + are a key


@pytest.mark.parametrize(
    "text",
    [
        "a or b and not c",
        "(a or b) and c",
        "not (a and b)",
        "2+group:x+1",
        "+(a or b)+",
        "tag:k=v or tag:k or kind:dbt or owner:t@x",
    ],
)
def test_str_round_trips(text: str) -> None:
    assert parse(str(parse(text))) == parse(text)


def test_tokens_carry_positions_and_depths() -> None:
    toks = tokenize("2+a+3 and (b)")
    assert [(t.kind, t.pos, t.depth) for t in toks] == [
        ("up", 0, 2),
        ("atom", 2, None),
        ("down", 3, 3),
        ("and", 6, None),
        ("(", 10, None),
        ("atom", 11, None),
        (")", 12, None),
        ("end", 13, None),
    ]


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("", 0, "expected an asset selection, got the end of the selection"),
        ("group:raw and", 13, "expected an asset selection (a key, key:, group:"),
        ("group:raw or or", 13, "got 'or'"),
        ("a b", 2, "expected 'and', 'or' or the end of the selection, got 'b'"),
        ("(a or b", 7, "expected ')' to close the '(' at column 1"),
        ("a)", 1, "unmatched ')'"),
        ("not", 3, "expected an asset selection"),
        ("+", 1, "expected an asset selection"),
        ("a and +)", 7, "got ')'"),
        ("group:", 6, "expected a value after 'group:'"),
        ("kind:dbt or owner:", 18, "expected a value after 'owner:'"),
        ("tag:=x", 4, "expected a tag name before '='"),
        ("tag:pii=", 8, "expected a value after 'tag:pii='"),
        ("key:a//b", 4, "invalid asset key 'a//b'"),
    ],
)
def test_syntax_errors_point_at_the_column(text: str, position: int, message: str) -> None:
    with pytest.raises(SelectionError) as info:
        parse(text)
    err = info.value
    assert err.position == position
    assert message in err.message
    if text:
        assert f"at column {position + 1}" in str(err)
        assert str(err).endswith(f"{text}\n    {' ' * position}^")


def test_unknown_prefix_lists_known_prefixes() -> None:
    with pytest.raises(SelectionError) as info:
        parse("kind:dbt or colour:red")
    assert info.value.position == 12
    assert "unknown selection prefix 'colour:'" in info.value.message
    assert "key:, group:, tag:, kind:, owner:" in info.value.message


@pytest.mark.parametrize(
    ("text", "position", "message"),
    [
        ("stg/ordrs", 0, "no asset has key 'stg/ordrs'; did you mean stg/orders"),
        ("kind:dbt and group:mart", 19, "no asset has group 'mart'; did you mean marts"),
        ("kind:spark", 5, "no asset has kind 'spark'; known: dbt, dlt, duckdb, python"),
        ("owner:nobody@x", 6, "no asset has owner 'nobody@x'"),
        ("tag:colour", 4, "no asset has tag 'colour'"),
        ("tag:tier=3", 4, "no asset has tag tier=3; known: 1, 2"),
    ],
)
def test_exact_values_that_name_nothing_are_errors(
    graph: AssetGraph, text: str, position: int, message: str
) -> None:
    with pytest.raises(SelectionError) as info:
        graph.select(text)
    assert info.value.position == position
    assert message in info.value.message


def test_globs_that_match_nothing_select_nothing(graph: AssetGraph) -> None:
    assert graph.select("key:nothing/*") == frozenset()
    assert graph.select("group:zz*") == frozenset()
    assert graph.select("tag:pii=maybe*") == frozenset()


def test_parse_is_reusable_across_graphs(graph: AssetGraph) -> None:
    s = parse("+marts/ltv")
    other = AssetGraph.build(
        [AssetsDefinition(name="d", specs=(spec("marts/ltv"),), compute=_noop)]
    )
    assert s.evaluate(other) == {AssetKey("marts/ltv")}
    assert len(s.evaluate(graph)) == 7

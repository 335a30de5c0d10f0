"""AssetGraph: linking by key and by table identity, validation errors, walks and order."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from catchment.definitions import AssetsDefinition, asset, asset_check, multi_asset
from catchment.errors import GraphError
from catchment.graph import AssetGraph, UnknownAssetError, external_key
from catchment.keys import AssetKey
from catchment.specs import AssetSpec, CheckSpec, spec
from catchment.tables import TableRef, duckdb_table

K = AssetKey


def _noop(context: Any) -> Iterator[Any]:
    yield from ()


def definition(name: str, *specs: AssetSpec, source: str | None = None) -> AssetsDefinition:
    return AssetsDefinition(name=name, specs=specs, compute=_noop, source=source)


def chain(*names: str, extra: dict[str, list[str]] | None = None) -> list[AssetsDefinition]:
    """One definition per name; each depends on the previous one (plus ``extra`` deps)."""
    extra = extra or {}
    return [
        definition(n, spec(n, deps=([names[i - 1]] if i else []) + extra.get(n, [])))
        for i, n in enumerate(names)
    ]


@pytest.fixture
def warehouse(tmp_path: Path) -> Path:
    return tmp_path / "warehouse.duckdb"


def test_two_tools_with_unrelated_keys_link_through_a_table(warehouse: Path) -> None:
    raw_orders = duckdb_table(warehouse, "orders", schema="raw")

    @multi_asset(specs=[spec("dlt/shop/orders", table=raw_orders, kinds=["dlt"])], adapter="dlt")
    def shop_pipeline(context: Any) -> Iterator[Any]:
        yield from ()

    # dbt spells the same relation its own way: quoted, upper case, catalog named.
    dbt_source = TableRef(
        system="duckdb",
        location=str(warehouse.resolve()),
        database="warehouse",
        schema="raw",
        name="orders",
    )

    @multi_asset(specs=[spec("stg_orders", reads=[dbt_source], kinds=["dbt"])], adapter="dbt")
    def dbt_project(context: Any) -> Iterator[Any]:
        yield from ()

    graph = AssetGraph.build([dbt_project, shop_pipeline])
    assert graph.upstream("stg_orders") == {K("dlt/shop/orders")}
    assert graph.downstream("dlt/shop/orders") == {K("stg_orders")}
    assert graph.toposort() == [K("dlt/shop/orders"), K("stg_orders")]
    assert graph.writer_of(raw_orders) == K("dlt/shop/orders")
    assert not any(graph.is_external(k) for k in graph)


def test_io_tables_fill_tables_so_reads_link_to_python_assets(warehouse: Path) -> None:
    @asset
    def orders() -> int:
        return 1

    reader = definition(
        "spark_job", spec("spark/report", reads=[duckdb_table(warehouse, "orders")])
    )
    graph = AssetGraph.build(
        [orders, reader], io_tables=lambda s: duckdb_table(warehouse, s.key.to_python_name())
    )
    assert graph.upstream("spark/report") == {K("orders")}
    assert graph.specs[K("orders")].table == duckdb_table(warehouse, "orders")
    # The stored definition carries the filled spec too, so executors see one truth.
    assert graph.definitions["orders"].specs[0].table == duckdb_table(warehouse, "orders")


def test_unmatched_reads_become_external_sources(warehouse: Path) -> None:
    events = duckdb_table(warehouse, "events", schema="raw")
    a = definition("a", spec("a", reads=[events]))
    b = definition(
        "b",
        spec("b", reads=[events, duckdb_table(warehouse, "b")], table=duckdb_table(warehouse, "b")),
    )
    graph = AssetGraph.build([a, b])
    ext = K("external/duckdb/warehouse/raw/events")
    assert external_key(events) == ext
    assert graph.upstream("a") == graph.upstream("b") == {ext}  # b's read of itself is no edge
    assert graph.is_external(ext)
    assert graph.definition_of(ext) is None
    assert graph.specs[ext].table == events
    assert graph.writer_of(events) == ext
    assert graph.roots() == {ext}
    assert graph.select(None) == graph.select("*") == {K("a"), K("b")}
    assert len(graph) == 3
    assert ext in graph


def test_external_key_skips_empty_parts_and_cleans_segments() -> None:
    ref = TableRef(system="file", location="/data", name="my events.parquet")
    assert external_key(ref) == K("external/file/my_events.parquet")


def test_two_writers_of_one_table_is_an_error_naming_both(warehouse: Path) -> None:
    t = duckdb_table(warehouse, "orders")
    sling = definition("sling_replication", spec("sling/orders", table=t), source="sling.yaml:4")
    dlt = definition("dlt_pipeline", spec("dlt/orders", table=t), source="pipeline.py:10")
    with pytest.raises(GraphError) as info:
        AssetGraph.build([sling, dlt])
    (problem,) = info.value.problems
    assert "two writers" in problem
    assert str(t) in problem
    assert "sling_replication (sling.yaml:4)" in problem
    assert "dlt_pipeline (pipeline.py:10)" in problem


def test_cycle_error_lists_the_cycle_and_definitions() -> None:
    defs = chain("a", "b", "c", extra={"a": ["c"]}) + chain("x")
    defs.append(definition("d", spec("d", deps=["c"])))  # downstream of the cycle, not in it
    with pytest.raises(GraphError) as info:
        AssetGraph.build(defs)
    (problem,) = info.value.problems
    assert "cycle a -> b -> c -> a" in problem
    assert "definitions: a, b, c" in problem
    assert "d" not in problem.split("definitions:")[1]
    assert "the asset graph is invalid" in str(info.value)


def test_self_dependency_is_a_cycle() -> None:
    with pytest.raises(GraphError, match=r"cycle a -> a"):
        AssetGraph.build([definition("a", spec("a", deps=["a"]))])


def test_one_spec_object_in_two_definitions_is_a_duplicate() -> None:
    shared = spec("a")
    with pytest.raises(GraphError, match="asset a is defined twice"):
        AssetGraph.build([definition("one", shared), definition("two", shared)])


def test_build_leaves_garbage_collection_as_it_found_it() -> None:
    import gc

    AssetGraph.build([definition("one", spec("a"))])
    assert gc.isenabled()
    gc.disable()
    try:
        AssetGraph.build([definition("one", spec("a"))])
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_every_problem_is_reported_at_once() -> None:
    defs = [
        definition("one", spec("a", deps=["missing/upstream"]), source="one.py:1"),
        definition("two", spec("a"), source="two.py:2"),
        definition("one", spec("z"), source="three.py:3"),
    ]
    with pytest.raises(GraphError) as info:
        AssetGraph.build(defs)
    problems = info.value.problems
    assert len(problems) == 3
    assert any(
        "asset a (one (one.py:1)) depends on unknown asset missing/upstream" in p for p in problems
    )
    assert any(
        "asset a is defined twice: by one (one.py:1) and by two (two.py:2)" in p for p in problems
    )
    assert any("two definitions are named 'one'" in p and "three.py:3" in p for p in problems)


def test_an_asset_that_reads_tables_and_depends_on_an_unknown_key_is_a_problem(
    warehouse: Path,
) -> None:
    """The unknown dependency is reported whether or not the asset also reads tables."""
    reader = spec("report", deps=["missing/upstream"], reads=[duckdb_table(warehouse, "raw.src")])
    with pytest.raises(GraphError) as info:
        AssetGraph.build([definition("report", reader, source="report.py:1")])
    assert any(
        "asset report (report (report.py:1)) depends on unknown asset missing/upstream" in p
        for p in info.value.problems
    )


def test_walks_with_and_without_depth() -> None:
    graph = AssetGraph.build(chain("a", "b", "c", "d", extra={"d": ["a"]}) + chain("x"))
    assert graph.ancestors(["c"]) == {K("a"), K("b")}
    assert graph.ancestors(["c"], depth=1) == {K("b")}
    assert graph.descendants(["a"], depth=1) == {K("b"), K("d")}
    assert graph.descendants(["a"]) == {K("b"), K("c"), K("d")}
    assert graph.descendants(["a", "b"]) == {K("b"), K("c"), K("d")}
    assert graph.ancestors([K("x")]) == frozenset()
    assert graph.roots() == {K("a"), K("x")}
    assert graph.sinks() == {K("d"), K("x")}
    assert graph.upstream("d") == {K("a"), K("c")}


def test_the_id_level_api_walks_the_same_graph_as_the_key_api(warehouse: Path) -> None:
    reads = spec("report", reads=[duckdb_table(warehouse, "raw.src")])
    graph = AssetGraph.build([*chain("a", "b", "c"), definition("report", reads)])
    ids = {k: graph.find_id(k) for k in graph.keys_by_id}
    assert None not in ids.values()
    assert graph.find_id(K("missing")) is None
    a, c = ids[K("a")], ids[K("c")]
    assert graph.keys_of(graph.downstream_ids([a])) == graph.descendants(["a"])
    assert graph.keys_of(graph.upstream_ids([c], depth=1)) == {K("b")}
    (external,) = graph.keys_of(graph.external_ids)
    assert graph.is_external(external)
    assert external in graph.upstream("report")


def test_the_by_id_sequences_agree_with_the_per_id_methods(warehouse: Path) -> None:
    checked = spec("b", deps=["a"], checks=[CheckSpec(name="ok", asset=K("b"))])
    reads = spec("report", reads=[duckdb_table(warehouse, "raw.src")])
    graph = AssetGraph.build(
        [definition("a", spec("a")), definition("b", checked), definition("report", reads)]
    )
    for i in range(len(graph)):
        assert graph.upstream_by_id[i] == graph.upstream_of_id(i)
        assert graph.definitions_by_id[i] is graph.definition_of_id(i)
        assert graph.checks_by_id.get(i, ()) == graph.checks_of_id(i)
    assert [c.name for c in graph.checks_by_id[graph.find_id(K("b"))]] == ["ok"]  # type: ignore[index]


def test_selection_uses_only_the_public_graph_api() -> None:
    """The seam: selections evaluate on graph ids without reaching into its private parts."""
    import ast

    import catchment.selection as selection

    tree = ast.parse(Path(selection.__file__).read_text())
    private = sorted(
        f"line {node.lineno}: .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and node.attr.startswith("_")
        and not node.attr.startswith("__")
        and "graph" in ast.unparse(node.value)
    )
    assert private == []


def test_toposort_is_deterministic_whatever_the_definition_order() -> None:
    defs = chain("m", "n") + chain("b", "a") + chain("z")
    first = AssetGraph.build(defs).toposort()
    assert first == AssetGraph.build(list(reversed(defs))).toposort()
    assert first == [K("b"), K("a"), K("m"), K("n"), K("z")]
    graph = AssetGraph.build(defs)
    assert list(graph) == first
    assert graph.toposort(["n", "b", "a"]) == [K("b"), K("a"), K("n")]


def _smallest_key_first(graph: AssetGraph) -> list[AssetKey]:
    """The reference order: Kahn's algorithm over keys, taking the smallest ready key."""
    import heapq

    ups = {k: set(graph.upstream(k)) for k in graph.keys_by_id}
    downs = {k: graph.downstream(k) for k in graph.keys_by_id}
    ready = [k for k, u in ups.items() if not u]
    heapq.heapify(ready)
    order: list[AssetKey] = []
    while ready:
        k = heapq.heappop(ready)
        order.append(k)
        for d in downs[k]:
            ups[d].discard(k)
            if not ups[d]:
                heapq.heappush(ready, d)
    return order


def test_toposort_takes_the_smallest_ready_key_whatever_the_key_order() -> None:
    """Random graphs whose keys sort before, after or among their upstreams' keys."""
    import random

    rng = random.Random(26)
    for _ in range(200):
        names = rng.sample([f"{p}{i}" for p in "abz" for i in range(30)], rng.randrange(1, 40))
        deps = {n: rng.sample(names[:i], min(i, rng.randrange(4))) for i, n in enumerate(names)}
        rng.shuffle(names)
        graph = AssetGraph.build([definition(n, spec(n, deps=deps[n])) for n in names])
        assert graph.toposort() == _smallest_key_first(graph)


def test_checks_from_specs_and_check_definitions() -> None:
    own = CheckSpec(name="unique", asset=K("orders"))
    orders = definition("orders", spec("orders", checks=[own]))

    @asset_check(asset="orders")
    def not_empty(orders: list[int]) -> bool:
        return bool(orders)

    graph = AssetGraph.build([orders, not_empty])
    assert [c.id for c in graph.checks_for("orders")] == ["orders:unique", "orders:not_empty"]
    assert [d.name for d in graph.check_definitions_for("orders")] == ["orders", "orders:not_empty"]
    assert graph.definition_of("orders") is graph.definitions["orders"]


def test_check_on_unknown_asset_or_twice_is_an_error() -> None:
    @asset_check(asset="ghost")
    def c1() -> bool:
        return True

    dup = AssetsDefinition(
        name="dup",
        specs=(),
        compute=_noop,
        check_specs=(CheckSpec(name="c", asset=K("a")), CheckSpec(name="c", asset=K("a"))),
    )
    with pytest.raises(GraphError) as info:
        AssetGraph.build([c1, dup, definition("a", spec("a"))])
    assert any("ghost:c1" in p and "unknown asset ghost" in p for p in info.value.problems)
    assert any("check a:c is defined twice" in p for p in info.value.problems)


def test_unknown_key_lookups_raise_a_clear_error() -> None:
    graph = AssetGraph.build(chain("a"))
    with pytest.raises(UnknownAssetError, match="no asset nope in the graph") as info:
        graph.upstream("nope")
    assert isinstance(info.value, KeyError)
    assert "nope" not in graph
    assert "bad key!" not in graph
    assert 3 not in graph
    assert "a" in graph
    assert K("a") in graph


def test_checks_collected_in_bulk_group_like_one_by_one() -> None:
    """200 random sets of definitions (checks on specs and on definitions, several per asset,
    shared between definitions, on unknown assets, defined twice): each asset's checks and
    evaluating definitions in the definitions' order, or problems when a check is on an
    unknown asset or defined twice."""
    import random

    from catchment.graph import _collect_checks

    rng = random.Random(26)
    clean = 0
    for _ in range(200):
        names = [f"a{i}" for i in range(rng.randint(1, 8))]
        known = [*names, "ghost"] if rng.random() < 0.2 else names

        def checks(n: int, known: list[str] = known) -> tuple[CheckSpec, ...]:
            return tuple(
                CheckSpec(name=f"c{rng.randint(0, 9)}", asset=K(rng.choice(known)))
                for _ in range(n)
            )

        defs = [
            AssetsDefinition(
                name=f"d{j}",
                specs=tuple(spec(n, checks=checks(rng.randint(0, 2))) for n in names[j::3]),
                compute=_noop,
                check_specs=checks(rng.randint(0, 3)),
            )
            for j in range(3)
        ]
        index = {(n,): i for i, n in enumerate(names)}
        want: dict[int, list[CheckSpec]] = {}
        want_defs: dict[int, list[AssetsDefinition]] = {}
        pairs = []
        for d in defs:
            for c in d.all_check_specs:
                i = index.get(c.asset.path, -1)
                pairs.append((i, c.name))
                want.setdefault(i, []).append(c)
                if all(o is not d for o in want_defs.setdefault(i, [])):
                    want_defs[i].append(d)
        problems: list[str] = []
        got, got_defs = _collect_checks(defs, index, problems)
        if -1 in want or len(set(pairs)) < len(pairs):
            assert problems
            continue
        clean += 1
        assert problems == []
        assert list(got.items()) == [(i, tuple(v)) for i, v in want.items()]
        assert [(i, list(v)) for i, v in got_defs.items()] == list(want_defs.items())
    assert clean > 50

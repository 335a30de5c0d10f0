"""Reconciliation: missing / stale (with reasons) / fresh, from code and records."""

from __future__ import annotations

from pathlib import Path

from catchment import AssetKey, asset, materialize, table
from catchment.definitions import AssetsDefinition
from catchment.execution.reconcile import apply_groups, reconcile
from catchment.graph import AssetGraph
from catchment.io_managers import MemoryIOManager
from catchment.partitions import StaticPartitions
from catchment.storage import Storage, open_storage


def _defs(b_version: str) -> list[AssetsDefinition]:
    @asset(code_version="v1")
    def a() -> int:
        return 1

    @asset(code_version=b_version)
    def b(a: int) -> int:
        return a + 1

    @asset(code_version="v1")
    def c(b: int) -> int:
        return b + 1

    @asset(code_version="v1", reads=[table("postgres", "events", schema="app")])
    def d() -> int:
        return 0

    return [a, b, c, d]


def _states(
    defs: list[AssetsDefinition], store: Storage, sel: str | None = None
) -> dict[str, tuple[str, tuple[str, ...]]]:
    graph = AssetGraph.build(defs)
    return {s.key.to_string(): (s.state, s.reasons) for s in reconcile(graph, store, sel)}


def test_missing_then_fresh_then_code_change_propagates(tmp_path: Path) -> None:
    store = open_storage(f"sqlite:///{tmp_path / 'r.db'}")
    io = {"default": MemoryIOManager()}
    defs = _defs("v1")
    assert {k: s for k, (s, _) in _states(defs, store).items()} == dict.fromkeys("abcd", "missing")
    materialize(defs, storage=store, io_managers=io)
    assert {k: s for k, (s, _) in _states(defs, store).items()} == dict.fromkeys("abcd", "fresh")

    changed = _defs("v2")
    states = _states(changed, store)
    assert states["a"] == ("fresh", ())
    assert states["b"] == ("stale", ("code changed (v1 -> v2)",))
    assert states["c"] == ("stale", ("upstream b stale",))
    assert states["d"][0] == "fresh"  # reads an external source: never stale because of it

    graph = AssetGraph.build(changed)
    groups = apply_groups(reconcile(graph, store), graph)
    assert groups == [((AssetKey("b"), AssetKey("c")), ())]
    materialize(changed, selection=list(groups[0][0]), storage=store, io_managers=io)
    assert {s for s, _ in _states(changed, store).values()} == {"fresh"}


def test_upstream_newer(tmp_path: Path) -> None:
    store = open_storage(f"sqlite:///{tmp_path / 'r.db'}")
    io = {"default": MemoryIOManager()}
    defs = _defs("v1")
    materialize(defs, storage=store, io_managers=io)
    materialize(defs, selection="a", storage=store, io_managers=io)
    states = _states(defs, store)
    assert states["b"] == ("stale", ("upstream a newer",))
    assert states["c"] == ("stale", ("upstream b stale",))
    # selecting only c still explains why
    assert _states(defs, store, "c") == {"c": ("stale", ("upstream b stale",))}


def test_missing_partition(tmp_path: Path) -> None:
    store = open_storage(f"sqlite:///{tmp_path / 'r.db'}")

    @asset(partitions=StaticPartitions(["x", "y", "z"]), code_version="1")
    def parted(context) -> int:  # type: ignore[no-untyped-def]
        return 1

    materialize([parted], partition="x", storage=store)
    (status,) = reconcile(AssetGraph.build([parted]), store)
    assert status.state == "stale"
    assert status.reasons == ("partitions y, z missing",)
    assert status.partitions == ("y", "z")
    materialize([parted], partition="y", storage=store)
    (status,) = reconcile(AssetGraph.build([parted]), store)
    assert status.reasons == ("partition z missing",)


def test_apply_runs_upstreams_first_across_partition_sets(tmp_path: Path) -> None:
    """An unpartitioned asset downstream of a partitioned one is built after it, although the
    two go into different runs (one per partition set)."""

    @asset
    def a() -> int:
        return 1

    @asset(partitions=StaticPartitions(["x", "y"]))
    def p(context) -> dict[str, int]:  # type: ignore[no-untyped-def]
        return dict.fromkeys(context.partition_keys, 2)

    @asset
    def z(p: dict[str, int]) -> int:
        return sum(p.values())

    defs = [a, p, z]
    graph = AssetGraph.build(defs)
    store = open_storage(f"sqlite:///{tmp_path / 'r.db'}")
    io = {"default": MemoryIOManager()}
    groups = apply_groups(reconcile(graph, store), graph)
    for keys, partitions in groups:
        materialize(
            defs, selection=list(keys), partition=partitions or None, storage=store, io_managers=io
        )
    assert {s.state for s in reconcile(graph, store)} == {"fresh"}
    assert materialize(defs, selection="z", storage=store, io_managers=io).output_for("z") == 4


def test_reconcile_reads_do_not_grow_with_partitioned_assets(tmp_path: Path) -> None:
    store = open_storage(f"sqlite:///{tmp_path / 'r.db'}")
    parts = StaticPartitions(["x", "y"])

    def parted(n: int) -> list[AssetsDefinition]:
        return [asset(lambda: 1, key=f"p{i}", partitions=parts, code_version="1") for i in range(n)]

    reads = []
    for n in (2, 40):
        defs = parted(n)
        materialize(defs, partition="x", storage=store, io_managers={"default": MemoryIOManager()})
        before = store.reads  # type: ignore[attr-defined]
        statuses = reconcile(AssetGraph.build(defs), store)
        reads.append(store.reads - before)  # type: ignore[attr-defined]
        assert {s.reasons for s in statuses} == {("partition y missing",)}
    assert reads[0] == reads[1] <= 2


def test_an_unpartitioned_upstream_change_makes_only_partitions_in_scope_stale(
    tmp_path: Path,
) -> None:
    """The port this replaces recomputed every hour since the first when one upstream changed;
    here only the partitions automation keeps current (the scope) go stale."""
    from datetime import UTC, datetime

    from catchment.partitions import TimeWindowPartitions

    store = open_storage(f"sqlite:///{tmp_path / 'r.db'}")
    io = {"default": MemoryIOManager()}
    daily = TimeWindowPartitions("2026-01-01")
    noon = datetime(2026, 1, 5, 12, tzinfo=UTC)

    @asset(code_version="1")
    def rates() -> int:
        return 1

    def defs(scope: str | None) -> list[AssetsDefinition]:
        @asset(partitions=daily, code_version="1", partition_scope=scope)
        def sales(context, rates: int) -> dict[str, int]:  # type: ignore[no-untyped-def]
            return dict.fromkeys(context.partition_keys, rates)

        return [rates, sales]

    materialize(defs(None), storage=store, io_managers=io, selection="rates")
    materialize(
        defs(None),
        storage=store,
        io_managers=io,
        selection="sales",
        partition="2026-01-01...2026-01-04",
    )
    graph = AssetGraph.build(defs(None))
    assert {s.state for s in reconcile(graph, store, now=noon)} == {"fresh"}
    materialize(defs(None), storage=store, io_managers=io, selection="rates")  # new data

    by_scope = {}
    for scope in (None, "last 3", "all"):
        statuses = reconcile(AssetGraph.build(defs(scope)), store, now=noon)
        sales = next(s for s in statuses if s.key == AssetKey("sales"))
        assert sales.state == "stale"
        assert sales.reasons == ("upstream rates newer",)
        by_scope[scope] = sales.partitions
    assert by_scope == {
        None: ("2026-01-04",),
        "last 3": ("2026-01-02", "2026-01-03", "2026-01-04"),
        "all": ("2026-01-01", "2026-01-02", "2026-01-03", "2026-01-04"),
    }
    # a day later the new window is missing, and only it is asked for
    tomorrow = datetime(2026, 1, 6, 12, tzinfo=UTC)
    materialize(
        defs(None), storage=store, io_managers=io, selection="sales", partition="2026-01-04"
    )
    (_, sales) = reconcile(AssetGraph.build(defs(None)), store, now=tomorrow)
    assert (sales.state, sales.reasons, sales.partitions) == (
        "stale",
        ("partition 2026-01-05 missing",),
        ("2026-01-05",),
    )

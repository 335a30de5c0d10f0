"""Drift findings from observations and recorded history (no warehouse needed)."""

from __future__ import annotations

from catchment.definitions import AssetsDefinition
from catchment.execution.drift import Observed, column_diff
from catchment.graph import AssetGraph
from catchment.keys import AssetKey
from catchment.observation import Observation, gone, unknown
from catchment.specs import AssetSpec
from catchment.storage.base import MaterializationRecord
from catchment.tables import table

SRC = table("postgres", "orders", location="db:5432", database="app")
A = AssetKey.parse("a")


def _graph() -> AssetGraph:
    spec = AssetSpec(key=A, table=table("duckdb", "a", location="/w.duckdb"), reads=(SRC,))
    return AssetGraph.build([AssetsDefinition(name="a", specs=(spec,), compute=lambda c: None)])


def _record(seq: int) -> MaterializationRecord:
    return MaterializationRecord(asset_key=A, partition=None, run_id="r", seq=seq, timestamp=0.0)


def _obs(version: str, **cols: str) -> Observation:
    return Observation(exists=True, columns=cols or {"id": "INTEGER"}, data_version=version)


def test_column_diff_names_added_removed_and_retyped() -> None:
    diff = column_diff({"id": "INTEGER", "x": "VARCHAR"}, {"id": "BIGINT", "y": "DATE"})
    assert diff == "added y; removed x; retyped id (INTEGER -> BIGINT)"
    assert column_diff({"id": "INTEGER"}, {"id": "INTEGER"}) is None


def test_gone_drifted_changed_and_unknown() -> None:
    graph = _graph()
    history = {A: [(5, _obs("v1"))]}
    finding = Observed(graph, {A: gone()}, history).finding(A, _record(3))
    assert finding
    assert finding.kind == "gone"
    assert "table gone" in finding.reason
    finding = Observed(graph, {A: _obs("v1", id="INTEGER", z="INTEGER")}, history).finding(
        A, _record(3)
    )
    assert finding
    assert finding.kind == "drifted"
    assert "added z" in finding.reason
    finding = Observed(graph, {A: _obs("v2")}, history).finding(A, _record(3))
    assert finding
    assert finding.kind == "changed"
    assert "changed outside catchment" in finding.reason
    assert Observed(graph, {A: _obs("v1")}, history).finding(A, _record(3)) is None
    # a baseline older than the materialization says nothing about what the code produced
    assert Observed(graph, {A: _obs("v2")}, history).finding(A, _record(9)) is None
    finding = Observed(graph, {A: unknown("boom")}, history).finding(A, _record(3))
    assert finding
    assert finding.kind == "unknown"
    assert "boom" in finding.reason


def test_a_source_changed_since_the_downstream_read_it() -> None:
    graph = _graph()
    src = graph.upstream(A)
    (source,) = src
    observed = Observed(graph, {A: _obs("x"), source: _obs("s2")}, {source: [(2, _obs("s1"))]})
    assert observed.sources_of(A) == (source,)
    change = observed.source_change(source, _record(3))
    assert change
    assert change.startswith("source changed:")
    assert "s1 -> s2" in change
    # rebuilt after the change was recorded: fresh again
    history = {source: [(2, _obs("s1")), (4, _obs("s2"))]}
    assert Observed(graph, {source: _obs("s2")}, history).source_change(source, _record(6)) is None
    # a source that cannot be observed changes nothing downstream; it is itself unknown
    observed = Observed(graph, {source: unknown("down")}, {source: [(2, _obs("s1"))]})
    assert observed.source_change(source, _record(3)) is None
    assert observed.external_status(source)[0] == "unknown"


def test_a_later_partition_write_is_not_a_change_outside_catchment() -> None:
    graph = _graph()
    history = {A: [(5, _obs("v1"))]}
    # partition p1 built at seq 3, observed at 5; partition p2 built at seq 7 changed the table
    observed = Observed(graph, {A: _obs("v2")}, history, latest={A: 7})
    assert observed.finding(A, _record(3)) is None
    assert Observed(graph, {A: _obs("v2")}, history).finding(A, _record(3)) is not None

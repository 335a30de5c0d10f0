"""Exact node sets become short dbt selections: folders collapse, unit tests stay out."""

from __future__ import annotations

from catchment_dbt.manifest import DependsOn, Manifest, Node, UnitTest
from catchment_dbt.selection import NodeIndex, select_args


def _manifest() -> Manifest:
    def node(uid: str, kind: str, fqn: list[str]) -> Node:
        return Node(unique_id=uid, resource_type=kind, name=fqn[-1], fqn=fqn)

    nodes = [
        node("model.p.a", "model", ["p", "staging", "a"]),
        node("model.p.b", "model", ["p", "staging", "b"]),
        node("model.p.c", "model", ["p", "marts", "c"]),
        node("test.p.not_null_c", "test", ["p", "marts", "not_null_c"]),
        node("seed.p.s", "seed", ["p", "s"]),
    ]
    unit = UnitTest(
        unique_id="unit_test.p.a.t",
        name="t",
        fqn=["p", "staging", "a", "t"],
        depends_on=DependsOn(nodes=["model.p.a"]),
    )
    return Manifest(nodes={n.unique_id: n for n in nodes}, unit_tests={unit.unique_id: unit})


def test_everything_is_one_criterion() -> None:
    m = _manifest()
    everything = set(m.nodes) | set(m.unit_tests)
    assert select_args(NodeIndex.of(m), everything) == (["fqn:p"], [])


def test_a_whole_folder_collapses_to_its_prefix() -> None:
    m = _manifest()
    select, exclude = select_args(NodeIndex.of(m), {"model.p.c", "test.p.not_null_c"})
    assert (select, exclude) == (["fqn:p.marts"], [])


def test_a_model_without_its_unit_test_excludes_the_unit_test() -> None:
    m = _manifest()
    select, exclude = select_args(NodeIndex.of(m), {"model.p.a"})
    assert select == ["fqn:p.staging.a"]
    assert exclude == ["fqn:p.staging.a.t"]


def test_partial_folders_list_each_node() -> None:
    m = _manifest()
    select, exclude = select_args(NodeIndex.of(m), {"model.p.c", "model.p.b"})
    assert sorted(select) == ["fqn:p.marts.c", "fqn:p.staging.b"]
    assert exclude == []

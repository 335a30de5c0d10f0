"""The conformance kit's own machinery: rule messages, folder snapshots, warehouse listing,
identity re-normalisation, canonical spec descriptions, and the event checks that catch a
compute reporting outside its selection (run through the real engine)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from catchment import materialize
from catchment.context import StepContext
from catchment.definitions import AssetsDefinition, multi_asset
from catchment.keys import AssetKey
from catchment.results import MaterializeResult, StepResult
from catchment.specs import spec
from catchment.tables import TableRef, duckdb_table, table
from catchment.testing import (
    RULES,
    ConformanceViolation,
    check,
    describe_definitions,
    snapshot_files,
    violated,
    warehouse_tables,
    write_project,
)
from catchment.testing.suite import _check_well_formed, _renormalise

KEYS = [AssetKey(("t", n)) for n in ("a", "b", "c")]


def test_rules_are_numbered_and_a_violation_names_its_rule() -> None:
    assert list(RULES) == [f"C{i}" for i in range(1, 13)]
    with pytest.raises(ConformanceViolation) as info:
        violated("C3", "two loads differ")
    assert str(info.value) == "conformance rule C3 (discovery is deterministic): two loads differ"
    assert info.value.rule is RULES["C3"]
    assert isinstance(info.value, AssertionError)  # pytest reports it as a test failure
    check(True, "C5", "never raised")
    with pytest.raises(ConformanceViolation, match=r"^conformance rule C5 \(asset keys"):
        check([], "C5", "duplicates")


def test_snapshot_ignores_catchment_caches_and_pycache_but_sees_edits(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.sql").write_text("select 1")
    before = snapshot_files(tmp_path)
    (tmp_path / ".catchment" / "dbt").mkdir(parents=True)
    (tmp_path / ".catchment" / "dbt" / "manifest.json").write_text("{}")
    (tmp_path / "models" / "__pycache__").mkdir()
    (tmp_path / "models" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    assert snapshot_files(tmp_path) == before
    (tmp_path / "models" / "a.sql").write_text("select 2")
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "manifest.json").write_text("{}")
    after = snapshot_files(tmp_path)
    assert after["models/a.sql"] != before["models/a.sql"]
    assert set(after) - set(before) == {"target/manifest.json"}


def test_warehouse_tables_lists_tables_and_views_without_creating_the_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "warehouse.duckdb"
    assert warehouse_tables(path) is None
    assert not path.exists()
    con = duckdb.connect(str(path))
    con.execute("create schema raw; create table raw.orders as select 1 as id")
    con.execute("create view main.v as select * from raw.orders")
    con.close()
    assert warehouse_tables(path) == {"warehouse.raw.orders", "warehouse.main.v"}


def test_renormalising_spots_hand_built_identities(tmp_path: Path) -> None:
    good = duckdb_table(tmp_path / "w.duckdb", "Orders", schema="RAW")
    assert _renormalise(good) == good
    pg = table("postgres", "Orders", location="db:5432")
    assert _renormalise(pg) == pg
    hand_built = TableRef(system="duckdb", location=str(tmp_path / "w.duckdb"), name="Orders")
    assert _renormalise(hand_built) != hand_built  # case and the missing database/schema


def _defn(code_version: str) -> AssetsDefinition:
    @multi_asset(specs=[spec(k, code_version=code_version, kinds=["t"]) for k in KEYS])
    def three(context: StepContext) -> Iterator[StepResult]:
        for k in KEYS:
            if k in context.selected_keys:
                yield MaterializeResult(key=k)

    return three


def test_descriptions_are_equal_for_equal_declarations_only() -> None:
    assert describe_definitions([_defn("v1")]) == describe_definitions([_defn("v1")])
    assert describe_definitions([_defn("v1")]) != describe_definitions([_defn("v2")])


def test_a_compute_that_reports_exactly_its_selection_is_well_formed(tmp_path: Path) -> None:
    result = materialize([_defn("v1")], selection=["t/a", "t/c"])
    _check_well_formed(result, "run", "C7")
    assert result.materialized_keys == [AssetKey("t/a"), AssetKey("t/c")]


def test_a_compute_reporting_an_unselected_asset_breaks_c7() -> None:
    @multi_asset(specs=[spec(k) for k in KEYS])
    def greedy(context: StepContext) -> Iterator[StepResult]:
        for k in KEYS:  # ignores context.selected_keys
            yield MaterializeResult(key=k)

    result = materialize([greedy], selection=["t/a"], raise_on_failure=False)
    with pytest.raises(
        ConformanceViolation, match=r"rule C7 .*reported t/\w, which was not selected"
    ):
        _check_well_formed(result, "run", "C7")


def test_a_compute_forgetting_a_selected_asset_breaks_c7() -> None:
    @multi_asset(specs=[spec(k) for k in KEYS])
    def lazy(context: StepContext) -> Iterator[StepResult]:
        yield MaterializeResult(key=KEYS[0])

    result = materialize([lazy], selection=["t/a", "t/b"], raise_on_failure=False)
    with pytest.raises(ConformanceViolation, match=r"rule C7 .*without reporting \['t/b'\]"):
        _check_well_formed(result, "run", "C7")


def test_a_compute_reporting_a_foreign_asset_breaks_c7() -> None:
    @multi_asset(specs=[spec(KEYS[0])])
    def stranger(context: StepContext) -> Iterator[StepResult]:
        yield MaterializeResult(key=AssetKey("someone/else"))

    result = materialize([stranger], raise_on_failure=False)
    with pytest.raises(ConformanceViolation, match=r"rule C7 .*does not declare"):
        _check_well_formed(result, "run", "C7")


def test_write_project_writes_a_loadable_catchment_yaml(tmp_path: Path) -> None:
    from catchment.testing import load_isolated

    (tmp_path / "assets.py").write_text(
        "from catchment import asset\n\n@asset\ndef numbers():\n    return [1, 2]\n"
    )
    root = write_project(
        tmp_path, [{"type": "python", "name": "py", "attributes": {"module": "assets.py"}}]
    )
    project = load_isolated(root, ["builtin"])
    assert project.problems == []
    assert [str(k) for k in project.require_graph()] == ["numbers"]

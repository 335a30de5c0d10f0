"""The DuckDB observer on real DuckDB files: one catalog read, tables and views, gone, locked."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb
import pytest
from catchment.observers.duckdb import DuckDBObserver
from catchment.tables import duckdb_table


def _db(path: Path) -> None:
    con = duckdb.connect(str(path))
    con.execute("create table orders as select range as id, 'x' as note from range(5)")
    con.execute("create schema marts")
    con.execute("create view marts.v as select id from orders")
    con.close()


def test_tables_and_views_are_observed_with_rows_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    _db(path)
    orders, view, nope = (
        duckdb_table(path, "orders"),
        duckdb_table(path, "v", schema="marts"),
        duckdb_table(path, "nope"),
    )
    found = DuckDBObserver(str(path)).observe([orders, view, nope])
    assert found[orders].exists
    assert found[orders].row_count == 5
    assert found[orders].columns == {"id": "BIGINT", "note": "VARCHAR"}
    assert found[view].exists
    assert found[view].row_count is None
    assert found[view].columns == {"id": "BIGINT"}
    assert found[nope].exists is False


def test_the_data_version_follows_rows_and_columns(tmp_path: Path) -> None:
    path = tmp_path / "wh.duckdb"
    _db(path)
    ref = duckdb_table(path, "orders")
    observer = DuckDBObserver(str(path))
    first = observer.observe([ref])[ref]
    assert observer.observe([ref])[ref].data_version == first.data_version
    con = duckdb.connect(str(path))
    con.execute("insert into orders values (99, 'y')")
    con.close()
    second = observer.observe([ref])[ref]
    assert second.data_version != first.data_version
    assert second.row_count == 6


def test_a_missing_file_means_every_table_is_gone(tmp_path: Path) -> None:
    ref = duckdb_table(tmp_path / "none.duckdb", "orders")
    assert DuckDBObserver(ref.location).observe([ref])[ref].exists is False
    assert not (tmp_path / "none.duckdb").exists()  # observing creates nothing


def test_an_in_memory_database_is_unknown() -> None:
    ref = duckdb_table(":memory:", "orders")
    obs = DuckDBObserver(":memory:").observe([ref])[ref]
    assert obs.exists is None
    assert obs.error
    assert "in-memory" in obs.error


def test_an_unchanged_file_is_answered_from_the_cache_a_written_one_is_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import catchment.observers.duckdb as module

    monkeypatch.setenv("CATCHMENT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(module, "QUIET_SECONDS", 0.0)
    path = tmp_path / "wh.duckdb"
    _db(path)
    ref = duckdb_table(path, "orders")
    first = DuckDBObserver(str(path)).observe([ref])[ref]
    assert list((tmp_path / "cache" / "duckdb-catalog").iterdir())

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an unchanged file must not be opened")

    monkeypatch.setattr(duckdb, "connect", refuse)
    again = DuckDBObserver(str(path)).observe([ref])[ref]
    assert again.data_version == first.data_version
    assert again.observed_at >= first.observed_at
    monkeypatch.undo()
    monkeypatch.setenv("CATCHMENT_CACHE_DIR", str(tmp_path / "cache"))
    con = duckdb.connect(str(path))
    con.execute("insert into orders values (7, 'z')")
    con.close()
    assert DuckDBObserver(str(path)).observe([ref])[ref].row_count == 6


def _written(path: Path, seconds_ago: float, whole_seconds: bool = False) -> None:
    """Give ``path`` a modification time ``seconds_ago`` (a whole second: a coarse clock)."""
    ns = time.time_ns() - int(seconds_ago * 1e9)
    if whole_seconds:
        ns -= ns % 1_000_000_000
    os.utime(path, ns=(ns, ns))


def test_a_freshly_written_file_is_not_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATCHMENT_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "wh.duckdb"
    _db(path)
    ref = duckdb_table(path, "orders")
    _written(path, -1.0)  # being written: its time is not behind the clock yet
    DuckDBObserver(str(path)).observe([ref])
    assert not (tmp_path / "cache").exists()
    _written(path, -1.0, whole_seconds=True)  # a coarse clock, the current second
    DuckDBObserver(str(path)).observe([ref])
    assert not (tmp_path / "cache").exists()


def test_a_file_left_alone_for_50_ms_is_cached_where_the_clock_is_fine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The observation a run makes just after writing serves the next plan."""
    monkeypatch.setenv("CATCHMENT_CACHE_DIR", str(tmp_path / "cache"))
    path = tmp_path / "wh.duckdb"
    _db(path)
    ref = duckdb_table(path, "orders")
    _written(path, 0.2)
    DuckDBObserver(str(path)).observe([ref])
    assert list((tmp_path / "cache" / "duckdb-catalog").iterdir())


def test_whole_second_modification_times_mean_a_coarse_clock_and_a_second_of_quiet() -> None:
    from catchment.observers.duckdb import _quiet_for

    assert _quiet_for([10, 1_764_700_000_000_000_000, -1, -1]) == 1.0
    assert _quiet_for([10, 1_764_700_000_123_456_789, -1, -1]) == 0.05
    assert _quiet_for([10, 1_764_700_000_000_000_000, 20, 1_764_700_001_000_000_000]) == 1.0


def test_data_versions_stay_what_earlier_versions_recorded(tmp_path: Path) -> None:
    # A changed formula would make every recorded DuckDB relation look changed after an upgrade.
    path = tmp_path / "wh.duckdb"
    _db(path)
    orders, view = duckdb_table(path, "orders"), duckdb_table(path, "v", schema="marts")
    found = DuckDBObserver(str(path)).observe([orders, view])
    assert found[orders].data_version == "8645a95b4b9c67c6"
    assert found[view].data_version == "6dac380e64bb1226"


def test_a_relation_whose_catalog_rows_come_apart_is_observed_whole() -> None:
    # DuckDB's join does not keep a table's columns together in a large catalog.
    from catchment.observers.duckdb import read_catalog

    rows = [
        (1, "main", "A", "ID", "BIGINT", 2),
        (2, "main", "b", "x", "VARCHAR", 7),
        (1, "main", "A", "Note", "VARCHAR", 2),
        (3, "Marts", "v", "id", "BIGINT", None),
    ]

    class Rows:
        def execute(self, query: str) -> Rows:
            return self

        def fetchall(self) -> list[tuple[object, ...]]:
            return rows

    found = read_catalog(Rows(), mtime=5.0)
    assert found[("main", "a")].columns == {"id": "BIGINT", "note": "VARCHAR"}
    assert found[("main", "a")].row_count == 2
    assert found[("main", "b")].row_count == 7
    assert found[("marts", "v")].row_count is None
    assert {o.last_modified for o in found.values()} == {5.0}


def _tables(path: Path, count: int, config: dict[str, str] | None = None) -> None:
    con = duckdb.connect(str(path), config=config or {})
    for i in range(count):
        con.execute(f"create table t{i} (id bigint)")
    con.close()


def test_many_relations_in_the_old_storage_format_get_one_warning_naming_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import catchment.observers.duckdb as module

    monkeypatch.setenv("CATCHMENT_CACHE_DIR", "off")
    monkeypatch.setattr(module, "SLOW_FORMAT_RELATIONS", 3)  # 5,000 in earnest
    monkeypatch.setattr(module, "_checked", set())
    old, new, few = tmp_path / "old.duckdb", tmp_path / "new.duckdb", tmp_path / "few.duckdb"
    _tables(old, 3)  # DuckDB's default format for a new file
    _tables(new, 3, {"storage_compatibility_version": "v1.2.0"})
    _tables(few, 2)
    for path in (old, old, new, few):
        DuckDBObserver(str(path)).observe([duckdb_table(path, "t0")])
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warned) == 1  # once per file and process, not on every observation
    assert str(old) in warned[0]
    assert "storage version v1.2.0 or later" in warned[0]
    assert "Troubleshooting" in warned[0]

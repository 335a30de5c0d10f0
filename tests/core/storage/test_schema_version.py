"""A run store written by a newer catchment is refused with the version this catchment
understands (``SCHEMA_VERSION``), and the docs quote that same number; an older one is
migrated on open."""

from __future__ import annotations

import os
import re
import sqlite3
import time
import uuid
from pathlib import Path

import pytest
from catchment.storage import SCHEMA_VERSION, RunRecord, Storage, StorageError, open_storage

DOCS = Path(__file__).parents[3] / "docs"


def test_a_newer_store_names_the_version_this_catchment_understands(tmp_path: Path) -> None:
    db = tmp_path / "runs.db"
    open_storage(f"sqlite:///{db}").close()
    with sqlite3.connect(db) as conn:
        conn.execute(
            "INSERT INTO schema_version (version, applied_at) VALUES (?, ?)",
            (SCHEMA_VERSION + 1, time.time()),
        )
    with pytest.raises(StorageError) as info:
        open_storage(f"sqlite:///{db}")
    assert f"schema version {SCHEMA_VERSION + 1}," in info.value.message
    assert info.value.message.endswith(f"understands ({SCHEMA_VERSION})")


def test_the_docs_quote_the_current_schema_version() -> None:
    text = (DOCS / "troubleshooting.md").read_text()
    quoted = re.findall(r"newer than this catchment understands \((\d+)\)", text)
    assert quoted, "troubleshooting.md lost its schema version entry"
    assert {int(q) for q in quoted} == {SCHEMA_VERSION}
    versions = re.findall(r"has schema version (\d+), newer", text)
    assert {int(v) for v in versions} == {SCHEMA_VERSION + 1}


PG_URL = os.environ.get("CATCHMENT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _index_names(store: Storage) -> set[str]:
    from catchment.storage.postgres import PostgresStorage

    if isinstance(store, PostgresStorage):
        rows = store._read(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'runs' AND schemaname = %s",
            (store.schema,),
        )
    else:
        rows = store._read("SELECT name FROM sqlite_master WHERE type = 'index'")  # type: ignore[attr-defined]
    return {r[0] for r in rows}


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite"),
        pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow]),
    ],
)
def test_a_version_3_store_gets_the_runs_by_age_index_on_open(backend: str, tmp_path: Path) -> None:
    """Version 4 indexes runs newest first (what ``runs list`` reads); a store left at
    version 3 (no such index) is migrated by the next open, its runs listed as before."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'runs.db'}"
    else:
        url = f"{PG_URL}?schema=catchment_v3_{uuid.uuid4().hex[:12]}"
    store = open_storage(url)
    try:
        for i in range(5):
            store.create_run(RunRecord(run_id=f"r{i}", created_at=1000.0 + i // 2))
        write = store._write  # type: ignore[attr-defined]
        write(lambda cur: cur.execute("DROP INDEX IF EXISTS runs_by_age"))
        write(lambda cur: cur.execute("UPDATE schema_version SET version = 3"))
        assert store.schema_version() == 3
        assert "runs_by_age" not in _index_names(store)
        store.close()
        store = open_storage(url)
        assert store.schema_version() == SCHEMA_VERSION == 4
        assert "runs_by_age" in _index_names(store)
        assert [r.run_id for r in store.list_runs(limit=3)] == ["r4", "r2", "r3"]
        if backend == "sqlite":
            from catchment.storage.base import RUN_COLUMNS

            plan = store._read(  # type: ignore[attr-defined]
                f"EXPLAIN QUERY PLAN SELECT {RUN_COLUMNS} FROM runs "
                "ORDER BY created_at DESC, run_id LIMIT 50"
            )
            assert "USING INDEX runs_by_age" in str(plan)  # no sort of the whole table
    finally:
        if backend == "postgres":
            store.drop_schema()  # type: ignore[attr-defined]
        store.close()

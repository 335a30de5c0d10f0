"""A run store written by a newer catchment is refused with the version this catchment
understands (``SCHEMA_VERSION``), and the docs quote that same number."""

from __future__ import annotations

import re
import sqlite3
import time
from pathlib import Path

import pytest
from catchment.storage import SCHEMA_VERSION, StorageError, open_storage

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

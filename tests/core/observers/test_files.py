"""The file observer: files and parquet datasets by stat, with parquet columns."""

from __future__ import annotations

import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from catchment.observers.files import FileObserver, observe_path
from catchment.tables import file_table


def test_a_parquet_dataset_reports_columns_and_changes_version(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    pq.write_table(pa.table({"id": [1, 2]}), out / "part-0.parquet")
    (out / "_SUCCESS").write_text("")
    ref = file_table(out)
    first = FileObserver(ref.location).observe([ref])[ref]
    assert first.exists
    assert first.columns == {"id": "int64"}
    pq.write_table(pa.table({"id": [3]}), out / "part-1.parquet")
    assert observe_path(out).data_version != first.data_version


def test_a_touched_file_changes_version_and_a_deleted_one_is_gone(tmp_path: Path) -> None:
    f = tmp_path / "a.csv"
    f.write_text("x\n1\n")
    first = observe_path(f)
    os.utime(f, ns=(1, 1))
    assert observe_path(f).data_version != first.data_version
    f.unlink()
    assert observe_path(f).exists is False

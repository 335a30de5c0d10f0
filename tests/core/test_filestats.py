"""Listings and stats shared between the snapshot key's walk and the adapters' freshness checks:
reused inside a sharing scope only, so nothing outside it ever reads an old result."""

from __future__ import annotations

import os
from pathlib import Path

from catchment.filestats import current, lines_of, listing, sharing, stat_of
from catchment.snapshot.key import project_key


def _entry(path: Path) -> os.DirEntry[str]:
    return next(e for e in os.scandir(path.parent) if e.name == path.name)


def _project(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "catchment.yaml").write_text("project:\n  name: p\n")
    model = tmp_path / "models" / "a.sql"
    model.parent.mkdir()
    model.write_text("select 1")
    return tmp_path / "catchment.yaml", model


def test_the_keys_stats_are_reused_inside_a_sharing_scope(tmp_path: Path) -> None:
    file, model = _project(tmp_path)
    with sharing() as shared:
        project_key(file)
        taken = shared.files[str(model)][0]
        os.utime(model, ns=(1_000_000_000, 1_000_000_000))  # changed after the key's walk
        assert stat_of(_entry(model)) is taken  # the load sees what the key saw
    assert stat_of(_entry(model)).st_mtime_ns == 1_000_000_000  # outside: a fresh stat


def test_no_stats_are_kept_outside_a_scope(tmp_path: Path) -> None:
    file, model = _project(tmp_path)
    assert current() is None
    project_key(file)
    os.utime(model, ns=(2_000_000_000, 2_000_000_000))
    assert stat_of(_entry(model)).st_mtime_ns == 2_000_000_000


def test_a_nested_scope_shares_the_outer_one(tmp_path: Path) -> None:
    file, model = _project(tmp_path)
    with sharing() as outer:
        with sharing() as inner:
            project_key(file)
        assert inner is outer
        assert str(model) in outer.files
    assert current() is None


def test_the_keys_listings_and_lines_are_reused_inside_a_sharing_scope(tmp_path: Path) -> None:
    file, model = _project(tmp_path)
    outside = lines_of([_entry(model)])[0][1]
    with sharing() as shared:
        project_key(file)
        entries = listing(str(model.parent))
        assert entries is shared.folders[str(model.parent)]  # not listed again
        assert [e.name for e in entries] == ["a.sql"]
        (model.parent / "b.sql").write_text("select 2")  # added after the key's walk
        model.write_text("select 10")  # and changed: seen as the key saw them
        assert [e.name for e in listing(str(model.parent))] == ["a.sql"]
        (found,) = lines_of(entries)
        assert found is shared.files[str(model)]
        st, line = found
        assert line == outside == f"{model}\0{len('select 1')}\0{st.st_mtime_ns}"
    # outside the scope: listed and stat-ed now
    assert [e.name for e in listing(str(model.parent))] == ["a.sql", "b.sql"]
    ((st, line),) = lines_of([_entry(model)])
    assert st.st_size == len("select 10")
    assert line == f"{model}\0{len('select 10')}\0{st.st_mtime_ns}"


def test_files_and_folders_the_key_leaves_out_are_listed_and_stat_ed_now(tmp_path: Path) -> None:
    file, model = _project(tmp_path)
    logs = tmp_path / "models" / "logs"  # a folder the key never walks
    logs.mkdir()
    (logs / "x.sql").write_text("select 3")
    db = model.parent / "w.duckdb"  # a suffix the key leaves out
    db.write_bytes(b"1234")
    with sharing() as shared:
        project_key(file)
        assert str(logs) not in shared.folders
        assert str(db) not in shared.files
        (logs / "y.sql").write_text("select 4")
        db.write_bytes(b"123456")
        assert [e.name for e in listing(str(logs))] == ["x.sql", "y.sql"]
        listed = {e.name: e for e in listing(str(model.parent))}
        ((st, line),) = lines_of([listed["w.duckdb"]])
        assert st.st_size == 6
        assert line == f"{db}\0{6}\0{st.st_mtime_ns}"

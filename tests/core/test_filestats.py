"""Stats shared between the snapshot key's walk and the adapters' freshness checks: reused
inside a sharing scope only, so nothing outside it ever reads an old result."""

from __future__ import annotations

import os
from pathlib import Path

from catchment.filestats import current, sharing, stat_of
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
        taken = shared[str(model)]
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
        assert str(model) in outer
    assert current() is None

"""Finding a manifest: fresh target/, cache by file hash, in-process parse, clear errors."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from catchment.errors import ConfigError
from catchment_dbt.project import DbtProject

from .conftest import Jaffle


def test_missing_project_dir_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="dbt project folder does not exist") as err:
        DbtProject(project_dir=tmp_path / "nope")
    assert err.value.where == str(tmp_path / "nope")
    assert "project_dir" in (err.value.hint or "")


@pytest.mark.slow
def test_parse_once_then_reuse_the_cache_until_a_file_changes(jaffle: Jaffle) -> None:
    env = {"CATCHMENT_WAREHOUSE": str(jaffle.warehouse)}
    project = DbtProject(project_dir=jaffle.project_dir, env=env, vars={"enable_broken": False})
    first = project.manifest_path()
    assert first.parent.parent == jaffle.project_dir / "target" / "catchment"
    stamp = first.stat().st_mtime_ns

    again = DbtProject(project_dir=jaffle.project_dir, env=env, vars={"enable_broken": False})
    assert again.manifest_path() == first
    assert first.stat().st_mtime_ns == stamp  # not parsed again

    model = jaffle.project_dir / "models" / "marts" / "fct_orders.sql"
    os.utime(model, (time.time() + 5, time.time() + 5))  # touched, same content
    assert (
        DbtProject(
            project_dir=jaffle.project_dir, env=env, vars={"enable_broken": False}
        ).manifest_path()
        == first
    )
    assert first.stat().st_mtime_ns == stamp

    model.write_text(model.read_text() + "\n-- edited\n")
    edited = DbtProject(project_dir=jaffle.project_dir, env=env, vars={"enable_broken": False})
    assert edited.manifest_path() == first
    assert first.stat().st_mtime_ns != stamp  # re-parsed
    nodes = edited.load_manifest().nodes
    assert "-- edited" not in str(nodes["model.jaffle.fct_orders"])  # raw code is not read
    assert nodes["model.jaffle.fct_orders"].checksum.checksum  # but the new checksum is


@pytest.mark.slow
def test_vars_change_the_manifest(jaffle: Jaffle) -> None:
    env = {"CATCHMENT_WAREHOUSE": str(jaffle.warehouse)}
    plain = DbtProject(project_dir=jaffle.project_dir, env=env).load_manifest()
    broken = DbtProject(
        project_dir=jaffle.project_dir, env=env, vars={"enable_broken": True}
    ).load_manifest()
    assert "model.jaffle.mart_broken" not in plain.nodes
    assert "model.jaffle.mart_broken" in broken.nodes


@pytest.mark.slow
def test_a_fresh_target_manifest_is_used_without_parsing(jaffle: Jaffle) -> None:
    env = {"CATCHMENT_WAREHOUSE": str(jaffle.warehouse)}
    cached = DbtProject(project_dir=jaffle.project_dir, env=env, vars={"x": 1}).manifest_path()
    own = jaffle.project_dir / "target" / "manifest.json"
    own.write_bytes(cached.read_bytes())
    assert DbtProject(project_dir=jaffle.project_dir, env=env).manifest_path() == own
    later = time.time() + 10
    os.utime(jaffle.project_dir / "models" / "staging" / "stg_orders.sql", (later, later))
    assert DbtProject(project_dir=jaffle.project_dir, env=env).manifest_path() != own


@pytest.mark.slow
def test_a_model_with_a_compile_error_names_its_file(jaffle: Jaffle) -> None:
    bad = jaffle.project_dir / "models" / "marts" / "bad_model.sql"
    bad.write_text("select * from {{ ref('stg_orders' }}\n")
    project = DbtProject(
        project_dir=jaffle.project_dir, env={"CATCHMENT_WAREHOUSE": str(jaffle.warehouse)}
    )
    with pytest.raises(ConfigError) as err:
        project.manifest_path()
    assert err.value.where == str(bad)
    assert "dbt could not parse the project" in err.value.message
    assert "\n" not in err.value.message


# ----------------------------------------------------------------- stat fingerprint
# A cold load computes the definitions snapshot's key first (inside ``filestats.sharing()``),
# then the dbt adapter's stat fingerprint reuses the key's folder listings and stat lines.


def _with_key(jaffle: Jaffle) -> tuple[Path, DbtProject]:
    """A ``catchment.yaml`` in the dbt project folder (whose key walks it) and the project."""
    file = jaffle.project_dir / "catchment.yaml"
    file.write_text(
        "project: {name: p}\n"
        "sources:\n  - {name: raw, observe: {glob: seeds/*.csv}}\n"  # data: left out of the key
    )
    env = {"CATCHMENT_WAREHOUSE": str(jaffle.warehouse)}
    return file, DbtProject(project_dir=jaffle.project_dir, env=env)


def _left_out_by_the_key(jaffle: Jaffle) -> list[Path]:
    """Files dbt reads but the snapshot key does not stat (excluded folder, excluded suffix,
    data, a model folder outside the project), plus files only the key counts."""
    root = jaffle.project_dir
    outside = root.parent / "shared_models"
    outside.mkdir()
    config = root / "dbt_project.yml"
    config.write_text(
        config.read_text().replace(
            'model-paths: ["models"]', 'model-paths: ["models", "../shared_models"]'
        )
    )
    files = [
        root / "models" / "logs" / "in_logs.sql",
        root / "seeds" / "raw.db",
        root / "seeds" / "customers.csv",
        outside / "shared.sql",
    ]
    for path in files:
        path.parent.mkdir(exist_ok=True)
        if not path.exists():
            path.write_text("select 1\n")
    (root / "models" / "linked").symlink_to(outside)  # dbt follows it, the key does not
    (root / "models" / ".hidden.sql").write_text("select 1\n")  # the key only
    (root / "models" / "__pycache__").mkdir()
    (root / "models" / "__pycache__" / "x.sql").write_text("select 1\n")  # neither
    return files


def test_a_file_removed_after_the_keys_walk_is_left_out_not_an_error(jaffle: Jaffle) -> None:
    from catchment.filestats import sharing
    from catchment.snapshot.key import project_key

    file, project = _with_key(jaffle)
    db = jaffle.project_dir / "seeds" / "raw.db"  # listed by the key, not stat-ed
    db.write_text("x")
    with sharing():
        project_key(file)
        db.unlink()
        stamp, _, entries = project._fingerprints()
    assert str(db) not in {e.path for e in entries}
    assert stamp == project._fingerprints()[0]


def _dbt_reads(project: DbtProject) -> set[str]:
    """The files dbt's rules count, walked independently."""
    root = project.project_dir
    found = {str(root / "dbt_project.yml")}
    for folder in ("models", "../shared_models", "seeds", "snapshots", "tests"):
        for top, dirs, names in os.walk((root / folder).resolve(), followlinks=True):
            dirs[:] = [d for d in dirs if not d.startswith(".") and d != "__pycache__"]
            found.update(os.path.join(top, n) for n in names if not n.startswith("."))
    return found


def test_the_fingerprint_reuses_the_keys_walk_and_counts_what_it_left_out(
    jaffle: Jaffle,
) -> None:
    from catchment.filestats import sharing
    from catchment.snapshot.key import project_key

    file, project = _with_key(jaffle)
    left_out = _left_out_by_the_key(jaffle)
    project = DbtProject(project_dir=jaffle.project_dir, env=project.env)  # new model-paths
    outside_scope = project._fingerprints()
    assert {e.path for e in outside_scope[2]} == _dbt_reads(project)
    with sharing() as shared:
        project_key(file)
        assert not any(str(p) in shared.files for p in left_out)
        inside = project._fingerprints()
        staging = str(jaffle.project_dir / "models" / "staging")
        reused = [e for e in inside[2] if os.path.dirname(e.path) == staging]
        assert reused
        assert all(e in shared.folders[staging] for e in reused)
    assert inside[:2] == outside_scope[:2]  # the same stamp either way
    assert [e.path for e in inside[2]] == [e.path for e in outside_scope[2]]

    for path in left_out:  # a change to a file the key left out still changes the stamp
        with sharing():
            project_key(file)
            before = project._fingerprints()[0]
        with path.open("a") as f:
            f.write("-- more\n")
        with sharing():
            project_key(file)
            assert project._fingerprints()[0] != before, path


def test_a_model_edited_after_the_keys_walk_is_stale_at_the_next_load(jaffle: Jaffle) -> None:
    from catchment.filestats import sharing
    from catchment.snapshot.key import project_key

    file, project = _with_key(jaffle)
    model = jaffle.project_dir / "models" / "marts" / "fct_orders.sql"
    before = project._fingerprints()
    with sharing():
        key = project_key(file)
        model.write_text(model.read_text() + "\n-- edited\n")
        seen = project._fingerprints()
        assert seen[:2] == before[:2]  # as the key saw it: the snapshot is written under `key`
    assert project_key(file) != key  # ... which the next command finds stale
    with sharing():
        project_key(file)
        assert project._fingerprints()[0] != seen[0]  # so the next load sees the edit
    assert project._fingerprints()[0] != seen[0]


def test_outside_a_sharing_scope_files_are_listed_and_stat_ed_again(jaffle: Jaffle) -> None:
    from catchment.filestats import sharing
    from catchment.snapshot.key import project_key

    file, project = _with_key(jaffle)
    with sharing():
        project_key(file)
        stamp, newest, entries = project._fingerprints()
    added = jaffle.project_dir / "models" / "marts" / "added.sql"
    added.write_text("select 1\n")
    later = time.time_ns() + 10**10
    os.utime(jaffle.project_dir / "models" / "groups.yml", ns=(later, later))
    again, newest_again, entries_again = project._fingerprints()
    assert again != stamp
    assert newest_again == later != newest
    assert str(added) in {e.path for e in entries_again} - {e.path for e in entries}


@pytest.mark.slow
def test_a_model_edited_during_a_cold_load_is_re_parsed_by_the_next_one(jaffle: Jaffle) -> None:
    from catchment.filestats import sharing
    from catchment.snapshot.key import project_key

    file, project = _with_key(jaffle)
    manifest = project.manifest_path()
    parsed = manifest.stat().st_mtime_ns
    model = jaffle.project_dir / "models" / "marts" / "fct_orders.sql"
    with sharing():
        project_key(file)
        model.write_text(model.read_text() + "\n-- edited\n")  # after the key's walk
        assert _with_key(jaffle)[1].manifest_path() == manifest
    with sharing():
        project_key(file)
        assert _with_key(jaffle)[1].manifest_path() == manifest
    assert manifest.stat().st_mtime_ns != parsed  # re-parsed

"""The translation kept beside the compact manifest copy: a load of an unchanged project reads
it back instead of decoding the manifest, and anything it depends on rebuilds it (a new
manifest after a model edit, the component's attributes, the target, the adapter's code).

No dbt here: the project's ``target/manifest.json`` is written after its models, so the
adapter takes it as fresh, as it does a manifest dbt has just written."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import catchment_dbt
import pytest
from catchment.definitions import AssetsDefinition
from catchment.keys import AssetKey
from catchment_dbt import dbt_assets
from catchment_dbt.execution import DbtCompute
from catchment_dbt.project import DbtProject
from catchment_dbt.translation_cache import translation_key


def _node(name: str, parents: list[str], description: str = "") -> dict[str, Any]:
    return {
        "unique_id": f"model.p.{name}",
        "resource_type": "model",
        "name": name,
        "path": f"marts/{name}.sql",
        "original_file_path": f"models/marts/{name}.sql",
        "schema": "main",
        "description": description,
        "config": {"materialized": "table"},
        "checksum": {"checksum": name},
        "depends_on": {"nodes": parents},
    }


def _manifest(description: str = "") -> dict[str, Any]:
    return {
        "metadata": {"project_name": "p", "adapter_type": "duckdb"},
        "nodes": {
            "model.p.a": _node("a", []),
            "model.p.b": _node("b", ["model.p.a"], description),
            "test.p.not_null_a_id": {
                "unique_id": "test.p.not_null_a_id",
                "resource_type": "test",
                "name": "not_null_a_id",
                "original_file_path": "models/marts/schema.yml",
                "attached_node": "model.p.a",
                "test_metadata": {"name": "not_null"},
                "depends_on": {"nodes": ["model.p.a"]},
            },
        },
        "unit_tests": {
            "unit_test.p.b.checks_b": {
                "unique_id": "unit_test.p.b.checks_b",
                "name": "checks_b",
                "original_file_path": "models/marts/schema.yml",
                "depends_on": {"nodes": ["model.p.b"]},
            }
        },
    }


def _write_manifest(project: Path, description: str = "") -> None:
    target = project / "target"
    target.mkdir(exist_ok=True)
    (target / "manifest.json").write_text(json.dumps(_manifest(description)))


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / "models" / "marts").mkdir(parents=True)
    (root / "dbt_project.yml").write_text(
        "name: p\nprofile: p\nconfig-version: 2\nmodel-paths: [models]\n"
    )
    (root / "profiles.yml").write_text(
        "p:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        "      path: \"{{ env_var('CATCHMENT_WAREHOUSE', 'w.duckdb') }}\"\n      schema: main\n"
    )
    for name in ("a", "b"):
        (root / "models" / "marts" / f"{name}.sql").write_text("select 1 as id\n")
    _write_manifest(root)
    return root


class _Reads:
    """Counts the manifest decodes of the loads under it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.count = 0
        original = DbtProject.load_manifest_at

        def counted(project: DbtProject, path: Path) -> Any:
            self.count += 1
            return original(project, path)

        monkeypatch.setattr(DbtProject, "load_manifest_at", counted)


def _load(project: Path, **attributes: Any) -> AssetsDefinition:
    return dbt_assets(project, warehouse=project / "w.duckdb", **attributes)


def _entries(project: Path) -> list[Path]:
    return sorted((project / "target" / "catchment").glob("translation-*.msgpack"))


def test_an_unchanged_project_is_read_back_without_the_manifest(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = _Reads(monkeypatch)
    first = _load(project)
    assert reads.count == 1
    assert len(_entries(project)) == 1
    again = _load(project)
    assert reads.count == 0 + 1  # the translation came from its cache
    assert again.specs == first.specs
    assert [c.name for c in again.all_check_specs] == ["not_null_a_id"]
    compute = again.compute
    assert isinstance(compute, DbtCompute)
    # execution's maps are derived from the specs as translating made them
    assert compute.translation.node_of == {AssetKey("a"): "model.p.a", AssetKey("b"): "model.p.b"}
    assert compute.translation.test_of_check == {"a:not_null_a_id": "test.p.not_null_a_id"}
    assert compute.translation.files["test.p.not_null_a_id"] == "models/marts/schema.yml"
    # the manifest is decoded when execution first needs it
    assert compute.manifest.nodes["model.p.a"].name == "a"
    assert reads.count == 2


def test_a_new_manifest_after_a_model_edit_is_translated_again(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load(project)
    (project / "models" / "marts" / "b.sql").write_text("select 2 as id\n")
    _write_manifest(project, description="B, edited")  # what dbt parse writes for the edit
    reads = _Reads(monkeypatch)
    spec = {s.key: s for s in _load(project).specs}[AssetKey("b")]
    assert reads.count == 1
    assert spec.description == "B, edited"


def test_changed_attributes_are_translated_again(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load(project)
    reads = _Reads(monkeypatch)
    prefixed = _load(project, key_prefix="dbt")
    assert {k.to_string() for k in prefixed.keys} == {"dbt/a", "dbt/b"}
    no_groups = _load(project, group_from=None)
    assert {s.group for s in no_groups.specs} == {None}
    with_units = _load(project, run_unit_tests=True)
    assert "checks_b" in {c.name for c in with_units.all_check_specs}
    assert reads.count == 3
    assert _load(project, run_unit_tests=True).specs == with_units.specs
    assert reads.count == 3  # the same attributes again: read back


def test_another_target_is_translated_again(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _load(project)
    reads = _Reads(monkeypatch)
    other = dbt_assets(project, warehouse=project / "other.duckdb")
    assert reads.count == 1
    tables = {s.table.location for s in other.specs if s.table is not None}
    assert tables == {str(project / "other.duckdb")}
    assert other.specs != first.specs


def test_a_new_adapter_version_or_edited_module_is_translated_again(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _load(project)
    reads = _Reads(monkeypatch)
    monkeypatch.setattr(catchment_dbt, "__version__", "99.0.0")
    _load(project)
    assert reads.count == 1
    # an editable install's edit keeps the version: the module file's stat changes instead
    module = sys.modules["catchment_dbt.translation"]
    assert module.__file__ is not None
    edited = project.parent / "translation.py"
    edited.write_bytes(Path(module.__file__).read_bytes() + b"\n")
    monkeypatch.setattr(module, "__file__", str(edited))
    _load(project)
    assert reads.count == 2
    _load(project)
    assert reads.count == 2


def test_a_corrupt_or_foreign_entry_is_a_miss_and_rewritten(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _load(project)
    (entry,) = _entries(project)
    head = entry.read_bytes().split(b"\n", 1)[0]
    entry.write_bytes(head + b"\n\xc1 not msgpack")
    reads = _Reads(monkeypatch)
    assert _load(project).specs == first.specs
    assert reads.count == 1
    assert _load(project).specs == first.specs
    assert reads.count == 1  # rewritten whole
    entry.write_bytes(b"another key\n" + entry.read_bytes().split(b"\n", 1)[1])
    assert _load(project).specs == first.specs
    assert reads.count == 2


def test_the_key_follows_the_manifest_and_the_selection(project: Path) -> None:
    from catchment_dbt.translation import TranslationOptions

    dbt = DbtProject(project_dir=project, env={"CATCHMENT_WAREHOUSE": str(project / "w.duckdb")})
    manifest = project / "target" / "manifest.json"
    target = dbt.resolved_target
    options = TranslationOptions()
    key = translation_key(manifest, target, options, None)
    assert key == translation_key(manifest, target, options, None)
    assert key != translation_key(manifest, target, options, {"model.p.a"})
    assert translation_key(manifest, target, options, {"model.p.a"}) != translation_key(
        manifest, target, options, {"model.p.b"}
    )
    st = manifest.stat()
    os.utime(manifest, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert translation_key(manifest, target, options, None) != key

"""The partial manifest reader: needed fields only, clear errors for bad files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catchment.errors import ConfigError
from catchment_dbt.manifest import read_manifest

MINIMAL = {
    "metadata": {"dbt_version": "1.11.0", "project_name": "p", "adapter_type": "duckdb"},
    "nodes": {
        "model.p.a": {
            "unique_id": "model.p.a",
            "resource_type": "model",
            "name": "a",
            "fqn": ["p", "a"],
            "config": {"materialized": "table", "meta": {"owner": "x@y"}, "unknown": 1},
            "columns": {"id": {"name": "id"}},
            "raw_code": "select 1",
            "checksum": {"name": "sha256", "checksum": "abc"},
        }
    },
    "sources": {},
    "macros": {"macro.p.m": {"whatever": True}},
}


def test_reads_only_needed_fields_and_ignores_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(MINIMAL))
    manifest = read_manifest(path)
    node = manifest.nodes["model.p.a"]
    assert node.config.materialized == "table"
    assert node.config.meta == {"owner": "x@y"}
    assert node.checksum.checksum == "abc"
    assert manifest.metadata.adapter_type == "duckdb"
    assert not hasattr(node, "raw_code")


def test_corrupt_manifest_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text('{"nodes": {"model.p.a": ')
    with pytest.raises(ConfigError) as err:
        read_manifest(path)
    assert err.value.where == str(path)
    assert "not valid manifest JSON" in err.value.message
    assert err.value.hint


def test_wrong_shape_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"nodes": {"model.p.a": {"name": 3}}}))
    with pytest.raises(ConfigError, match="not valid manifest JSON") as err:
        read_manifest(path)
    assert err.value.where == str(path)

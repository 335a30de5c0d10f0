"""Locating the Sling binary and the DuckDB CLI, and placing DuckDB extensions offline."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from catchment.errors import ConfigError
from catchment_sling import binaries
from catchment_sling.binaries import duckdb_version, locate_duckdb, locate_sling, place_extensions


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for var in ("SLING_BINARY", "DUCKDB_PATH", "DUCKDB_VERSION"):
        monkeypatch.delenv(var, raising=False)
    return monkeypatch


def test_packaged_binary_is_found_and_runs(clean_env: pytest.MonkeyPatch) -> None:
    path = locate_sling()
    assert path.name == "sling-linux-amd64"
    assert os.access(path, os.X_OK)


def test_explicit_setting_then_env_var_win(clean_env: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real = locate_sling()
    link = tmp_path / "bin" / "my-sling"
    link.parent.mkdir()
    link.symlink_to(real)
    clean_env.setenv("SLING_BINARY", str(real))
    assert locate_sling("bin/my-sling", root=tmp_path) == link
    assert locate_sling(root=tmp_path) == real


def test_wrong_explicit_path_and_wrong_env_var_are_config_errors(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError) as info:
        locate_sling("nope/sling", root=tmp_path)
    assert info.value.where == "attributes.binary"
    assert "SLING_BINARY" in (info.value.hint or "")
    clean_env.setenv("SLING_BINARY", str(tmp_path / "missing"))
    with pytest.raises(ConfigError) as info:
        locate_sling(root=tmp_path)
    assert "SLING_BINARY" in (info.value.where or "")


def test_no_binary_anywhere_says_how_to_fix_and_skips_the_python_wrapper(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    wrapper = tmp_path / "sling"
    wrapper.write_text("#!/usr/bin/python3\nfrom sling import cli\ncli()\n")
    wrapper.chmod(0o755)
    clean_env.setattr(binaries, "_packaged_sling", lambda: None)
    clean_env.setenv("PATH", str(tmp_path))
    with pytest.raises(ConfigError) as info:
        locate_sling(root=tmp_path)
    assert "no Sling binary found" in info.value.message
    assert "pip install sling-linux-amd64" in (info.value.hint or "")


def test_duckdb_cli_from_package_env_and_its_version(
    clean_env: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli = locate_duckdb()
    assert cli.name == "duckdb"
    assert os.access(cli, os.X_OK)
    duckdb_version.cache_clear()
    assert duckdb_version(cli) == "1.4.4"
    clean_env.setenv("DUCKDB_PATH", str(tmp_path / "missing"))
    with pytest.raises(ConfigError) as info:
        locate_duckdb(root=tmp_path)
    assert "DUCKDB_PATH" in (info.value.where or "")
    assert "duckdb-cli" in (info.value.hint or "")


def test_extensions_are_placed_where_the_cli_looks(tmp_path: Path) -> None:
    placed = place_extensions(tmp_path, "1.4.4")
    folder = tmp_path / ".duckdb" / "extensions" / "v1.4.4" / "linux_amd64"
    assert {p.name for p in placed} >= {"json.duckdb_extension", "httpfs.duckdb_extension"}
    assert all(p.parent == folder and p.stat().st_size > 0 for p in placed)
    assert place_extensions(tmp_path, "1.4.4") == placed  # idempotent
    assert place_extensions(tmp_path / "other", "9.9.9") == []

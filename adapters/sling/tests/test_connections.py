"""Connections: URL -> identity, lookup order, unknown names, masking of secrets."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.errors import ConfigError
from catchment.tables import duckdb_table, table
from catchment_sling.attributes import ConnectionConfig
from catchment_sling.connections import Masker, parse_connection, resolve_connection
from pydantic import SecretStr


def test_postgres_identity_uses_host_port_database_and_public_schema(tmp_path: Path) -> None:
    conn = parse_connection(
        "PG", "postgresql://u:pw@DB.example:6543/shop?sslmode=disable", tmp_path
    )
    assert conn.relation("orders", "sales") == table(
        "postgres", "orders", schema="sales", database="shop", location="db.example:6543"
    )
    assert conn.relation("orders").schema == "public"
    assert parse_connection("PG", "postgres://u@h/db", tmp_path).location == "h:5432"


def test_duckdb_identity_equals_duckdb_table_and_relative_paths_use_the_project(
    tmp_path: Path,
) -> None:
    rel = parse_connection("WH", "duckdb://data/wh.duckdb", tmp_path)
    assert rel.path == (tmp_path / "data" / "wh.duckdb").resolve()
    assert rel.relation("orders", "raw") == duckdb_table(
        tmp_path / "data" / "wh.duckdb", "orders", schema="raw"
    )
    assert rel.relation("orders") == duckdb_table(tmp_path / "data" / "wh.duckdb", "orders")
    assert rel.env_value() == f"duckdb://{tmp_path.resolve() / 'data' / 'wh.duckdb'}"
    absolute = parse_connection("WH", f"duckdb://{tmp_path}/a.duckdb", tmp_path)
    assert absolute.path == tmp_path / "a.duckdb"


def test_lookup_order_configured_then_env_then_builtin_local(tmp_path: Path) -> None:
    configured = {
        "pg": SecretStr("postgresql://u@h1:5432/d"),
        "OTHER": ConnectionConfig(url_env="OTHER_URL"),
    }
    env = {
        "PG": "postgresql://u@ignored:1/d",
        "OTHER_URL": "postgresql://u@h2:5432/d",
        "FROMENV": "postgresql://u@h3:5432/d",
    }

    def get(name: str):
        return resolve_connection(
            name,
            configured,
            tmp_path,
            where="rep.yaml (source)",
            field_name="source",
            environ=env,
        )

    assert get("PG").location == "h1:5432"  # names match case-insensitively, config wins
    assert get("OTHER").location == "h2:5432"
    assert get("FROMENV").location == "h3:5432"  # Sling reads connections from env too
    assert get("LOCAL").is_file_system


def test_unknown_connection_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_connection(
            "NOPE",
            {"PG": SecretStr("postgresql://u:secretpw@h/d")},
            tmp_path,
            where="rep.yaml (target)",
            field_name="target",
            environ={},
        )
    err = info.value
    assert "'NOPE' is not a known connection" in err.message
    assert "declared: PG" in err.message
    assert err.where == "rep.yaml (target)"
    assert "connections" in (err.hint or "")
    assert "secretpw" not in str(err)


def test_missing_url_env_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        resolve_connection(
            "PG",
            {"PG": ConnectionConfig(url_env="PG_URL")},
            tmp_path,
            where="rep.yaml (source)",
            field_name="source",
            environ={},
        )
    assert "PG_URL" in info.value.message
    assert "url_env" in (info.value.where or "")


def test_connection_config_needs_exactly_one_of_url_and_url_env() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        ConnectionConfig()
    with pytest.raises(ValueError, match="exactly one"):
        ConnectionConfig(url=SecretStr("x://"), url_env="X")


def test_masker_hides_urls_passwords_and_any_userinfo() -> None:
    mask = Masker(["postgresql://bob:p%40ss-word@h:5432/db"])
    text = (
        "failed postgresql://bob:p%40ss-word@h:5432/db; password p@ss-word; raw p%40ss-word; "
        "other mysql://eve:hunter22@x/y"
    )
    out = mask(text)
    for secret in ("p%40ss-word", "p@ss-word", "hunter22"):
        assert secret not in out
    assert "mysql://eve:***@x/y" in out
    assert "failed ***" in out


def test_masker_leaves_plain_path_urls_alone_but_hides_token_params() -> None:
    mask = Masker(
        ["file://", "duckdb:///data/wh.duckdb", "duckdb:///md?motherduck_token=abc123xyz"]
    )
    assert mask("stream file://data/x.csv into duckdb:///data/wh.duckdb") == (
        "stream file://data/x.csv into duckdb:///data/wh.duckdb"
    )
    assert "abc123xyz" not in mask("opening duckdb:///md?motherduck_token=abc123xyz failed")

"""Shared fixtures: a project folder, a component builder and a throwaway PostgreSQL schema."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from catchment.components import ComponentContext, ProjectDefaults
from catchment.definitions import AssetsDefinition
from catchment_sling.attributes import SlingAttributes
from catchment_sling.component import build

PG_HOST = "127.0.0.1:5432"
# Trust auth accepts any password, so tests can prove this one never leaks.
PASSWORD = f"pw-{uuid.uuid4().hex[:12]}"
PG_URL = f"postgresql://postgres:{PASSWORD}@{PG_HOST}/postgres?sslmode=disable"

Builder = Callable[..., AssetsDefinition]


@pytest.fixture
def password() -> str:
    """The password in ``pg_url`` (trust auth ignores it); it must never show anywhere."""
    return PASSWORD


@pytest.fixture
def pg_url() -> str:
    """A PostgreSQL connection URL with a password."""
    return PG_URL


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    return root


@pytest.fixture
def build_sling(project: Path) -> Builder:
    """``build_sling(attributes, name="ingest")`` -> the component's one definition."""

    def make(attributes: dict[str, Any], name: str = "ingest") -> AssetsDefinition:
        attrs = SlingAttributes.model_validate(attributes)
        ctx = ComponentContext(
            name=name,
            project=ProjectDefaults.for_root(project),
            source=f"catchment.yaml:3 (component {name})",
        )
        (defn,) = build(attrs, ctx)
        return defn

    return make


@pytest.fixture
def registry() -> Any:
    """Only the adapters these tests use, so another adapter's breakage cannot leak in."""
    from catchment.plugins import PluginRegistry

    reg = PluginRegistry(allow=["sling", "dbt"])
    reg.load_entry_points()
    return reg


def _pg() -> Any:
    psycopg = pytest.importorskip("psycopg")
    try:
        return psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
        )
    except psycopg.OperationalError as exc:  # pragma: no cover - environment problem
        pytest.skip(f"PostgreSQL on {PG_HOST} is not reachable: {exc}")


@pytest.fixture
def pg() -> Iterator[Any]:
    """An autocommit psycopg connection to the local PostgreSQL."""
    conn = _pg()
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def pg_schema(pg: Any) -> Iterator[str]:
    """A uniquely named schema with ``orders`` (5 rows), dropped afterwards."""
    schema = f"sling_test_{uuid.uuid4().hex[:10]}"
    pg.execute(f"create schema {schema}")
    pg.execute(
        f"create table {schema}.orders (id int primary key, amount numeric(10,2), "
        "updated_at timestamp not null)"
    )
    pg.execute(
        f"insert into {schema}.orders select g, g * 1.5, "
        "timestamp '2026-01-01' + g * interval '1 hour' from generate_series(1, 5) g"
    )
    try:
        yield schema
    finally:
        pg.execute(f"drop schema if exists {schema} cascade")

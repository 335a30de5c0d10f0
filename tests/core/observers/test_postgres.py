"""The PostgreSQL observer on the local server: columns, rows, a version that follows writes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from catchment.observation import PostgresObserver
from catchment.tables import table

URL = "postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable"


@pytest.fixture
def schema() -> Iterator[tuple[Any, str]]:
    psycopg = pytest.importorskip("psycopg")
    try:
        con = psycopg.connect(URL, autocommit=True)
    except psycopg.OperationalError as exc:  # pragma: no cover - environment problem
        pytest.skip(f"PostgreSQL is not reachable: {exc}")
    name = f"observe_{uuid.uuid4().hex[:10]}"
    con.execute(f"create schema {name}")
    con.execute(
        f"create table {name}.t as select g as id, 'x'::text as note from generate_series(1, 3) g"
    )
    try:
        yield con, name
    finally:
        con.execute(f"drop schema {name} cascade")
        con.close()


def test_rows_columns_and_a_version_that_follows_updates(schema: tuple[Any, str]) -> None:
    con, name = schema
    t = table("postgres", "t", schema=name, database="postgres", location="127.0.0.1:5432")
    gone = table("postgres", "nope", schema=name, database="postgres", location="127.0.0.1:5432")
    observer = PostgresObserver("127.0.0.1:5432", URL, database="postgres")
    found = observer.observe([t, gone])
    assert found[t].row_count == 3
    assert found[t].columns == {"id": "integer", "note": "text"}
    assert found[gone].exists is False
    con.execute(f"update {name}.t set note = 'y' where id = 2")  # same count, new xmin
    assert observer.observe([t])[t].data_version != found[t].data_version
    assert "postgres@" not in repr(observer)


def test_tables_of_another_database_are_unknown() -> None:
    other = table("postgres", "t", schema="public", database="elsewhere", location="h:5432")
    found = PostgresObserver("h:5432", URL, database="postgres").observe([other])
    assert found[other].exists is None

"""A Sling ``sql:`` stream from PostgreSQL into DuckDB, run by the real Sling binary with events
sent to a receiver: its query travels as the SQL job facet, and its column lineage (the same
parse) names the PostgreSQL columns each target column comes from."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import catchment_openlineage.hooks
import pytest
from catchment.components import ComponentContext, ProjectDefaults
from catchment.plugins import PluginRegistry

from .conftest import Receiver, validate

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """A uniquely named PostgreSQL schema with ``orders`` (3 rows), dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    try:
        conn = psycopg.connect(
            "host=127.0.0.1 port=5432 user=postgres dbname=postgres", autocommit=True
        )
    except psycopg.OperationalError as exc:  # pragma: no cover - environment problem
        pytest.skip(f"PostgreSQL on 127.0.0.1:5432 is not reachable: {exc}")
    schema = f"ol_test_{uuid.uuid4().hex[:10]}"
    conn.execute(f"create schema {schema}")
    conn.execute(f"create table {schema}.orders (id int, amount numeric(10,2), status text)")
    conn.execute(
        f"insert into {schema}.orders values (1, 1.5, 'paid'), (2, 3.0, 'open'), (3, 2.0, 'paid')"
    )
    try:
        yield schema
    finally:
        conn.execute(f"drop schema if exists {schema} cascade")
        conn.close()


@pytest.mark.timeout(300)
def test_a_sling_sql_stream_sends_its_query_and_column_lineage(
    tmp_path: Path, pg_schema: str, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catchment.columns import asset_column_lineage
    from catchment.execution.api import materialize
    from catchment_sling.attributes import SlingAttributes
    from catchment_sling.component import build

    query = f"select id, amount * 100 as cents, upper(status) as status from {pg_schema}.orders"
    attrs = SlingAttributes.model_validate(
        {
            "replication": {
                "source": "PG",
                "target": "WH",
                "defaults": {"mode": "full-refresh"},
                "streams": {"paid_orders": {"sql": query, "object": "raw.paid_orders"}},
            },
            "connections": {
                "PG": "postgresql://postgres@127.0.0.1:5432/postgres?sslmode=disable",
                "WH": "duckdb://warehouse.duckdb",
            },
        }
    )
    project = tmp_path / "proj"
    project.mkdir()
    context = ComponentContext(
        name="ingest", project=ProjectDefaults.for_root(project), source="catchment.yaml:3"
    )
    (definition,) = build(attrs, context)
    monkeypatch.setenv("OPENLINEAGE_URL", receiver.url)
    registry = PluginRegistry(strict=True, allow=())
    registry.add_plugin(catchment_openlineage.hooks, name="openlineage")
    result: Any = materialize([definition], hooks=registry.hook)
    assert result.success

    for event in receiver.events:
        validate(event)
    start, complete = (e for e in receiver.events if "." in e["job"]["name"])
    assert (start["eventType"], complete["eventType"]) == ("START", "COMPLETE")
    assert complete["job"]["facets"]["sql"]["query"] == query
    (output,) = complete["outputs"]
    assert (output["namespace"], output["name"]) == (
        f"duckdb://{project / 'warehouse.duckdb'}",
        "warehouse.raw.paid_orders",
    )
    assert output["outputFacets"]["outputStatistics"]["rowCount"] == 3

    (spec,) = definition.specs
    lineage = asset_column_lineage(spec)
    assert lineage is not None
    assert lineage.tables == (f"{pg_schema}.orders",)
    assert [(s.table, s.column) for s in lineage.columns["cents"]] == [
        (f"{pg_schema}.orders", "amount")
    ]
    assert lineage.kinds == {
        "id": "identity",
        "cents": "transformation",
        "status": "transformation",
    }

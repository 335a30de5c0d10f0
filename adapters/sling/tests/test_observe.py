"""Observation with real Sling and PostgreSQL: rows inserted into a source table make its
stream stale ("source changed"); a dropped target table is missing and `apply` rebuilds just
that stream; the connection password never shows."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from catchment.cli.main import app
from catchment.events import EventType
from catchment.storage import open_storage
from typer.testing import CliRunner

pytestmark = pytest.mark.slow

PROJECT = """\
project:
  name: observed
components:
  - type: sling
    name: ingest
    attributes:
      connections:
        PG: "{{{{ env('OBSERVE_PG_URL') }}}}"
        WH: duckdb://warehouse.duckdb
      replication:
        source: PG
        target: WH
        defaults:
          object: raw.{{stream_table}}
        streams:
          {schema}.orders:
          {schema}.customers:
"""


def _cli(project: Path, *args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--project", str(project)])


def _plan(project: Path) -> dict[str, dict[str, Any]]:
    result = _cli(project, "plan", "--json", "--observe-ttl", "0")
    assert result.exit_code == 0, result.output
    return {row["key"]: row for row in json.loads(result.output)}


def _last_run_built(project: Path) -> set[str]:
    store = open_storage(f"sqlite:///{project / '.catchment' / 'runs.db'}")
    try:
        (run, *_) = store.list_runs(limit=1)
        return {
            e.asset_key or "" for e in store.events_for_run(run.run_id, [EventType.MATERIALIZATION])
        }
    finally:
        store.close()


@pytest.fixture
def observed_project(
    project: Path, pg_url: str, pg_schema: str, pg: Any, monkeypatch: pytest.MonkeyPatch
) -> Path:
    pg.execute(f"create table {pg_schema}.customers as select 1 as id, 'ann'::text as name")
    (project / "catchment.yaml").write_text(PROJECT.format(schema=pg_schema))
    monkeypatch.setenv("OBSERVE_PG_URL", pg_url)
    monkeypatch.setenv("CATCHMENT_ADAPTERS", "builtin,sling")
    result = _cli(project, "materialize")
    assert result.exit_code == 0, result.output
    return project


def test_rows_inserted_into_the_source_make_the_stream_stale(
    observed_project: Path, pg_schema: str, pg: Any, password: str
) -> None:
    source = f"external/postgres/postgres/{pg_schema}/orders"
    plan = _plan(observed_project)
    assert {plan[k]["state"] for k in plan} == {"fresh"}
    pg.execute(f"insert into {pg_schema}.orders values (6, 9.0, timestamp '2026-02-01')")
    plan = _plan(observed_project)
    assert plan["raw/orders"]["state"] == "stale"
    (reason,) = plan["raw/orders"]["reasons"]
    assert reason.startswith(f"source changed: {source} data version ")
    assert plan["raw/customers"]["state"] == "fresh"
    observed = _cli(observed_project, "observe", "--json")
    assert observed.exit_code == 0, observed.output
    rows = {r["key"]: r for r in json.loads(observed.output)}
    assert rows[source]["row_count"] == 6
    assert rows[source]["columns"]["amount"] == "numeric"
    assert password not in observed.output
    applied = _cli(observed_project, "apply")
    assert applied.exit_code == 0, applied.output
    assert _last_run_built(observed_project) == {"raw/orders"}
    assert _plan(observed_project)["raw/orders"]["state"] == "fresh"
    records = (observed_project / ".catchment" / "runs.db").read_bytes()
    assert password.encode() not in records


def test_a_dropped_target_table_is_rebuilt_alone(observed_project: Path) -> None:
    con = duckdb.connect(str(observed_project / "warehouse.duckdb"))
    con.execute("drop table raw.customers")
    con.close()
    plan = _plan(observed_project)
    assert plan["raw/customers"]["state"] == "missing"
    assert plan["raw/customers"]["reasons"] == ["table gone (warehouse.raw.customers not found)"]
    assert plan["raw/orders"]["state"] == "fresh"
    assert _cli(observed_project, "apply").exit_code == 0
    assert _last_run_built(observed_project) == {"raw/customers"}


def test_an_unreachable_source_is_unknown_with_the_cause(
    observed_project: Path, monkeypatch: pytest.MonkeyPatch, password: str
) -> None:
    monkeypatch.setenv(
        "OBSERVE_PG_URL", f"postgresql://postgres:{password}@127.0.0.1:1/postgres?sslmode=disable"
    )
    plan = _cli(observed_project, "plan", "--observe-ttl", "0")
    assert plan.exit_code == 0, plan.output  # the stream's own table is still observed
    result = _cli(observed_project, "observe", "--json")
    assert result.exit_code == 1  # something could not be observed
    rows = {r["key"]: r for r in json.loads(result.output)}
    sources = [r for k, r in rows.items() if k.startswith("external/")]
    assert len(sources) == 2
    assert {r["state"] for r in sources} == {"unknown"}
    assert "could not observe (OperationalError" in sources[0]["reasons"][0]
    assert password not in result.output + plan.output

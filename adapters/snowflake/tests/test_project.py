"""A whole project through the real CLI: catchment.yaml with a snowflake resource (password
from the environment), a snowflake IO manager, a Python asset and managed objects.

Snowflake's cloud cannot be reached here: the CLI's typer app runs in this process inside one
``fakesnow.patch()``, so every command talks to the same fakesnow database through the real
connector API.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import fakesnow
import pytest
from catchment.cli.main import app
from catchment.keys import AssetKey
from catchment.project import load_project
from typer.testing import CliRunner

PROJECT = """\
project:
  name: sf_demo
resources:
  warehouse:
    type: snowflake
    config: &sf
      account: acme-prod
      user: loader
      password: "{{ env('SF_TEST_PASSWORD') }}"
      database: analytics
      schema: public
io_managers:
  sf:
    type: snowflake
    config:
      connection: *sf
components:
  - type: python
    name: loaders
    attributes:
      module: loaders.py
  - type: snowflake
    name: objects
    attributes:
      connection: warehouse
      objects:
        - kind: file_format
          name: csv_format
          schema: raw
          type: csv
          options: {skip_header: 1}
        - kind: stage
          name: landing
          schema: raw
          file_format: csv_format
        - kind: table
          name: audit
          schema: raw
          columns:
            - {name: id, type: number}
        - kind: view
          name: big_orders
          schema: marts
          query: select order_id, amount from analytics.raw.orders where amount > 100
"""

LOADERS = """\
import pandas as pd
from catchment import asset


@asset(key="raw/orders", io_manager_key="sf")
def orders():
    return pd.DataFrame({"order_id": [1, 2, 3], "amount": [50.0, 150.0, 250.0]})
"""

runner = CliRunner()


def cli(root: Path, *args: str) -> Any:
    result = runner.invoke(app, [*args, "--project", str(root)])
    return result


def plan(root: Path) -> dict[str, Any]:
    result = cli(root, "plan", "--json")
    assert result.exit_code == 0, result.output
    return {s["key"]: s for s in json.loads(result.output)}


@pytest.fixture
def project(project_root: Path, monkeypatch: pytest.MonkeyPatch, password: str) -> Path:
    (project_root / "catchment.yaml").write_text(PROJECT)
    (project_root / "loaders.py").write_text(LOADERS)
    monkeypatch.setenv("SF_TEST_PASSWORD", password)
    monkeypatch.setenv("CATCHMENT_NO_COLOR", "1")
    return project_root


def test_the_project_loads_and_links_python_to_snowflake(project: Path, password: str) -> None:
    loaded = load_project(project)
    assert loaded.problems == []
    graph = loaded.require_graph()
    # The view reads the table the IO manager writes for raw/orders: linked by identity.
    assert graph.upstream(AssetKey("marts/big_orders")) == {AssetKey("raw/orders")}
    assert graph.upstream(AssetKey("raw/landing")) == {AssetKey("raw/csv_format")}
    assert password not in repr(loaded.resources) + repr(loaded.io_managers)


def test_materialize_plan_edit_apply(project: Path, password: str, run_sql: Any) -> None:
    with fakesnow.patch(nop_regexes=[r"CREATE (OR REPLACE )?FILE FORMAT .*"]):
        first = cli(project, "materialize")
        assert first.exit_code == 0, first.output
        assert run_sql("SELECT ORDER_ID FROM ANALYTICS.MARTS.BIG_ORDERS ORDER BY 1") == [(2,), (3,)]
        fresh = plan(project)
        assert len(fresh) == 5
        assert {s["state"] for s in fresh.values()} == {"fresh"}, [
            (k, s["reasons"]) for k, s in fresh.items()
        ]

        # Edit one managed object: only it is stale, with the reason.
        text = PROJECT.replace(
            "            - {name: id, type: number}\n",
            "            - {name: id, type: number}\n            - {name: note, type: varchar}\n",
        )
        (project / "catchment.yaml").write_text(text)
        states = plan(project)
        assert states["raw/audit"]["state"] == "stale"
        assert states["raw/audit"]["reasons"][0].startswith("code changed")
        assert {k for k, s in states.items() if s["state"] != "fresh"} == {"raw/audit"}

        applied = cli(project, "apply")
        assert applied.exit_code == 0, applied.output
        assert "applying 1 asset(s): raw/audit" in applied.output
        assert run_sql(
            "SELECT column_name FROM ANALYTICS.information_schema.columns "
            "WHERE table_schema = 'RAW' AND table_name = 'AUDIT' ORDER BY ordinal_position"
        ) == [("ID",), ("NOTE",)]
        assert {s["state"] for s in plan(project).values()} == {"fresh"}
        again = cli(project, "apply")
        assert "nothing to do" in again.output

        runs = cli(project, "runs", "list", "--json")
        assert runs.exit_code == 0, runs.output
        last = json.loads(runs.output)[0]["run_id"]
        shown = cli(project, "runs", "show", last, "--json")
        assert (
            'ALTER TABLE \\"ANALYTICS\\".\\"RAW\\".\\"AUDIT\\" ADD COLUMN \\"NOTE\\" VARCHAR'
            in shown.output
        )

    # The password never reached the terminal nor the run records.
    for result in (first, applied, again, shown):
        assert password not in result.output
    records = b"".join(p.read_bytes() for p in (project / ".catchment").rglob("*") if p.is_file())
    assert password.encode() not in records

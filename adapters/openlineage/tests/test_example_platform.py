"""The example platform materialized by the real CLI (Sling, dlt, dbt on DuckDB, Spark, Modal
locally, Snowflake through fakesnow) with ``OPENLINEAGE_URL`` pointing at a receiver on
127.0.0.1: every asset STARTs and COMPLETEs, a broken dbt model FAILs, every event validates
against the OpenLineage JSON schema, and dataset names follow the spec's naming rules."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import Receiver, validate

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "examples" / "platform"
LEFTOVERS = shutil.ignore_patterns(
    "warehouse.duckdb*", ".catchment", "target", "logs", "features", ".fakesnow", "__pycache__"
)


def _catchment(root: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PG_URL"}
    done = subprocess.run(
        [sys.executable, "-m", "catchment", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if ok:
        assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    return done


def _states(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in events:
        out.setdefault(e["job"]["name"], []).append(e["eventType"])
    return out


def _outputs(events: list[dict[str, Any]]) -> dict[str, tuple[str, str]]:
    return {
        e["job"]["name"].split(".", 1)[1]: (e["outputs"][0]["namespace"], e["outputs"][0]["name"])
        for e in events
        if e["eventType"] == "COMPLETE" and e["outputs"] and "." in e["job"]["name"]
    }


@pytest.mark.slow
@pytest.mark.timeout(1500)  # materializes every tool: minutes on 2 busy cores
def test_the_example_platform_emits_valid_spec_named_events(
    receiver: Receiver, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    root = tmp_path / "platform"
    shutil.copytree(EXAMPLE, root, ignore=LEFTOVERS)
    monkeypatch.setenv("OPENLINEAGE_URL", receiver.url)
    monkeypatch.setenv("OPENLINEAGE_NAMESPACE", "shop")
    _catchment(root, "materialize")

    events = list(receiver.events)
    for event in events:
        validate(event)
    listed = json.loads(_catchment(root, "assets", "list", "--json").stdout)
    assets = {r["key"] for r in listed if not r["external"]}
    states = _states(events)
    assert states.pop("platform") == ["START", "COMPLETE"]
    assert {k.split(".", 1)[1] for k in states} == assets
    assert all(s == ["START", "COMPLETE"] for s in states.values()), states

    # names per the spec: DuckDB file + database.schema.table, Snowflake account, files
    warehouse = f"duckdb://{(root / 'warehouse.duckdb').resolve()}"
    out = _outputs(events)
    for record in listed:  # every asset with a table, by the spec's rules per system
        t = record.get("table")
        if record["external"] or not t or record["key"] not in out:
            continue
        expected = {
            "duckdb": (f"duckdb://{t['location']}", f"{t['database']}.{t['schema']}.{t['name']}"),
            "snowflake": (None, f"{t['database']}.{t['schema']}.{t['name']}".upper()),
            "file": ("file", f"{t['location']}/{t['name']}"),
        }[t["system"]]
        assert out[record["key"]][1] == expected[1], record["key"]
        assert expected[0] in (None, out[record["key"]][0]), record["key"]
    assert out["raw/orders"] == (warehouse, "warehouse.raw.orders")  # Sling
    assert out["raw/events"][0] == warehouse  # dlt
    assert out["customer_orders"] == (warehouse, "warehouse.main.customer_orders")  # dbt
    assert out["publish/customer_orders"][0] == "snowflake://local.us-west-1.aws"  # Snowflake
    assert out["publish/customer_orders"][1] == "ANALYTICS.PUBLISH.CUSTOMER_ORDERS"

    # dbt's compiled SQL gives column lineage into the upstream model's dataset
    complete = {
        e["job"]["name"]: e for e in events if e["eventType"] == "COMPLETE" and e["outputs"]
    }
    mart = complete["platform.customer_orders"]["outputs"][0]
    fields = mart["facets"]["columnLineage"]["fields"]
    sources = {(f["name"], f["field"]) for col in fields.values() for f in col["inputFields"]}
    assert any(name == "warehouse.main.stg_orders" for name, _ in sources), sources
    orders = complete["platform.raw/orders"]["outputs"][0]  # Sling reports rows written
    assert orders["outputFacets"]["outputStatistics"]["rowCount"] > 0

    # the same parse, shown by the CLI
    shown = _catchment(root, "assets", "show", "customer_orders", "--columns").stdout
    assert "warehouse.main.stg_orders." in shown, shown
    shown_json = json.loads(
        _catchment(root, "assets", "show", "customer_orders", "--columns", "--json").stdout
    )
    assert any(
        src.startswith("warehouse.main.stg_customers.")
        for col in shown_json["columns"].values()
        for src in col["sources"]
    ), shown_json["columns"]

    # a broken model: START then FAIL with dbt's error message
    model = root / "dbt" / "models" / "marts" / "daily_revenue.sql"
    model.write_text("select no_such_column from {{ ref('stg_orders') }}\n")
    receiver.events.clear()
    _catchment(root, "materialize", "--select", "daily_revenue", ok=False)
    for event in receiver.events:
        validate(event)
    states = _states(receiver.events)
    assert states["platform.daily_revenue"] == ["START", "FAIL"]
    assert states["platform"] == ["START", "FAIL"]
    fail = next(e for e in receiver.events if e["eventType"] == "FAIL" and "." in e["job"]["name"])
    assert "no_such_column" in fail["run"]["facets"]["errorMessage"]["message"]

"""Observation of dlt tables with real dlt into DuckDB, through the CLI: a table dropped by
hand is missing and `apply` reloads exactly its resource."""

from __future__ import annotations

import json
from typing import Any

import duckdb
import pytest
from catchment.cli.main import app
from typer.testing import CliRunner

from .conftest import ShopProject, shop_yaml

pytestmark = pytest.mark.slow


def _cli(shop: ShopProject, *args: str) -> Any:
    return CliRunner().invoke(app, [*args, "--project", str(shop.root)])


def _plan(shop: ShopProject) -> dict[str, dict[str, Any]]:
    result = _cli(shop, "plan", "--json", "--observe-ttl", "0")
    assert result.exit_code == 0, result.output
    return {r["key"]: r for r in json.loads(result.output)}


def test_a_dropped_dlt_table_is_missing_and_reloaded(shop: ShopProject) -> None:
    shop.yaml(shop_yaml(shop))
    assert _cli(shop, "materialize").exit_code == 0
    records_only = _cli(shop, "plan", "--json", "--no-observe")
    before = {r["key"]: r["state"] for r in json.loads(records_only.output)}
    # observing agrees with the records on a warehouse nobody touched
    assert {k: r["state"] for k, r in _plan(shop).items()} == before
    con = duckdb.connect(str(shop.warehouse))
    con.execute("drop table raw.customers")
    con.close()
    plan = _plan(shop)
    assert plan["raw/customers"]["state"] == "missing"
    assert plan["raw/customers"]["reasons"] == ["table gone (warehouse.raw.customers not found)"]
    changed = {k for k, r in plan.items() if r["state"] != before[k]}
    assert changed == {"raw/customers"}
    applied = _cli(shop, "apply")
    assert applied.exit_code == 0, applied.output
    expected = sorted({"raw/customers"} | {k for k, st in before.items() if st != "fresh"})
    assert f"applying {len(expected)} asset(s): {', '.join(expected)}" in applied.output
    assert shop.query("select count(*) from raw.customers") == [(2,)]
    assert _plan(shop)["raw/customers"]["state"] == "fresh"

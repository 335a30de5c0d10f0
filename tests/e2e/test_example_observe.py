"""Observation on the example platform, every tool for real: tables and outputs deleted behind
catchment's back are reported missing by `plan` and `apply` rebuilds exactly them and their
downstream; a changed CSV source makes its Sling stream stale ("source changed")."""

from __future__ import annotations

import shutil
import time
from typing import Any

import duckdb
import pytest

from .conftest import Cli

# What is deleted behind catchment's back, one per tool: a dbt model's table, a Sling
# target, a Spark output path, a Snowflake (fakesnow) table written by a Python asset.
DELETED = {"daily_revenue", "raw/orders", "features/customer_features", "publish/customer_orders"}


def _plan(cli: Cli) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in cli.json("plan", "--observe-ttl", "0") if not r["external"]}


def _downstream(assets: list[dict[str, Any]], roots: set[str]) -> set[str]:
    down: dict[str, set[str]] = {}
    for a in assets:
        for d in a["deps"]:
            down.setdefault(d, set()).add(a["key"])
    out, todo = set(roots), list(roots)
    while todo:
        for k in down.get(todo.pop(), ()):
            if k not in out:
                out.add(k)
                todo.append(k)
    return out


def _drop_snowflake_table(cli: Cli) -> None:
    from catchment.project import load_project

    resource = load_project(cli.root).resources["snowflake"]
    with resource.connect() as conn:
        conn.cursor().execute("DROP TABLE ANALYTICS.PUBLISH.CUSTOMER_ORDERS")


@pytest.mark.slow
@pytest.mark.timeout(1500)  # materializes the whole platform, then applies most of it again
def test_deleted_tables_and_outputs_are_missing_and_rebuilt_with_their_downstream(
    platform: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    platform.run("materialize")
    assets = platform.json("assets", "list")
    start = time.perf_counter()
    fresh = _plan(platform)
    print(f"plan on the example platform (observing): {time.perf_counter() - start:.2f} s wall")
    assert {r["state"] for r in fresh.values()} == {"fresh"}

    con = duckdb.connect(str(platform.root / "warehouse.duckdb"))
    con.execute("drop table main.daily_revenue")
    con.execute("drop table raw.orders")
    con.close()
    shutil.rmtree(platform.root / "data" / "features" / "customer_features")
    monkeypatch.chdir(platform.root)
    _drop_snowflake_table(platform)

    plan = _plan(platform)
    missing = {k for k, r in plan.items() if r["state"] == "missing"}
    assert missing == DELETED
    assert all(plan[k]["reasons"][0].startswith("table gone (") for k in DELETED)
    expected = _downstream(assets, DELETED)
    assert {k for k, r in plan.items() if r["state"] != "fresh"} == expected

    before = {r["run_id"] for r in platform.json("runs", "list")}
    platform.run("apply")
    new_runs = [r for r in platform.json("runs", "list") if r["run_id"] not in before]
    assert all(r["status"] == "success" for r in new_runs)
    assert {k for r in new_runs for k in r["asset_keys"]} == expected
    assert {r["state"] for r in _plan(platform).values()} == {"fresh"}

    # a source outside the graph changes: the Sling stream reading it is stale
    orders = platform.root / "data" / "orders.csv"
    orders.write_text(orders.read_text() + orders.read_text().splitlines()[-1] + "\n")
    plan = _plan(platform)
    (reason,) = plan["raw/orders"]["reasons"]
    assert reason.startswith("source changed: external/file/orders.csv data version ")
    assert plan["raw/customers"]["state"] == "fresh"

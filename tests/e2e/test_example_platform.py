"""The example platform end to end, from a clean copy, through the CLI in subprocesses.

Every tool runs for real: Sling (CSV into DuckDB), dlt (nested events), dbt (sources, staging,
marts, tests), Spark (spark-submit, local), Modal (local mode), Snowflake (fakesnow) and
plain Python. Lineage comes only from table identity, so the edges asserted here are the
proof that the tools' assets join up without anyone aligning keys.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from .conftest import EXAMPLE, REPO, Cli

# The model the test edits, and everything downstream of it, across dbt, Spark, Modal,
# Snowflake and Python.
EDITED_MODEL = "dbt/models/staging/stg_orders.sql"
STALE_AFTER_EDIT = {
    "stg_orders",
    "customer_orders",
    "daily_revenue",
    "features/customer_features",
    "ml/customer_scores",
    "reports/top_customers",
    "publish/customer_orders",
    "publish/revenue_by_country",
}


def _by_key(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["key"]: r for r in rows}


def _states(cli: Cli) -> dict[str, str]:
    return {s["key"]: s["state"] for s in cli.json("plan") if not s["external"]}


def _events(cli: Cli, run_id: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = cli.json("runs", "show", run_id)["events"]
    return events


def test_the_example_declares_no_key_alignment() -> None:
    """Lineage must come from table identity: no overrides, no dbt meta, no asset keys in
    the dbt project."""
    dbt = EXAMPLE / "dbt"
    files = [EXAMPLE / "catchment.yaml", dbt / "dbt_project.yml", *(dbt / "models").rglob("*.yml")]
    for path in files:
        text = path.read_text()
        for word in ("overrides:", "meta:", "asset_key", "catchment:"):
            assert word not in text, f"{path.relative_to(EXAMPLE)} uses {word}"


@pytest.mark.slow
@pytest.mark.timeout(900)  # loads every adapter's project (dbt parse, Spark, Modal)
def test_assets_list_links_every_tool_by_table_identity(platform: Cli) -> None:
    assets = _by_key(platform.json("assets", "list"))
    adapter = {k: r["adapter"] for k, r in assets.items()}

    def deps(key: str) -> list[str]:
        found: list[str] = assets[key]["deps"]
        return found

    # Sling and dlt into dbt (through dbt sources, including dlt's child table)
    assert deps("stg_customers") == ["raw/customers"]
    assert deps("stg_orders") == ["raw/orders"]
    assert deps("stg_events") == ["raw/events"]
    assert deps("stg_event_items") == ["raw/events/items"]
    assert {adapter["raw/customers"], adapter["raw/orders"]} == {"sling"}
    assert {adapter["raw/events"], adapter["raw/events/items"]} == {"dlt"}
    assert {adapter[k] for k in ("stg_customers", "stg_events", "customer_orders")} == {"dbt"}
    # dbt into Spark, Spark into Modal, both into Python
    assert deps("features/customer_features") == ["customer_orders"]
    assert adapter["features/customer_features"] == "spark"
    assert deps("ml/customer_scores") == ["features/customer_features"]
    assert adapter["ml/customer_scores"] == "modal"
    assert deps("reports/top_customers") == ["customer_orders", "ml/customer_scores"]
    # dbt into Snowflake: the mart published through the Snowflake IO manager, and the
    # Snowflake component's view linked to that table by parsing its query
    assert deps("publish/customer_orders") == ["customer_orders"]
    assert assets["publish/customer_orders"]["table"]["system"] == "snowflake"
    assert deps("publish/revenue_by_country") == ["publish/customer_orders"]
    assert adapter["publish/revenue_by_country"] == "snowflake"
    # the CSV files are the only external sources (PG_URL is unset)
    external = {k for k, r in assets.items() if r["external"]}
    assert external == {"external/file/customers.csv", "external/file/orders.csv"}
    assert deps("raw/customers") == ["external/file/customers.csv"]
    assert "raw/store_regions" not in assets  # the optional PostgreSQL stream is off


@pytest.mark.slow
@pytest.mark.timeout(1500)  # materializes every tool twice: minutes on 2 busy cores
def test_materialize_then_edit_one_model_and_apply_only_its_downstream(platform: Cli) -> None:
    assert platform.run("check").stdout.startswith("OK platform:")
    internal = {k for k, r in _by_key(platform.json("assets", "list")).items() if not r["external"]}

    # 1. everything materializes, every check passes
    out = platform.run("materialize").stdout
    summary = re.search(
        r"run (\w+) succeeded: (\d+) materialized, 0 failed, 0 skipped, (\d+) checks \(0 failed\)",
        out,
    )
    assert summary, out[-3000:]
    events = _events(platform, summary.group(1))
    materialized = {e["asset_key"] for e in events if e["type"] == "materialization"}
    assert materialized == internal
    checks = [e for e in events if e["type"] == "check_evaluated"]
    assert len(checks) == int(summary.group(3)) > 0
    assert all(e["data"]["passed"] for e in checks)
    assert {e["asset_key"] for e in checks} >= {
        "stg_orders",  # dbt tests
        "customer_orders",  # dbt tests and the Python check
        "features/customer_features",  # reported by the Spark script
        "ml/customer_scores",  # reported by the Modal function
        "reports/top_customers",
    }

    # 2. the plan then reports everything fresh
    assert set(_states(platform).values()) == {"fresh"}

    # 3. a harmless edit of one dbt model makes exactly it and its downstream stale
    model = platform.root / EDITED_MODEL
    model.write_text(model.read_text() + "-- reviewed\n")
    states = _states(platform)
    stale = {k for k, s in states.items() if s != "fresh"}
    assert stale == STALE_AFTER_EDIT
    assert {states[k] for k in stale} == {"stale"}

    # 4. apply runs only those, then everything is fresh again
    before = {r["run_id"] for r in platform.json("runs", "list")}
    applied = platform.run("apply").stdout
    assert "applying" in applied
    new_runs = [r for r in platform.json("runs", "list") if r["run_id"] not in before]
    assert new_runs
    assert all(r["status"] == "success" for r in new_runs)
    assert {k for r in new_runs for k in r["asset_keys"]} == STALE_AFTER_EDIT
    rerun = {
        e["asset_key"]
        for r in new_runs
        for e in _events(platform, r["run_id"])
        if e["type"] == "materialization"
    }
    assert rerun == STALE_AFTER_EDIT
    assert set(_states(platform).values()) == {"fresh"}


@pytest.mark.slow
@pytest.mark.timeout(900)  # loads every adapter's project (dbt parse, Spark, Modal)
def test_the_docs_picture_is_the_example_graph(platform: Cli) -> None:
    page = (REPO / "docs" / "examples" / "platform.md").read_text()
    block = re.search(r"```mermaid\n(.*?)```", page, re.S)
    assert block, "docs/examples/platform.md has no mermaid block"
    assert block.group(1) == platform.run("graph").stdout, (
        "the picture is out of date: paste the output of `catchment graph` (run in "
        "examples/platform) into docs/examples/platform.md"
    )

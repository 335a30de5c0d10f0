"""Observing a workspace: each project's warehouse observed by its own environment (real
subprocesses, real DuckDB files), recorded in the shared store, judged on the merged graph
by `plan` and `catchment observe`; a project that cannot observe does not stop the others."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import duckdb
import pytest
from catchment.events import EventType
from catchment.execution.observe import OBSERVATIONS_RUN_ID
from catchment.keys import AssetKey
from catchment.storage import open_storage
from catchment.testing import CliResult, run_cli
from catchment.workspace import load_workspace
from catchment.workspace.observing import assignments

from tests.core.workspace.conftest import simple_workspace

pytestmark = pytest.mark.timeout(180)

LEDGER_TABLE = """\
import pandas as pd
from catchment import asset


@asset
def ledger() -> pd.DataFrame:
    return pd.DataFrame({"amount": [10, 20, 30]})
"""

LEADS_TABLE = """\
import pandas as pd
from catchment import asset


@asset
def leads() -> pd.DataFrame:
    return pd.DataFrame({"email": ["a@x.com"]})
"""


def _cli(cwd: Path, *args: str) -> CliResult:
    return run_cli(args, cwd=cwd, timeout=120)


def _sql(warehouse: Path, statement: str) -> None:
    con = duckdb.connect(str(warehouse))
    try:
        con.execute(statement)
    finally:
        con.close()


def _plan(root: Path, *args: str) -> dict[str, dict[str, Any]]:
    done = _cli(root, "plan", "--json", *args)
    assert done.returncode == 0, done.stderr
    return {row["key"]: row for row in json.loads(done.stdout)}


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """Finance and marketing, each with its own DuckDB warehouse, materialized."""
    simple_workspace(tmp_path, {"finance": LEDGER_TABLE, "marketing": LEADS_TABLE})
    done = _cli(tmp_path, "materialize")
    assert done.returncode == 0, done.stderr
    return tmp_path


def test_plan_shows_tables_changed_behind_catchments_back_in_each_project(
    workspace: Path,
) -> None:
    before = _plan(workspace)
    assert {k: r["state"] for k, r in before.items()} == {"ledger": "fresh", "leads": "fresh"}
    assert before["ledger"]["observed"]["row_count"] == 3
    _sql(workspace / "finance" / "warehouse.duckdb", "alter table ledger add column note varchar")
    _sql(workspace / "marketing" / "warehouse.duckdb", "insert into leads values ('b@x.com')")
    cached = _plan(workspace, "--observe-ttl", "3600")  # nothing recorded since: reused
    assert {r["state"] for r in cached.values()} == {"fresh"}
    after = _plan(workspace, "--observe-ttl", "0")
    assert after["ledger"]["state"] == "stale"
    assert after["ledger"]["reasons"] == [
        "drifted (columns differ from what the code produced: added note)"
    ]
    assert after["ledger"]["project"] == "finance"
    assert after["leads"]["state"] == "stale"
    assert after["leads"]["reasons"][0].startswith("changed outside catchment (data version ")
    assert after["leads"]["observed"]["row_count"] == 2
    records_only = _plan(workspace, "--no-observe")
    assert {r["state"] for r in records_only.values()} == {"fresh"}
    assert all("observed" not in r for r in records_only.values())


def test_apply_on_a_workspace_observes_and_rebuilds_the_drifted_tables(workspace: Path) -> None:
    _sql(workspace / "finance" / "warehouse.duckdb", "alter table ledger add column note varchar")
    text = _cli(workspace, "plan", "--observe-ttl", "0")
    assert text.returncode == 0, text.stderr
    assert "0 missing, 1 stale, 1 fresh" in text.stdout
    assert _cli(workspace, "apply", "--no-observe").stdout.strip().endswith("nothing to do")
    applied = _cli(workspace, "apply")
    assert applied.returncode == 0, applied.stderr
    assert "finance: materializing 1 asset(s) in its environment: ledger" in applied.stdout
    assert "1 materialized, 0 failed" in applied.stdout
    assert {r["state"] for r in _plan(workspace, "--observe-ttl", "0").values()} == {"fresh"}


def test_observe_records_in_the_shared_store_and_a_failing_observer_stops_only_its_project(
    workspace: Path,
) -> None:
    _sql(workspace / "finance" / "warehouse.duckdb", "alter table ledger add column note varchar")
    (workspace / "marketing" / "warehouse.duckdb").write_bytes(b"not a duckdb file" * 100)
    done = _cli(workspace, "observe", "--json")
    assert done.returncode == 1, done.stderr  # marketing's warehouse could not be observed
    rows = {r["key"]: r for r in json.loads(done.stdout)}
    assert rows["ledger"]["project"] == "finance"
    assert (rows["ledger"]["exists"], rows["ledger"]["state"]) == (True, "stale")
    assert rows["ledger"]["columns"] == {"amount": "BIGINT", "note": "VARCHAR"}
    assert (rows["leads"]["exists"], rows["leads"]["state"]) == (None, "unknown")
    assert "not a valid DuckDB database file" in rows["leads"]["error"]
    store = open_storage(f"sqlite:///{workspace / '.catchment' / 'runs.db'}")
    try:
        events = store.events_for_run(OBSERVATIONS_RUN_ID, [EventType.ASSET_OBSERVED])
    finally:
        store.close()
    latest = {e.asset_key: e.observed for e in events}
    assert latest["ledger"].columns == {"amount": "BIGINT", "note": "VARCHAR"}
    assert latest["leads"].exists is None
    text = _cli(workspace, "observe", "-s", "ledger")
    assert text.returncode == 0, text.stderr
    assert "observed 1 of 1 asset(s): 0 gone, 0 unknown" in text.stdout


def test_a_project_whose_environment_cannot_observe_is_judged_from_the_records(
    tmp_path: Path,
) -> None:
    python = tmp_path / "python-without-worker"  # loads the project, fails to observe it
    python.write_text(
        "#!/bin/sh\n"
        'case "$*" in *workspace.worker*) echo "error: worker is broken here" >&2; exit 3;; esac\n'
        f'exec {sys.executable} "$@"\n'
    )
    python.chmod(0o755)
    projects = {"finance": LEDGER_TABLE, "marketing": LEADS_TABLE}
    simple_workspace(tmp_path, projects)
    assert _cli(tmp_path, "materialize").returncode == 0
    simple_workspace(tmp_path, projects, finance=str(python))
    _sql(tmp_path / "marketing" / "warehouse.duckdb", "drop table leads")
    plan = _plan(tmp_path, "--observe-ttl", "0")
    assert plan["ledger"]["state"] == "fresh"
    assert plan["ledger"]["reasons"] == [
        f"not observed: project finance could not observe (observing in its environment "
        f"(python {python}) failed (exit 3): error: worker is broken here); judged from the "
        "records"
    ]
    assert plan["leads"]["state"] == "missing"
    assert plan["leads"]["reasons"] == ["table gone (warehouse.main.leads not found)"]
    observed = _cli(tmp_path, "observe", "--json")
    assert observed.returncode == 1
    rows = {r["key"]: r for r in json.loads(observed.stdout)}
    assert rows["ledger"]["observed"] is False
    assert "worker is broken here" in rows["ledger"]["error"]
    assert rows["leads"]["exists"] is False


SOURCE_READER = """\
from pathlib import Path

from catchment import AssetKey, MaterializeResult, asset, file_table

RATES = Path(__file__).resolve().parent.parent / "shared" / "rates.csv"


@asset(reads=[file_table(RATES)])
def {name}():
    return MaterializeResult(key=AssetKey("{name}"))
"""


def test_an_external_source_is_observed_by_the_first_project_reading_it(tmp_path: Path) -> None:
    simple_workspace(
        tmp_path,
        {
            "finance": SOURCE_READER.format(name="prices"),
            "marketing": SOURCE_READER.format(name="offers"),
        },
    )
    wsg = load_workspace(tmp_path / "catchment.workspace.yaml")
    graph = wsg.require_graph()
    (source,) = [k for k in graph.keys_of(graph.order_ids) if graph.is_external(k)]
    assigned = assignments(wsg, graph.keys_of(graph.order_ids))
    assert {project: sorted(keys) for project, keys in assigned.items()} == {
        "finance": sorted([source, AssetKey("prices")]),
        "marketing": [AssetKey("offers")],
    }


def test_observe_reports_a_project_that_did_not_load_and_observes_the_others(
    tmp_path: Path,
) -> None:
    projects = {"finance": LEDGER_TABLE, "marketing": LEADS_TABLE}
    simple_workspace(tmp_path, projects)
    assert _cli(tmp_path, "materialize").returncode == 0
    simple_workspace(tmp_path, projects, finance="/nowhere/bin/python")
    done = _cli(tmp_path, "observe", "--json")
    assert done.returncode == 1
    rows = {r["key"]: r for r in json.loads(done.stdout)}
    assert (rows["leads"]["exists"], rows["leads"]["state"]) == (True, "fresh")
    ledger = rows["ledger"]  # from finance's last good snapshot
    assert (ledger["project"], ledger["observed"], ledger["state"]) == ("finance", False, "unknown")
    assert ledger["reasons"][0].startswith("not observed: project finance did not load (its Python")
    assert "✗ finance: did not load, so its assets were not observed" in done.stderr


def test_a_project_observing_past_its_timeout_is_killed_whole_and_the_others_are_observed(
    tmp_path: Path,
) -> None:
    python = tmp_path / "python-that-hangs"  # observing starts a grandchild that never ends
    python.write_text(
        "#!/bin/sh\n"
        'case "$*" in *workspace.worker*) sleep 120 & echo $! > "$0.pid"; wait; exit 0;; esac\n'
        f'exec {sys.executable} "$@"\n'
    )
    python.chmod(0o755)
    file = simple_workspace(
        tmp_path, {"finance": LEDGER_TABLE, "marketing": LEADS_TABLE}, finance=str(python)
    )
    listed = _cli(tmp_path, "assets", "list")  # loaded (and cached) under the default timeout
    assert listed.returncode == 0, listed.stderr
    file.write_text(
        file.read_text().replace(
            "    team: team-finance\n", "    team: team-finance\n    load_timeout: 4\n"
        )
    )
    plan = _plan(tmp_path, "--observe-ttl", "0")
    assert plan["ledger"]["reasons"] == [
        f"not observed: project finance could not observe (observing in its environment "
        f"(python {python}) took more than 4 s); judged from the records"
    ]
    assert plan["leads"]["observed"]["exists"] is False  # marketing was observed
    grandchild = int((tmp_path / "python-that-hangs.pid").read_text())
    status = Path(f"/proc/{grandchild}/status")
    state = status.read_text() if status.exists() else "State: gone"
    assert "State:\tZ" in state or state == "State: gone"  # killed (a zombie until reaped)

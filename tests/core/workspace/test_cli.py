"""The commands in a workspace folder: what they print and their exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.core.workspace.conftest import (
    BUDGET_CODE,
    INGEST_CODE,
    LEDGER_CODE,
    REPORT_CODE,
    run_catchment,
    simple_workspace,
)

pytestmark = pytest.mark.timeout(180)


def test_a_failed_upstream_project_skips_the_assets_downstream(tmp_path: Path) -> None:
    failing = LEDGER_CODE.format(TAGS="{}").replace(
        "    LEDGER.parent.mkdir",
        '    raise RuntimeError("ledger is closed")\n    LEDGER.parent.mkdir',
    )
    simple_workspace(tmp_path, {"finance": failing, "marketing": BUDGET_CODE})
    run = run_catchment(tmp_path, "materialize")
    assert run.returncode == 1, run.stderr
    assert "finance: materializing 1 asset(s) in its environment: ledger" in run.stdout
    assert "marketing: skipped budget (upstream ledger did not materialize)" in run.stdout
    assert "0 materialized, 1 failed, 1 skipped in 1 project run(s)" in run.stdout
    assert "ledger is closed" in run.stderr
    runs = json.loads(run_catchment(tmp_path, "runs", "list", "--json").stdout)
    (failed,) = [r for r in runs if r["tags"]["workspace_project"] == "finance"]
    (tmp_path / "finance" / "assets.py").write_text(LEDGER_CODE.format(TAGS="{}"))
    retried = run_catchment(tmp_path, "runs", "retry", failed["run_id"][:10], "--from-failure")
    assert retried.returncode == 0, retried.stderr
    assert f"retrying {failed['run_id']}: 1 asset" in retried.stdout
    assert "finance: materializing 1 asset(s) in its environment: ledger" in retried.stdout
    assert "1 materialized, 0 failed, 0 skipped" in retried.stdout


def test_materialize_records_each_project_run_in_the_shared_store(tmp_path: Path) -> None:
    simple_workspace(tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE})
    run = run_catchment(tmp_path, "materialize", "-s", "+project:marketing")
    assert run.returncode == 0, run.stderr
    assert "2 materialized, 0 failed, 0 skipped in 2 project run(s)" in run.stdout
    from catchment.storage import open_storage

    store = open_storage(f"sqlite:///{tmp_path / '.catchment' / 'runs.db'}")
    try:
        runs = store.list_runs()
        assert sorted(r.tags["workspace_project"] for r in runs) == ["finance", "marketing"]
        assert len({r.tags["workspace_run"] for r in runs}) == 1
        assert {str(k) for k in store.latest_materializations()} == {"ledger", "budget"}
    finally:
        store.close()
    plan = run_catchment(tmp_path, "plan", "--json")
    assert plan.returncode == 0, plan.stderr
    assert {(r["key"], r["state"], r["project"]) for r in json.loads(plan.stdout)} == {
        ("ledger", "fresh", "finance"),
        ("budget", "fresh", "marketing"),
    }
    listed = run_catchment(tmp_path, "runs", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert {r["tags"]["workspace_project"] for r in json.loads(listed.stdout)} == {
        "finance",
        "marketing",
    }
    shown = run_catchment(tmp_path, "runs", "show", json.loads(listed.stdout)[0]["run_id"][:8])
    assert shown.returncode == 0, shown.stderr
    apply = run_catchment(tmp_path, "apply")
    assert apply.returncode == 0
    assert "nothing to do" in apply.stdout


def test_plan_shows_reads_of_a_project_that_did_not_load_as_unknown(tmp_path: Path) -> None:
    file = simple_workspace(
        tmp_path,
        {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE},
        finance="/nowhere/bin/python",
    )
    plan = run_catchment(tmp_path, "plan", "--json")
    assert plan.returncode == 0, plan.stderr
    (row,) = [r for r in json.loads(plan.stdout) if r["key"] == "budget"]
    assert row["state"] == "unknown"
    assert "which project finance (did not load) may write" in row["reasons"][-1]
    assert "projects with problems: finance" in plan.stderr
    check = run_catchment(tmp_path, "check")
    assert check.returncode == 1
    assert "✗ finance (team team-finance): did not load" in check.stdout
    assert "/nowhere/bin/python does not exist" in check.stderr
    listed = run_catchment(tmp_path, "assets", "list", "--json", "-p", str(file))
    assert listed.returncode == 0, listed.stderr
    assert [r["key"] for r in json.loads(listed.stdout) if r["external"]] != []


def test_a_policy_violation_stops_materialize_unless_allowed(tmp_path: Path) -> None:
    simple_workspace(
        tmp_path,
        {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE},
        "policy:\n  cross_project: {require_tag: public}\n",
    )
    run = run_catchment(tmp_path, "materialize")
    assert run.returncode == 1
    assert "[policy]" in run.stderr
    assert "not tagged 'public'" in run.stderr
    assert "nothing was run" in run.stderr


def test_commands_that_do_not_support_workspaces_say_so(tmp_path: Path) -> None:
    simple_workspace(tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}")})
    for args in (["runs", "execute", "0123456789ab"],):
        out = run_catchment(tmp_path, *args)
        assert out.returncode == 1, args
        command = " ".join(args[:2]) if args[0] in ("runs", "assets") else args[0]
        assert f"`catchment {command}` does not work on a workspace" in out.stderr


def test_the_hidden_backfills_alias_works_on_a_workspace_as_backfill_does(tmp_path: Path) -> None:
    simple_workspace(tmp_path, {"finance": DAILY_CODE})
    for command in ("backfill", "backfills"):
        out = run_catchment(tmp_path, command, "list", "--json")
        assert out.returncode == 0, (command, out.stderr)
        assert json.loads(out.stdout) == [], command


def test_assets_show_and_graph_read_the_merged_graph(tmp_path: Path) -> None:
    simple_workspace(tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE})
    assert run_catchment(tmp_path, "materialize", "-s", "ledger").returncode == 0
    shown = run_catchment(tmp_path, "assets", "show", "budget", "--json")
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    assert (info["project"], info["team"], info["deps"]) == (
        "marketing",
        "team-marketing",
        ["ledger"],
    )
    assert info["state"] == "missing"
    text = run_catchment(tmp_path, "assets", "show", "ledger")
    assert text.returncode == 0, text.stderr
    assert "project       finance" in text.stdout
    assert "last materialized" in text.stdout
    missing = run_catchment(tmp_path, "assets", "show", "nope")
    assert missing.returncode == 1
    assert "no asset nope in the workspace" in missing.stderr
    drawn = run_catchment(tmp_path, "graph", "--format", "json")
    assert drawn.returncode == 0, drawn.stderr
    assert {"from": "ledger", "to": "budget"} in json.loads(drawn.stdout)["edges"]
    mermaid = run_catchment(tmp_path, "graph")
    assert mermaid.returncode == 0, mermaid.stderr
    assert mermaid.stdout.startswith("flowchart LR")


def _runs_of(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each project run of a workspace's ``--json`` document, by project."""
    runs = document["runs"]
    for run in runs:
        assert set(run) == {"run_id", "status", "run", "events"}  # as `runs show --json`
    return {r["run"]["tags"]["workspace_project"]: r for r in runs}


def test_materialize_json_prints_each_project_run_and_runs_retry_json_too(tmp_path: Path) -> None:
    failing = LEDGER_CODE.format(TAGS="{}").replace(
        "    LEDGER.parent.mkdir",
        '    print("ledger prints to stdout")\n'
        '    raise RuntimeError("ledger is closed")\n    LEDGER.parent.mkdir',
    )
    simple_workspace(tmp_path, {"finance": failing, "marketing": BUDGET_CODE})
    done = run_catchment(tmp_path, "materialize", "--json")
    assert done.returncode == 1, done.stderr
    document = json.loads(done.stdout)  # progress (and the asset's print) on stderr
    assert document["status"] == "failure"
    assert "finance: materializing 1 asset(s) in its environment: ledger" in done.stderr
    runs = _runs_of(document)
    assert list(runs) == ["finance"]
    assert runs["finance"]["status"] == "failure"
    failed = [e["asset_key"] for e in runs["finance"]["events"] if e["type"] == "asset_failed"]
    assert failed == ["ledger"]
    assert document["skipped"] == [
        {"key": "budget", "reason": "upstream ledger did not materialize"}
    ]
    assert document["errors"] == []
    (tmp_path / "finance" / "assets.py").write_text(LEDGER_CODE.format(TAGS="{}"))
    retried = run_catchment(tmp_path, "runs", "retry", runs["finance"]["run_id"], "--json")
    assert retried.returncode == 0, retried.stderr
    again = json.loads(retried.stdout)
    assert again["status"] == "success"
    assert f"retrying {runs['finance']['run_id']}: 1 asset" in retried.stderr
    (run,) = again["runs"]
    assert (run["status"], run["run"]["tags"]["retry_of"]) == ("success", runs["finance"]["run_id"])
    nothing = run_catchment(tmp_path, "runs", "retry", run["run_id"], "--from-failure", "--json")
    assert nothing.returncode == 0, nothing.stderr
    assert json.loads(nothing.stdout) == {
        "status": "nothing left to run",
        "runs": [],
        "skipped": [],
        "errors": [],
        "parent_run_id": run["run_id"],
    }


def test_apply_json_on_a_workspace_is_its_status_and_each_project_run(tmp_path: Path) -> None:
    simple_workspace(tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE})
    done = run_catchment(tmp_path, "apply", "--json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["status"] == "success"
    runs = _runs_of(document)
    assert list(runs) == ["finance", "marketing"]  # upstream project first
    assert {r["status"] for r in runs.values()} == {"success"}
    assert len({r["run"]["tags"]["workspace_run"] for r in runs.values()}) == 1
    assert runs["marketing"]["run"]["tags"]["trigger"] == "apply"
    fresh = run_catchment(tmp_path, "apply", "--json")
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads(fresh.stdout) == {"status": "fresh", "runs": [], "skipped": [], "errors": []}
    queued = run_catchment(tmp_path, "materialize", "-s", "budget", "--queue", "--json")
    assert queued.returncode == 0, queued.stderr
    document = json.loads(queued.stdout)
    assert document["status"] == "queued"
    (run,) = document["runs"]
    assert (run["status"], run["queue_position"], run["run"]["asset_keys"]) == (
        "queued",
        1,
        ["budget"],
    )
    nothing = run_catchment(tmp_path, "materialize", "-s", "ledger and budget", "--json")
    assert nothing.returncode == 0, nothing.stderr
    assert json.loads(nothing.stdout)["status"] == "nothing selected"


SLOW_LEDGER = (
    LEDGER_CODE.format(TAGS="{}")
    .replace("from pathlib import Path", "import time\nfrom pathlib import Path")
    .replace(
        "    LEDGER.parent.mkdir",
        '    (Path(__file__).parent / "began").touch()\n'
        "    time.sleep(60)\n"
        "    LEDGER.parent.mkdir",
    )
)


def test_ctrl_c_on_a_workspace_materialize_json_prints_the_canceled_project_run(
    tmp_path: Path,
) -> None:
    simple_workspace(tmp_path, {"finance": SLOW_LEDGER, "marketing": BUDGET_CODE})
    proc = subprocess.Popen(
        [sys.executable, "-m", "catchment", "materialize", "--json"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Ctrl-C in a terminal: SIGINT to the whole process group
    )
    deadline = time.monotonic() + 60
    while not (tmp_path / "finance" / "began").exists() and time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 130, err
    document = json.loads(out)
    assert document["status"] == "canceled"
    (run,) = document["runs"]
    assert (run["status"], run["run"]["tags"]["workspace_project"]) == ("canceled", "finance")


PER_CUSTOMER = """\
from catchment import AssetKey, MaterializeResult, asset
from catchment.partitions import DynamicPartitions


@asset(partitions=DynamicPartitions("customers"))
def {name}(context) -> MaterializeResult:
    return MaterializeResult(key=AssetKey("{name}"), metadata={{"for": context.partition_key}})
"""


def test_partitions_on_a_workspace_are_the_projects_sets_in_the_shared_store(
    tmp_path: Path,
) -> None:
    """Two projects naming the set ``customers`` share it: one set, listed with both
    projects, its keys in the shared store, which the projects' runs (in their own
    environments) accept at once."""
    simple_workspace(
        tmp_path,
        {
            "finance": PER_CUSTOMER.format(name="invoices"),
            "marketing": PER_CUSTOMER.format(name="campaigns"),
        },
    )
    listed = run_catchment(tmp_path, "partitions", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    users = ["finance", "marketing"]
    assert json.loads(listed.stdout) == {"customers": {"keys": [], "projects": users}}
    refused = run_catchment(tmp_path, "materialize", "-s", "invoices", "--partition", "acme")
    assert refused.returncode == 1, refused.stdout
    assert "catchment partitions add customers acme" in refused.stdout + refused.stderr
    added = run_catchment(tmp_path, "partitions", "add", "customers", "acme", "globex")
    assert (added.returncode, added.stdout.strip()) == (0, "added to customers: acme, globex")
    again = run_catchment(tmp_path, "partitions", "add", "customers", "acme")
    assert again.stdout.strip() == "already in customers: acme"
    listed = run_catchment(tmp_path, "partitions", "list")
    assert listed.stdout.splitlines() == [
        "customers (2 keys, used by finance, marketing)",
        "  acme",
        "  globex",
    ]
    one = run_catchment(tmp_path, "partitions", "list", "customers", "--json")
    assert json.loads(one.stdout) == {"customers": {"keys": ["acme", "globex"], "projects": users}}
    run = run_catchment(tmp_path, "materialize", "--partition", "acme", "--json")
    assert run.returncode == 0, run.stderr
    runs = _runs_of(json.loads(run.stdout))
    assert {p: (r["status"], r["run"]["partition_keys"]) for p, r in runs.items()} == {
        "finance": ("success", ["acme"]),
        "marketing": ("success", ["acme"]),
    }
    queued = run_catchment(
        tmp_path, "materialize", "-s", "campaigns", "--partition", "globex", "--queue"
    )
    assert queued.returncode == 0, queued.stderr
    assert "queued" in queued.stdout
    removed = run_catchment(tmp_path, "partitions", "remove", "customers", "globex")
    assert (removed.returncode, removed.stdout.strip()) == (0, "removed 1 key from customers")
    gone = run_catchment(tmp_path, "materialize", "-s", "campaigns", "--partition", "globex")
    assert gone.returncode == 1, gone.stdout
    assert "catchment partitions add customers globex" in gone.stdout + gone.stderr


def test_an_unknown_partition_set_on_a_workspace_names_the_known_ones(tmp_path: Path) -> None:
    simple_workspace(
        tmp_path,
        {"finance": PER_CUSTOMER.format(name="invoices"), "marketing": BUDGET_CODE},
    )
    for args in (["add", "clients", "x"], ["list", "clients"], ["remove", "clients", "x"]):
        out = run_catchment(tmp_path, "partitions", *args)
        assert out.returncode == 1, args
        assert "no dynamic partition set named 'clients' in the workspace" in out.stderr
        assert "the workspace's dynamic sets: customers (used by finance)" in out.stderr
        assert "Traceback" not in out.stderr


DAILY_CODE = """\
import os
from pathlib import Path

from catchment import MaterializeResult, TimeWindowPartitions, asset

OUT = Path(__file__).resolve().parent / "out"


@asset(partitions=TimeWindowPartitions(start="2024-01-01", cadence="daily"))
def ledger(context):
    if context.partition_key in os.environ.get("FAIL_ON", "").split(","):
        raise ValueError("bad day")
    OUT.mkdir(exist_ok=True)
    (OUT / context.partition_key).write_text("ledger")
    return MaterializeResult()
"""


def test_a_partitioned_workspace_run_runs_an_unpartitioned_downstream_project_once(
    tmp_path: Path,
) -> None:
    """A daily ingest in one project and an unpartitioned report reading its table in another:
    ``materialize --partition A...B`` runs the ingest for both days and the report once, after
    them, without a partition (as one project's run would), not refused for its partition."""
    simple_workspace(tmp_path, {"ingest": INGEST_CODE, "reports": REPORT_CODE})
    run = run_catchment(tmp_path, "materialize", "--partition", "2024-01-01...2024-01-02")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "reports: materializing 1 asset(s) in its environment: report" in run.stdout
    report = (tmp_path / "shared" / "report.txt").read_text()
    assert report == "2024-01-01,2024-01-02\n"
    from catchment.storage import open_storage

    store = open_storage(f"sqlite:///{tmp_path / '.catchment' / 'runs.db'}")
    try:
        by_project = {r.tags["workspace_project"]: r for r in store.list_runs(limit=10)}
    finally:
        store.close()
    assert by_project["ingest"].partition_keys == ("2024-01-01", "2024-01-02")
    assert by_project["reports"].partition_keys == ()


def test_a_queued_partitioned_workspace_run_runs_the_unpartitioned_report_once_after_every_day(
    tmp_path: Path,
) -> None:
    """Queued (run day by day by ``catchment.workspace.execute``, as the daemon runs it): the
    report runs once, without a partition, after every day's ingest; when a day failed it is
    skipped, and a retry from failure redoes that day, then the report once."""
    file = simple_workspace(tmp_path, {"ingest": INGEST_CODE, "reports": REPORT_CODE})
    days = "2024-01-01...2024-01-03"
    queued = run_catchment(tmp_path, "materialize", "--partition", days, "--queue", "--json")
    assert queued.returncode == 0, queued.stderr
    (run,) = json.loads(queued.stdout)["runs"]
    done = subprocess.run(
        [sys.executable, "-m", "catchment.workspace.execute", run["run_id"], str(file)],
        cwd=tmp_path,
        env={**os.environ, "FAIL_ON": "2024-01-02"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "reports: skipped report (upstream ingest did not materialize)" in done.stdout
    assert not (tmp_path / "shared" / "report.txt").exists()
    retried = run_catchment(tmp_path, "runs", "retry", run["run_id"], "--from-failure")
    assert retried.returncode == 0, retried.stdout + retried.stderr
    assert f"retrying {run['run_id']}: 2 assets, 1 partition" in retried.stdout
    assert "once after every partition" in retried.stdout
    report = (tmp_path / "shared" / "report.txt").read_text()
    assert report == "2024-01-01,2024-01-02,2024-01-03\n"
    queued = run_catchment(tmp_path, "materialize", "--partition", days, "--queue", "--json")
    (again,) = json.loads(queued.stdout)["runs"]
    done = subprocess.run(
        [sys.executable, "-m", "catchment.workspace.execute", again["run_id"], str(file)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("reports: materializing 1 asset(s)") == 1
    assert (tmp_path / "shared" / "report.txt").read_text() == report * 2


def test_runs_retry_of_a_partitioned_run_retries_every_partition_after_a_failed_one(
    tmp_path: Path,
) -> None:
    """A workspace run over three days (queued, run by the daemon's process, day by day),
    retried while its second day still fails: the third day is retried all the same, each
    day's project run is in ``--json``, and the retry exits 1 naming the failed day."""
    file = simple_workspace(tmp_path, {"finance": DAILY_CODE})
    days = ["2024-01-01", "2024-01-02", "2024-01-03"]
    queued = run_catchment(
        tmp_path, "materialize", "--partition", f"{days[0]}...{days[2]}", "--queue", "--json"
    )
    assert queued.returncode == 0, queued.stderr
    (run,) = json.loads(queued.stdout)["runs"]
    first = subprocess.run(
        [sys.executable, "-m", "catchment.workspace.execute", run["run_id"], str(file)],
        cwd=tmp_path,
        env={**os.environ, "FAIL_ON": ",".join(days)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 1, first.stderr
    retried = run_catchment(tmp_path, "runs", "retry", run["run_id"], "--json", FAIL_ON=days[1])
    assert retried.returncode == 1, retried.stderr
    document = json.loads(retried.stdout)
    assert document["status"] == "failure"
    assert [(r["run"]["partition_keys"], r["status"]) for r in document["runs"]] == [
        ([days[0]], "success"),
        ([days[1]], "failure"),
        ([days[2]], "success"),
    ]
    assert f"retrying {run['run_id']}: 1 asset, 3 partitions" in retried.stderr
    assert f"partition {days[2]} (3/3)" in retried.stderr
    assert f"1 of 3 partitions did not succeed: {days[1]}" in retried.stderr
    assert sorted(p.name for p in (tmp_path / "finance" / "out").iterdir()) == [days[0], days[2]]


def test_runs_retry_from_failure_redoes_only_the_partition_keys_that_failed(
    tmp_path: Path,
) -> None:
    """A three-day workspace run whose second day failed: the asset did materialize (for the
    other days), yet ``--from-failure`` still has it to redo, for that day only."""
    file = simple_workspace(tmp_path, {"finance": DAILY_CODE})
    days = ["2024-01-01", "2024-01-02", "2024-01-03"]
    queued = run_catchment(
        tmp_path, "materialize", "--partition", f"{days[0]}...{days[2]}", "--queue", "--json"
    )
    (run,) = json.loads(queued.stdout)["runs"]
    first = subprocess.run(
        [sys.executable, "-m", "catchment.workspace.execute", run["run_id"], str(file)],
        cwd=tmp_path,
        env={**os.environ, "FAIL_ON": days[1]},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert first.returncode == 1, first.stderr
    (tmp_path / "finance" / "out" / days[0]).unlink()  # a rerun of day 1 would write it again
    retried = run_catchment(tmp_path, "runs", "retry", run["run_id"], "--from-failure", "--json")
    assert retried.returncode == 0, retried.stderr
    document = json.loads(retried.stdout)
    assert [(r["run"]["partition_keys"], r["status"]) for r in document["runs"]] == [
        ([days[1]], "success")
    ]
    assert f"retrying {run['run_id']}: 1 asset, 1 partition" in retried.stderr
    assert sorted(p.name for p in (tmp_path / "finance" / "out").iterdir()) == days[1:]


def test_plan_on_a_workspace_marks_assets_past_their_freshness_policy_overdue(
    tmp_path: Path,
) -> None:
    """As on a project: an asset past its ``freshness`` policy (declared in its project) is
    ``overdue`` in the table with the reason, counted in the summary, and its ``--json`` row
    says the policy; an asset without a policy has no ``freshness``."""
    overdue = LEDGER_CODE.format(TAGS="{}").replace("tags={}", "tags={}, freshness='1h'")
    simple_workspace(tmp_path, {"finance": overdue, "marketing": BUDGET_CODE})
    plan = run_catchment(tmp_path, "plan", "--json")
    assert plan.returncode == 0, plan.stderr
    rows = {r["key"]: r for r in json.loads(plan.stdout)}
    assert rows["ledger"]["freshness"] == {
        "policy": "max lag 1h",
        "overdue": True,
        "reason": "never materialized (max lag 1h)",
    }
    assert "freshness" not in rows["budget"]
    text = run_catchment(tmp_path, "plan")
    assert text.returncode == 0, text.stderr
    (line,) = [ln for ln in text.stdout.splitlines() if "ledger" in ln]
    assert "missing overdue" in line
    assert "freshness: never materialized (max lag 1h)" in line
    assert "2 missing, 0 stale, 0 fresh, 1 overdue" in text.stdout
    assert run_catchment(tmp_path, "materialize", "-s", "ledger").returncode == 0
    fresh = {r["key"]: r for r in json.loads(run_catchment(tmp_path, "plan", "--json").stdout)}
    assert fresh["ledger"]["freshness"]["overdue"] is False


REGIONS_CODE = """\
from pathlib import Path

from catchment import MaterializeResult, StaticPartitions, asset, file_table

SALES = Path(__file__).resolve().parent.parent / "shared" / "days"  # what REPORT_CODE reads


@asset(table=file_table(SALES), partitions=StaticPartitions(["eu", "us"]))
def sales(context):
    SALES.mkdir(parents=True, exist_ok=True)
    (SALES / context.partition_key).write_text("sold")
    return MaterializeResult()
"""


def test_apply_on_a_workspace_runs_partitioned_assets_on_the_keys_they_lack(
    tmp_path: Path,
) -> None:
    """As on a project: `apply` runs a missing partitioned asset on its partition keys (it ran
    it with none, which its project refused: "say which partitions"), the unpartitioned
    downstream of another project once after them; then everything is fresh; with --queue
    the two groups (different partition sets) are refused, naming what to do."""
    simple_workspace(tmp_path, {"shop": REGIONS_CODE, "reports": REPORT_CODE})
    queued = run_catchment(tmp_path, "apply", "--queue")
    assert queued.returncode == 1, queued.stdout
    assert "need 2 runs, one after the other" in queued.stderr
    assert "Traceback" not in queued.stderr
    applied = run_catchment(tmp_path, "apply", "--json")
    assert applied.returncode == 0, applied.stderr
    runs = [(r["run"]["partition_keys"], r["status"]) for r in json.loads(applied.stdout)["runs"]]
    assert runs == [(["eu"], "success"), (["us"], "success"), ([], "success")]
    assert "applying 1 asset (partitions eu, us): sales" in applied.stderr
    shared = tmp_path / "shared"
    assert sorted(p.name for p in (shared / "days").iterdir()) == ["eu", "us"]
    assert (shared / "report.txt").read_text() == "eu,us\n"  # once, after both regions
    again = run_catchment(tmp_path, "apply")
    assert again.returncode == 0, again.stderr
    assert "everything selected is fresh" in again.stdout

"""`catchment backfill` on a workspace: created on the merged graph (the project's messages
for a bad range or an unpartitioned selection), queued as workspace runs with their
partitions and team tags, listed, shown and canceled from the shared store, and started by
the workspace daemon, each project's partition in its own environment."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from catchment.storage import Storage, open_storage

from tests.core.workspace.conftest import run_catchment, simple_workspace, wait_ended

pytestmark = pytest.mark.timeout(180)

DAILY_CODE = """\
import os
from pathlib import Path

from catchment import MaterializeResult, TimeWindowPartitions, asset

OUT = Path(__file__).resolve().parent / "out"


@asset(partitions=TimeWindowPartitions(start="2024-01-01", cadence="daily"))
def {name}(context):
    if context.partition_key in os.environ.get("FAIL_ON", "").split(","):
        raise ValueError("bad day")
    OUT.mkdir(exist_ok=True)
    with (OUT / context.partition_key).open("a") as f:
        f.write("{name}\\n")
    return MaterializeResult()


@asset
def {name}_total():
    return MaterializeResult()
"""


def _workspace(root: Path) -> Path:
    return simple_workspace(
        root,
        {"finance": DAILY_CODE.format(name="ledger"), "marketing": DAILY_CODE.format(name="spend")},
    )


def _store(root: Path) -> Storage:
    return open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")


def _error(out: subprocess.CompletedProcess[str]) -> str:
    """The error line a failed command printed (the project's and the workspace's compare)."""
    assert out.returncode == 1, out.stdout + out.stderr
    return next(line for line in out.stderr.splitlines() if line.startswith("error"))


def test_create_queues_a_workspace_run_per_chunk_with_partitions_and_team_tags(
    tmp_path: Path,
) -> None:
    _workspace(tmp_path)
    args = (
        "backfill",
        "create",
        "-s",
        "ledger or spend",
        "--partitions",
        "2024-01-01...2024-01-03",
    )
    dry = run_catchment(tmp_path, *args, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "dry run: 3 partition(s) in 3 run(s)" in dry.stdout  # and records nothing:
    created = run_catchment(tmp_path, *args, "--tag", "who=me", "--json")
    assert created.returncode == 0, created.stderr
    state = json.loads(created.stdout)
    assert (state["queued_runs"], state["partitions"], state["status"]) == (3, 3, "running")
    store = _store(tmp_path)
    try:
        runs = sorted(store.list_runs(limit=100), key=lambda r: r.partition_keys)
        assert [r.partition_keys for r in runs] == [
            ("2024-01-01",),
            ("2024-01-02",),
            ("2024-01-03",),
        ]
        for run in runs:
            assert run.status == "queued"
            assert run.tags["backfill"] == state["backfill_id"]
            assert run.tags["who"] == "me"
            assert run.tags["team"] == "team-finance+team-marketing"
            assert run.tags["project"] == "finance+marketing"
            assert run.tags["priority"] == "-10"
        chunked = run_catchment(
            tmp_path, *args[:-1], "2024-01-01...2024-01-05", "--policy", "chunks:2"
        )
        assert chunked.returncode == 0, chunked.stderr
        assert ": 3 run(s) queued" in chunked.stdout
        one = run_catchment(
            tmp_path, "backfill", "create", "-s", "spend", "--partitions", "2024-01-09"
        )
        assert one.returncode == 0, one.stderr
        newest = max(store.list_runs(limit=100), key=lambda r: r.created_at)
        assert (newest.tags["team"], newest.tags["project"]) == ("team-marketing", "marketing")
    finally:
        store.close()


def test_list_show_and_cancel_act_on_the_shared_store(tmp_path: Path) -> None:
    _workspace(tmp_path)
    args = ("backfill", "create", "-s", "ledger", "--partitions", "2024-01-01...2024-01-02")
    created = run_catchment(tmp_path, *args, "--json")
    assert created.returncode == 0, created.stderr
    backfill_id = json.loads(created.stdout)["backfill_id"]
    listed = run_catchment(tmp_path, "backfill", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    assert [(b["backfill_id"], b["runs_total"]) for b in json.loads(listed.stdout)] == [
        (backfill_id, 2)
    ]
    shown = run_catchment(tmp_path, "backfill", "status", backfill_id[:6])
    assert shown.returncode == 0, shown.stderr
    assert "partitions 2024-01-01...2024-01-02" in shown.stdout
    assert "runs: 2 queued" in shown.stdout
    canceled = run_catchment(tmp_path, "backfill", "cancel", backfill_id[:6])
    assert canceled.returncode == 0, canceled.stderr
    assert "2 queued run(s) canceled" in canceled.stdout
    store = _store(tmp_path)
    try:
        assert {r.status for r in store.list_runs(limit=100)} == {"canceled"}
    finally:
        store.close()
    after = run_catchment(tmp_path, "backfill", "status", backfill_id, "--json")
    assert json.loads(after.stdout)["status"] == "canceled"


def test_bad_input_gets_the_projects_messages(tmp_path: Path) -> None:
    _workspace(tmp_path)
    for args in (
        ("-s", "ledger", "--partitions", "2024-01-05...2023-01-01"),
        ("-s", "ledger_total", "--partitions", "2024-01-01...2024-01-02"),
        ("-s", "nothing_here", "--partitions", "2024-01-01"),
    ):
        on_workspace = _error(run_catchment(tmp_path, "backfill", "create", *args))
        on_project = _error(run_catchment(tmp_path, "backfill", "create", "-p", "finance", *args))
        assert on_workspace.split("; known:")[0] == on_project.split("; known:")[0], args
    unpartitioned = run_catchment(
        tmp_path, "backfill", "create", "-s", "ledger_total", "--partitions", "x"
    )
    assert "no selected asset is partitioned" in unpartitioned.stderr
    assert "no backfill 'abc'" in _error(run_catchment(tmp_path, "backfill", "run", "abc"))


def test_the_workspace_daemon_runs_each_partition_in_its_project(tmp_path: Path) -> None:
    _workspace(tmp_path)
    args = (
        "backfill",
        "create",
        "-s",
        "ledger or spend",
        "--partitions",
        "2024-01-01...2024-01-02",
    )
    created = run_catchment(tmp_path, *args, "--json")
    assert created.returncode == 0, created.stderr
    backfill_id = json.loads(created.stdout)["backfill_id"]
    once = run_catchment(tmp_path, "daemon", "--once")
    assert once.returncode == 0, once.stderr
    store = _store(tmp_path)
    try:
        wait_ended(store)
        runs = store.list_runs(limit=1000)
        queued = [r for r in runs if "workspace_run" not in r.tags]
        assert {r.tags["backfill"] for r in runs} == {backfill_id}
        assert sorted(r.status for r in queued) == ["success", "success"]
        children = [r for r in runs if "workspace_run" in r.tags]
        assert sorted((r.tags["workspace_project"], r.partition_keys) for r in children) == [
            ("finance", ("2024-01-01",)),
            ("finance", ("2024-01-02",)),
            ("marketing", ("2024-01-01",)),
            ("marketing", ("2024-01-02",)),
        ]
    finally:
        store.close()
    for project, name in (("finance", "ledger"), ("marketing", "spend")):
        out = tmp_path / project / "out"
        assert sorted(p.name for p in out.iterdir()) == ["2024-01-01", "2024-01-02"]
        assert (out / "2024-01-02").read_text() == f"{name}\n"
    done = run_catchment(tmp_path, "backfill", "status", backfill_id, "--json")
    assert json.loads(done.stdout)["status"] == "completed"


def test_backfill_run_runs_it_here_and_resumes_only_the_failed_chunk(tmp_path: Path) -> None:
    _workspace(tmp_path)
    args = ("backfill", "create", "-s", "ledger", "--partitions", "2024-01-01...2024-01-03")
    created = run_catchment(tmp_path, *args, "--json")
    assert created.returncode == 0, created.stderr
    backfill_id = json.loads(created.stdout)["backfill_id"]
    first = run_catchment(tmp_path, "backfill", "run", backfill_id, FAIL_ON="2024-01-02")
    assert first.returncode == 1, first.stdout + first.stderr
    assert "2024-01-02: failure" in first.stdout
    assert "2024-01-03: success" in first.stdout
    again = run_catchment(tmp_path, "backfill", "run", backfill_id)
    assert again.returncode == 0, again.stdout + again.stderr
    assert f"backfill {backfill_id}: 1 run(s) queued" in again.stdout
    assert "completed" in again.stdout
    out = tmp_path / "finance" / "out"
    written = {p.name: p.read_text() for p in out.iterdir()}
    assert written == dict.fromkeys(("2024-01-01", "2024-01-02", "2024-01-03"), "ledger\n")
    store = _store(tmp_path)
    try:
        children = [r for r in store.list_runs(limit=100) if "workspace_run" in r.tags]
        assert {r.tags["workspace_project"] for r in children} == {"finance"}
    finally:
        store.close()

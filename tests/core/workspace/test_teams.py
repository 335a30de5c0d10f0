"""Teams on a workspace's queue: every queued workspace run carries the ``team`` and
``project`` tags of its assets, so the workspace's ``tag_limits`` keep one team from taking
every slot (the coordinator driven directly, on a fake clock; no process is started)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catchment.daemon.queue_loop import QueueCoordinator
from catchment.daemon.starter import RunStarter
from catchment.runs.request import RunRequest
from catchment.storage import RunRecord, Storage, open_storage
from catchment.storage.base import HOSTNAME
from catchment.storage.queue import QueueLimits
from catchment.workspace.daemon import load_for_daemon
from catchment.workspace.teams import tag_request

from tests.core.daemon.conftest import T0, RecordingLauncher
from tests.core.workspace.conftest import BUDGET_CODE, LEDGER_CODE, simple_workspace

FAIR = "queue:\n  tag_limits:\n    - {key: team, limit: 1}\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """finance (team-finance: ledger) and marketing (team-marketing: budget, reads ledger),
    with one slot per team."""
    return simple_workspace(
        tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE}, FAIR
    )


def _store(file: Path) -> Storage:
    return open_storage(f"sqlite:///{file.parent / '.catchment' / 'runs.db'}")


def test_each_team_gets_its_own_slot_and_the_others_wait_with_the_reason(
    workspace: Path,
) -> None:
    """Team finance asks for 3 runs, team marketing for 1 (through the daemon's starter, as
    schedules, sensors and automation do): one finance run and the marketing run start, the
    other two finance runs wait, and why is recorded in the queue and its tick."""
    view = load_for_daemon(workspace)
    assert view.defaults.queue.limits.tag_limits[0].key == "team"
    store = _store(workspace)
    starter = RunStarter(store, view.prepare)
    finance = [
        starter.start([RunRequest(asset_keys=("ledger",), origin=f"schedule:{i}")], T0 + i)[0]
        for i in range(3)
    ]
    marketing = starter.start([RunRequest(asset_keys=("budget",))], T0 + 3)[0]
    for started in finance:
        run = store.get_run(started.run_id)
        assert run is not None
        assert (run.tags["team"], run.tags["project"]) == ("team-finance", "finance")
    launcher = RecordingLauncher()
    queue = QueueCoordinator(store, launcher, view.defaults.queue.limits)
    ticks = queue.step(T0 + 10)
    assert launcher.launched == [finance[0].run_id, marketing.run_id]
    waits = {e.run_id: e.wait_reason for e in store.queue_entries() if e.status == "queued"}
    assert waits == {s.run_id: "tag team=team-finance full: 1/1" for s in finance[1:]}
    (tick,) = ticks
    body = tick.body or {}
    assert body["waiting"] == 2
    assert {d["reason"] for d in body["decisions"] if d["action"] == "wait"} == {
        "tag team=team-finance full: 1/1"
    }
    assert queue.step(T0 + 11) == []  # nothing changed: no new tick
    store.update_run_status(finance[0].run_id, "success")
    queue.step(T0 + 12)
    assert launcher.launched[2:] == [finance[1].run_id]  # the next finance run, alone
    store.close()


def test_a_run_spanning_teams_is_tagged_with_all_of_them_joined(workspace: Path) -> None:
    """A tag has one value: ledger (finance) and budget (marketing) in one run are
    ``team=team-finance+team-marketing``, a value of its own; a selection is resolved on the
    merged graph; a ``--tag team=...`` cannot take a run out of its team."""
    view = load_for_daemon(workspace)
    assert view.graph is not None
    both = tag_request(view.graph, RunRequest(asset_keys=("budget", "ledger")))
    assert both.tags == {"team": "team-finance+team-marketing", "project": "finance+marketing"}
    scoped = tag_request(view.graph, RunRequest(selection="project:marketing"))
    assert scoped.tags == {"team": "team-marketing", "project": "marketing"}
    forced = tag_request(view.graph, RunRequest(asset_keys=("ledger",), tags={"team": "x"}))
    assert forced.tags["team"] == "team-finance"
    assert tag_request(view.graph, RunRequest(selection="nope:(")).tags == {}


def test_a_workspace_without_teams_tags_nothing(tmp_path: Path) -> None:
    file = simple_workspace(tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}")})
    file.write_text(file.read_text().replace("    team: team-finance\n", ""))
    view = load_for_daemon(file)
    assert view.prepare is None


def test_a_workspace_runs_project_runs_hold_no_slot_of_their_own(tmp_path: Path) -> None:
    """A started workspace run and the project run it started (tagged ``workspace_run``)
    count as one run under ``max_concurrent_runs`` and the team's tag limit."""
    store = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    starter = RunStarter(store)
    first, second = (
        starter.start([RunRequest(asset_keys=("x",), tags={"team": "a"})], T0 + i)[0]
        for i in range(2)
    )
    launcher = RecordingLauncher()
    from catchment.storage.queue import TagLimit

    limits = QueueLimits(max_concurrent_runs=2, tag_limits=(TagLimit(key="team", limit=2),))
    queue = QueueCoordinator(store, launcher, limits)
    assert store.claim_run(first.run_id, os.getpid(), HOSTNAME, time.time())
    store.create_run(
        RunRecord(
            run_id="child",
            status="started",
            pid=os.getpid(),
            host=HOSTNAME,
            heartbeat_at=time.time(),
            tags={"team": "a", "workspace_run": first.run_id},
        )
    )
    queue.step(T0 + 5)
    assert {r.run_id: r.status for r in store.list_runs()}[first.run_id] == "started"
    assert launcher.launched == [second.run_id]
    store.close()


def test_materialize_and_apply_queue_runs_tagged_with_their_team(workspace: Path) -> None:
    for args in (
        ["materialize", "--queue", "-s", "ledger"],
        ["apply", "--queue", "--tag", "team=x"],
    ):
        done = subprocess.run(
            [sys.executable, "-m", "catchment", *args],
            cwd=workspace.parent,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
    store = _store(workspace)
    tags = [r.tags for r in reversed(store.list_runs())]
    store.close()
    assert (tags[0]["team"], tags[0]["project"]) == ("team-finance", "finance")
    assert tags[1]["trigger"] == "apply"
    assert tags[1]["team"] == "team-finance+team-marketing"  # ledger and budget: both teams

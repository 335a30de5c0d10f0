"""Pools on a workspace: the workspace's ``pools:`` limit the steps of every project's runs
across projects (claims live in the shared store), win over a project's own value (which is
said), and ``catchment pools list / set`` act on the shared store."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catchment.components import ProjectDefaults, QueueSettings
from catchment.events import EventType
from catchment.storage import open_storage
from catchment.workspace.pools import disagreements, under_workspace

pytestmark = pytest.mark.timeout(240)

POOLED = """\
import time
from catchment import asset

@asset(pool="warehouse")
def {name}_one():
    time.sleep(0.5)
    return 1

@asset(pool="warehouse")
def {name}_two():
    time.sleep(0.5)
    return 1
"""

PROJECT = """\
project:
  name: {name}
{pools}components:
  - type: python
    name: core
    attributes:
      module: assets.py
io_managers:
  default:
    type: filesystem
    config:
      base_dir: values
"""


def _workspace(root: Path, workspace_pools: str, a_pools: str = "") -> Path:
    """Projects a and b (teams red and blue), two steps each in pool ``warehouse``."""
    for name, pools in (("a", a_pools), ("b", "")):
        (root / name).mkdir(parents=True)
        (root / name / "catchment.yaml").write_text(PROJECT.format(name=name, pools=pools))
        (root / name / "assets.py").write_text(POOLED.format(name=name))
    file = root / "catchment.workspace.yaml"
    file.write_text(
        "workspace: {name: shop}\nprojects:\n"
        f"  - {{path: a, python: {sys.executable}, team: red}}\n"
        f"  - {{path: b, python: {sys.executable}, team: blue}}\n" + workspace_pools
    )
    return file


def _cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "catchment", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _most_at_once(intervals: list[tuple[float, float]]) -> int:
    points = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    most = now = 0
    for _, delta in points:
        now += delta
        most = max(most, now)
    return most


def test_the_workspace_limit_goes_over_a_projects_own_and_says_so() -> None:
    defaults = ProjectDefaults.for_root(Path("/tmp/wsfair-x"))
    defaults = ProjectDefaults(
        root=defaults.root,
        warehouse=defaults.warehouse,
        storage_url=defaults.storage_url,
        queue=QueueSettings(pools={"warehouse": 4, "api": 2}),
    )
    under = under_workspace(defaults, {"warehouse": 1}, 30.0)
    assert under.queue.pools == {"warehouse": 1, "api": 2}
    assert under.queue.pool_lease_seconds == 30.0
    assert disagreements({"warehouse": 1}, {"warehouse": 4, "api": 2}, "a") == [
        "project a: its pools.warehouse: 4 is not used; the workspace's pools.warehouse: 1 applies"
    ]
    assert disagreements({"warehouse": 4}, {"warehouse": 4}, "a") == []


@pytest.mark.slow
def test_a_pool_named_in_two_projects_is_one_pool_limited_across_both(tmp_path: Path) -> None:
    """Four workspace runs at once (two of project a, two of b; 8 steps that could all run
    together): the workspace's ``warehouse: 1`` lets one step run at a time across both
    projects (counted from the step events), though project a's own ``pools:`` says 4."""
    _workspace(tmp_path, "pools: {warehouse: 1}\n", a_pools="pools:\n  warehouse: 4\n")
    checked = _cli(tmp_path, "check")  # loads the projects once: the runs read the cache
    assert checked.returncode == 0, checked.stderr
    assert "project a: its pools.warehouse: 4 is not used" in checked.stdout
    t0 = time.time()
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "catchment", "materialize", "-s", f"project:{name}"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("a", "b", "a", "b")
    ]
    outputs = [p.communicate(timeout=200) for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert any("the workspace's pools.warehouse: 1 applies" in err for _, err in outputs)
    store = open_storage(f"sqlite:///{tmp_path / '.catchment' / 'runs.db'}")
    spans, waits, teams = [], [], set()
    for run in store.list_runs():
        teams.add((run.tags["workspace_project"], run.tags["team"], run.tags["project"]))
        events = store.events_for_run(run.run_id)
        starts = {e.step_key: e.timestamp for e in events if e.type is EventType.STEP_STARTED}
        for e in events:
            if e.type is EventType.STEP_FINISHED:
                spans.append((starts[e.step_key], e.timestamp))
            if e.type is EventType.LOG and "waits: pool warehouse full" in e.log_line.message:
                waits.append(e.log_line.message)
    assert teams == {("a", "red", "a"), ("b", "blue", "b")}  # each project run: its own team
    assert len(spans) == 8
    assert _most_at_once(spans) == 1
    assert waits
    assert waits[0].endswith("pool warehouse full: 1/1")
    assert store.pools() == []  # every slot given back
    store.close()
    print(f"4 workspace runs, 8 pooled steps: {time.time() - t0:.1f} s")


def test_pools_list_and_set_act_on_the_workspaces_shared_store(tmp_path: Path) -> None:
    _workspace(tmp_path, "pools: {warehouse: 2}\n", a_pools="pools:\n  warehouse: 4\n")
    listed = _cli(tmp_path, "pools", "list")
    assert listed.returncode == 0, listed.stderr
    assert "warehouse            0/2        (workspace)" in listed.stdout
    assert "project a: its pools.warehouse: 4 is not used" in listed.stderr
    changed = _cli(tmp_path, "pools", "set", "warehouse", "3")
    assert changed.returncode == 0, changed.stderr
    rows = json.loads(_cli(tmp_path, "pools", "list", "--json").stdout)
    assert rows == [
        {"pool": "warehouse", "limit": 3, "limit_from": "store", "used": 0, "holders": []}
    ]
    store = open_storage(f"sqlite:///{tmp_path / '.catchment' / 'runs.db'}")
    assert store.pool_limits() == {"warehouse": 3}  # in the shared store
    store.close()
    assert _cli(tmp_path, "pools", "delete", "warehouse").returncode == 0
    assert "(workspace)" in _cli(tmp_path, "pools", "list").stdout

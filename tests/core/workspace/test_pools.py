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
from catchment.storage import open_storage
from catchment.workspace.pools import disagreements, under_workspace, unused_queue

from tests.core.execution.test_pools import PROJECT, _most_at_once, step_spans
from tests.core.workspace.conftest import LEDGER_CODE, run_catchment, simple_workspace

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


def _workspace(root: Path, workspace_pools: str) -> Path:
    """Projects a and b (teams red and blue), two steps each in pool ``warehouse``, whose own
    ``pools:`` both say ``warehouse: 4``."""
    for name in ("a", "b"):
        (root / name).mkdir(parents=True)
        project = PROJECT.format(limit=4).replace("name: pooled", f"name: {name}")
        (root / name / "catchment.yaml").write_text(project)
        (root / name / "assets.py").write_text(POOLED.format(name=name))
    file = root / "catchment.workspace.yaml"
    file.write_text(
        "workspace: {name: shop}\nprojects:\n"
        f"  - {{path: a, python: {sys.executable}, team: red}}\n"
        f"  - {{path: b, python: {sys.executable}, team: blue}}\n" + workspace_pools
    )
    return file


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
    projects (counted from the step events), though the projects' own ``pools:`` say 4."""
    _workspace(tmp_path, "pools: {warehouse: 1}\n")
    checked = run_catchment(tmp_path, "check")  # loads the projects once: the runs read the cache
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
    spans, waits = step_spans(store)
    teams = {
        (run.tags["workspace_project"], run.tags["team"], run.tags["project"])
        for run in store.list_runs()
    }
    assert teams == {("a", "red", "a"), ("b", "blue", "b")}  # each project run: its own team
    assert len(spans) == 8
    assert _most_at_once(spans) == 1, sorted(spans)
    assert waits
    assert waits[0].endswith("pool warehouse full: 1/1")
    assert store.pools() == []  # every slot given back
    store.close()
    print(f"4 workspace runs, 8 pooled steps: {time.time() - t0:.1f} s")


def test_pools_list_and_set_act_on_the_workspaces_shared_store(tmp_path: Path) -> None:
    _workspace(tmp_path, "pools: {warehouse: 2}\n")
    listed = run_catchment(tmp_path, "pools", "list")
    assert listed.returncode == 0, listed.stderr
    assert "warehouse            0/2        (workspace)" in listed.stdout
    assert "project a: its pools.warehouse: 4 is not used" in listed.stderr
    changed = run_catchment(tmp_path, "pools", "set", "warehouse", "3")
    assert changed.returncode == 0, changed.stderr
    rows = json.loads(run_catchment(tmp_path, "pools", "list", "--json").stdout)
    assert rows == [
        {"pool": "warehouse", "limit": 3, "limit_from": "store", "used": 0, "holders": []}
    ]
    store = open_storage(f"sqlite:///{tmp_path / '.catchment' / 'runs.db'}")
    assert store.pool_limits() == {"warehouse": 3}  # in the shared store
    store.close()
    assert run_catchment(tmp_path, "pools", "delete", "warehouse").returncode == 0
    assert "(workspace)" in run_catchment(tmp_path, "pools", "list").stdout


def test_a_projects_own_run_limits_are_said_to_be_unused_in_a_workspace(tmp_path: Path) -> None:
    from catchment.storage.queue import QueueLimits, TagLimit

    assert unused_queue(QueueLimits(), "a") == []
    limits = QueueLimits(max_concurrent_runs=2, tag_limits=(TagLimit(key="team", limit=1),))
    (line,) = unused_queue(limits, "a")
    assert line.startswith("project a: its queue: (max_concurrent_runs: 2, 1 tag_limits)")

    simple_workspace(tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}")})
    yaml = tmp_path / "finance" / "catchment.yaml"
    yaml.write_text(yaml.read_text() + "queue: {max_concurrent_runs: 3}\n")
    checked = run_catchment(tmp_path, "check")
    assert checked.returncode == 0, checked.stderr
    assert "note: project finance: its queue: (max_concurrent_runs: 3) is not used" in (
        checked.stdout
    )

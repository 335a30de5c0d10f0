"""Issue 22's acceptance: three projects in three virtual environments made with uv, two
majors of one library, one project broken; `assets list`, `plan` and `materialize` work across
the healthy two and link, the broken one is reported, each asset ran under its own
environment's version (read back from the shared record store)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.core.workspace.conftest import run_catchment, write_workspace

pytestmark = [pytest.mark.slow, pytest.mark.timeout(600)]


def test_three_projects_in_three_environments(tmp_path: Path, envs: dict[str, Path]) -> None:
    write_workspace(tmp_path, envs)
    # the control plane's own environment has no tinylib at all
    assert subprocess.run([sys.executable, "-c", "import tinylib"], capture_output=True).returncode

    check = run_catchment(tmp_path, "check")
    assert check.returncode == 1
    assert "✓ finance (team finance): 1 asset" in check.stdout
    assert "✓ marketing (team growth): 1 asset" in check.stdout
    assert "! broken (team research): 0 assets" in check.stdout
    assert "No module named 'tinylib'" in check.stderr
    assert "broken/catchment.yaml:4" in check.stderr

    listed = run_catchment(tmp_path, "assets", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    rows = {r["key"]: r for r in json.loads(listed.stdout)}
    assert set(rows) == {"ledger", "campaign_budget"}
    assert rows["campaign_budget"]["deps"] == ["ledger"]  # linked by the ledger file
    assert (rows["ledger"]["project"], rows["ledger"]["team"]) == ("finance", "finance")
    assert "projects with problems: broken" in listed.stderr

    plan = run_catchment(tmp_path, "plan", "--json")
    assert plan.returncode == 0, plan.stderr
    assert {r["key"]: r["state"] for r in json.loads(plan.stdout)} == {
        "ledger": "missing",
        "campaign_budget": "missing",
    }

    run = run_catchment(tmp_path, "materialize")
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.stdout.index("finance: materializing") < run.stdout.index("marketing: materializing")

    from catchment.storage import open_storage

    store = open_storage(f"sqlite:///{tmp_path / '.catchment' / 'runs.db'}")
    try:
        latest = {str(k): r for k, r in store.latest_materializations().items()}
    finally:
        store.close()
    assert latest["ledger"].metadata["tinylib"] == "1.0.0"
    assert latest["campaign_budget"].metadata["tinylib"] == "2.0.0"
    assert latest["campaign_budget"].metadata["budget"] == 21

    again = run_catchment(tmp_path, "plan", "--json")
    assert {r["key"]: r["state"] for r in json.loads(again.stdout)} == {
        "ledger": "fresh",
        "campaign_budget": "fresh",
    }

    # finance changes its code: both its asset and marketing's (downstream, in another
    # environment) are stale; apply rebuilds them in order, each in its own environment
    code = tmp_path / "finance" / "assets.py"
    code.write_text(code.read_text().replace('"total": 42', '"total": 44'))
    stale = run_catchment(tmp_path, "plan", "--json")
    states = {r["key"]: (r["state"], r["reasons"]) for r in json.loads(stale.stdout)}
    assert states["ledger"][0] == "stale"
    assert states["campaign_budget"] == ("stale", ["upstream ledger stale"])
    applied = run_catchment(tmp_path, "apply")
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "2 materialized, 0 failed, 0 skipped in 2 project run(s)" in applied.stdout
    store = open_storage(f"sqlite:///{tmp_path / '.catchment' / 'runs.db'}")
    try:
        latest = {str(k): r for k, r in store.latest_materializations().items()}
    finally:
        store.close()
    assert latest["campaign_budget"].metadata["budget"] == 22

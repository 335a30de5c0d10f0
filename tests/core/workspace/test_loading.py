"""Loading projects in subprocesses of their environments: cached, parallel, timed out,
and a project that fails is reported while the rest loads."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from catchment.workspace import load_workspace
from catchment.workspace.loading import load_projects
from catchment.workspace.model import load_workspace_file

from tests.core.workspace.conftest import BUDGET_CODE, LEDGER_CODE, simple_workspace

pytestmark = pytest.mark.timeout(120)


def test_unchanged_projects_are_not_loaded_again_and_a_change_is_seen(tmp_path: Path) -> None:
    file = simple_workspace(
        tmp_path, {"finance": LEDGER_CODE.format(TAGS="{}"), "marketing": BUDGET_CODE}
    )
    ws = load_workspace_file(file)
    first = load_projects(ws)
    assert [(p.entry.name, p.ok, p.cached) for p in first] == [
        ("finance", True, False),
        ("marketing", True, False),
    ]
    started = time.perf_counter()
    second = load_projects(ws)
    assert time.perf_counter() - started < 1.0
    assert [p.cached for p in second] == [True, True]
    # an edit of one project's code reloads that project only
    code = tmp_path / "marketing" / "assets.py"
    code.write_text(
        code.read_text()
        .replace("def budget", "def budget_v2")
        .replace('AssetKey("budget")', 'AssetKey("budget_v2")')
    )
    third = load_projects(ws)
    assert [p.cached for p in third] == [True, False]
    assert [d.name for d in third[1].project.definitions] == ["budget_v2"]  # type: ignore[union-attr]


def test_a_project_that_cannot_load_is_reported_and_the_rest_loads(tmp_path: Path) -> None:
    file = simple_workspace(
        tmp_path,
        {"finance": LEDGER_CODE.format(TAGS="{}"), "gone": BUDGET_CODE, "slow": BUDGET_CODE},
        gone=str(tmp_path / "no-env" / "bin" / "python"),
    )
    (tmp_path / "slow" / "assets.py").write_text("import time\ntime.sleep(30)\n")
    text = file.read_text().replace("  - path: slow\n", "  - path: slow\n    load_timeout: 2\n")
    file.write_text(text)
    started = time.perf_counter()
    wsg = load_workspace(file)
    assert time.perf_counter() - started < 20
    errors = {p.entry.name: p.error for p in wsg.projects}
    assert errors["finance"] is None
    assert "no-env/bin/python does not exist" in (errors["gone"] or "")
    assert "took more than 2 s and was stopped" in (errors["slow"] or "")
    assert wsg.graph is not None
    assert [str(k) for k in wsg.graph if wsg.project_of.get(k)] == ["ledger"]
    assert {p.kind for p in wsg.problems} == {"project"}
    assert wsg.blocking == []


def test_an_environment_without_catchment_says_so(tmp_path: Path) -> None:
    fake = tmp_path / "fake-python"
    fake.write_text('#!/bin/sh\necho "No module named catchment" >&2\nexit 1\n')
    os.chmod(fake, 0o755)
    file = simple_workspace(tmp_path, {"finance": BUDGET_CODE}, finance=str(fake))
    (lp,) = load_workspace(file).projects
    assert lp.error is not None
    assert "failed (python " in lp.error
    assert "No module named catchment" in lp.error

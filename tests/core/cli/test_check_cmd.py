"""`catchment check` for people and for scripts: `--json` carries the problems and the counts
with the same exit code, and the summary line counts in words a person would write."""

from __future__ import annotations

import json
from pathlib import Path

from catchment.cli.main import app
from typer.testing import CliRunner

ONE_ASSET = """\
from catchment import asset, asset_check

@asset
def numbers():
    return [1, 2]

@asset_check(asset="numbers")
def not_empty(numbers):
    return bool(numbers)
"""


def _project(root: Path, component_type: str = "python") -> Path:
    root.mkdir()
    (root / "assets.py").write_text(ONE_ASSET)
    (root / "catchment.yaml").write_text(
        "project: {name: demo}\n"
        "components:\n"
        f"  - type: {component_type}\n"
        "    name: assets\n"
        "    attributes: {module: assets.py}\n"
    )
    return root


def test_check_json_reports_counts_of_a_sound_project(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(_project(tmp_path / "p")), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert report["problems"] == []
    assert (report["project"], report["assets"], report["checks"]) == ("demo", 1, 1)


def test_check_json_lists_problems_and_exits_1(tmp_path: Path) -> None:
    root = _project(tmp_path / "p", component_type="dbtt")
    result = CliRunner().invoke(app, ["check", str(root), "--json"])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    [problem] = report["problems"]
    assert problem["where"].endswith("catchment.yaml:3")
    assert "unknown component type 'dbtt'" in problem["message"]


def test_check_summary_uses_singular_for_one(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["check", str(_project(tmp_path / "p"))])
    assert result.exit_code == 0, result.output
    assert "OK demo: 1 asset, 1 check, 1 component," in result.stdout


def test_check_json_reports_a_project_that_cannot_load_as_json(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    bad_indent = "project:\n  name: x\ncomponents:\n  - type: a\n   name: b\n"
    (root / "catchment.yaml").write_text(bad_indent)
    result = CliRunner().invoke(app, ["check", str(root), "--json"])
    assert result.exit_code == 1
    [problem] = json.loads(result.stdout)["problems"]
    assert problem["where"].endswith("catchment.yaml:5:4")
    assert problem["message"].startswith("invalid YAML")
    missing = CliRunner().invoke(app, ["check", str(tmp_path / "nothing"), "--json"])
    assert missing.exit_code == 1
    assert json.loads(missing.stdout)["ok"] is False


def test_check_json_on_a_workspace_refuses_instead_of_printing_prose(tmp_path: Path) -> None:
    (tmp_path / "catchment.workspace.yaml").write_text("workspace: {name: w}\nprojects: []\n")
    result = CliRunner().invoke(app, ["check", str(tmp_path), "--json"])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "does not support workspaces yet" in result.stderr

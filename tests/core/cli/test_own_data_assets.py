"""An ``@asset`` that writes its own data (``-> MaterializeResult``) through real ``catchment``
processes: it materializes, owns no IO-manager table, and `plan` (which observes the
warehouse) calls it fresh afterwards instead of missing forever."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.core.cli.test_run_commands import cli

CONFIG = """\
project: {name: mr}
io_managers:
  default: {type: duckdb, config: {path: wh.duckdb}}
components:
  - {type: python, name: core, attributes: {module: assets.py}}
"""

REPORT = """\
from catchment import asset, MaterializeResult

@asset
def report() -> MaterializeResult:
    open("report.txt", "w").write("hi")
    return MaterializeResult(metadata={"rows": 1})
"""

LOADS_REPORT = (
    REPORT
    + """
@asset
def summary(report):
    return report
"""
)

CHECKS_REPORT = (
    REPORT
    + """
from catchment import asset_check

@asset_check(asset=report)
def report_has_rows(report):
    return len(report) > 0
"""
)


def _project(root: Path, assets: str) -> Path:
    root.mkdir()
    (root / "catchment.yaml").write_text(CONFIG)
    (root / "assets.py").write_text(assets)
    return root


def test_an_asset_writing_its_own_data_materializes_and_is_fresh(tmp_path: Path) -> None:
    root = _project(tmp_path / "mr", REPORT)
    listed = cli(root, "assets", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    [row] = json.loads(listed.stdout)
    assert (row["key"], row["table"]) == ("report", None)

    before = cli(root, "plan", "--json", "--observe-ttl", "0")
    assert before.returncode == 0, before.stderr
    assert [r["state"] for r in json.loads(before.stdout)] == ["missing"]

    done = cli(root, "materialize")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (root / "report.txt").read_text() == "hi"

    after = cli(root, "plan", "--json", "--observe-ttl", "0")
    assert after.returncode == 0, after.stderr
    [planned] = json.loads(after.stdout)
    assert (planned["key"], planned["state"]) == ("report", "fresh"), planned


@pytest.mark.parametrize(
    ("assets", "fragments"),
    [
        (LOADS_REPORT, ["summary (", "takes asset report as a parameter", "deps=['report']"]),
        (
            CHECKS_REPORT,
            [
                "check report:report_has_rows (",
                "takes asset report as its parameter 'report'",
                "remove the parameter",
            ],
        ),
    ],
    ids=["asset", "asset_check"],
)
def test_check_names_a_parameter_that_loads_an_asset_writing_its_own_data(
    tmp_path: Path, assets: str, fragments: list[str]
) -> None:
    root = _project(tmp_path / "mr", assets)
    checked = cli(root, "check", "--json")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    [problem] = json.loads(checked.stdout)["problems"]
    for fragment in [*fragments, "returns MaterializeResult"]:
        assert fragment in problem["message"]

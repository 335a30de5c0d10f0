"""Running across projects: batches in an order that runs every upstream first, even when
lineage goes from one project to another and back."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.keys import AssetKey
from catchment.workspace import load_workspace
from catchment.workspace.running import batches, run_workspace

from tests.core.workspace.conftest import LEDGER_CODE, simple_workspace

pytestmark = pytest.mark.timeout(180)

BUDGET_FILE = """\
from pathlib import Path

from catchment import AssetKey, MaterializeResult, asset, file_table

SHARED = Path(__file__).resolve().parent.parent / "shared"


@asset(reads=[file_table(SHARED / "ledger.json")], table=file_table(SHARED / "budget.json"))
def budget():
    (SHARED / "budget.json").write_text((SHARED / "ledger.json").read_text())
    return MaterializeResult(key=AssetKey("budget"))
"""

REPORT = """\
from pathlib import Path

from catchment import AssetKey, MaterializeResult, asset, file_table

SHARED = Path(__file__).resolve().parent.parent / "shared"


@asset(reads=[file_table(SHARED / "budget.json")])
def report():
    (SHARED / "budget.json").read_text()
    return MaterializeResult(key=AssetKey("report"))
"""


def test_lineage_that_leaves_a_project_and_comes_back_runs_in_three_batches(
    tmp_path: Path,
) -> None:
    finance = LEDGER_CODE.format(TAGS="{}")
    file = simple_workspace(tmp_path, {"finance": finance, "marketing": BUDGET_FILE})
    (tmp_path / "finance" / "report.py").write_text(REPORT)
    yaml = tmp_path / "finance" / "catchment.yaml"
    yaml.write_text(
        yaml.read_text()
        + "  - type: python\n    name: reports\n    attributes:\n      module: report.py\n"
    )
    wsg = load_workspace(file)
    assert wsg.problems == []
    keys = [AssetKey("report"), AssetKey("budget"), AssetKey("ledger")]
    assert batches(wsg, keys) == [
        ("finance", [AssetKey("ledger")]),
        ("marketing", [AssetKey("budget")]),
        ("finance", [AssetKey("report")]),
    ]
    said: list[str] = []
    result = run_workspace(wsg, keys, echo=said.append)
    assert result.success, said
    assert [(r.project, r.status) for r in result.runs] == [
        ("finance", {"ledger": "success"}),
        ("marketing", {"budget": "success"}),
        ("finance", {"report": "success"}),
    ]
    assert said[0] == "finance: materializing 1 asset(s) in its environment: ledger"

"""Running across projects: batches in an order that runs every upstream first, even when
lineage goes from one project to another and back."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.keys import AssetKey
from catchment.workspace import load_workspace
from catchment.workspace.running import batches, passes, run_workspace

from tests.core.workspace.conftest import INGEST_CODE, LEDGER_CODE, REPORT_CODE, simple_workspace

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


def test_a_run_over_several_keys_runs_its_unpartitioned_assets_once(tmp_path: Path) -> None:
    """A daily ingest and an unpartitioned report reading it (another project), and a dim the
    ingest reads: one workspace run per key for the ingest, the dim once before the keys and
    the report once after them (told to skip what the days missed)."""
    dim = LEDGER_CODE.format(TAGS="{}").replace("ledger", "dim")
    reads = '@asset(reads=[file_table(DAYS.with_name("dim.json"))], table='
    ingest_code = INGEST_CODE.replace("@asset(table=", reads)
    file = simple_workspace(tmp_path, {"ingest": ingest_code, "reports": REPORT_CODE, "dims": dim})
    wsg = load_workspace(file)
    assert wsg.problems == []
    ingest, report, dim_key = AssetKey("ingest"), AssetKey("report"), AssetKey("dim")
    days = ["2024-01-01", "2024-01-02"]
    assert passes(wsg, {day: [report, ingest, dim_key] for day in days}) == [
        (None, [dim_key], "first"),
        (days[0], [ingest], "key"),
        (days[1], [ingest], "key"),
        (None, [report], "last"),
    ]
    assert passes(wsg, {days[0]: [ingest, report]}) == [(days[0], [ingest, report], "key")]
    assert passes(wsg, {days[0]: [report], days[1]: [report]}) == [(None, [report], "last")]
    assert passes(wsg, {None: [report]}) == [(None, [report], "key")]

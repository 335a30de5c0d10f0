"""dbt models downstream of an asset that failed or was skipped before the dbt step are
skipped as upstream-failed, not handed to dbt to fail on a missing table (issue 25)."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.events import EventType
from catchment.execution.project import run_project
from catchment.project import load_project

from .test_execution import _write_project

pytestmark = pytest.mark.slow


def test_models_below_a_failed_loader_are_skipped_transitively(tmp_path: Path) -> None:
    root = _write_project(tmp_path / "shop")
    raw = root / "pipelines" / "raw.py"
    raw.write_text(
        raw.read_text().replace(
            "def orders() -> pd.DataFrame:\n",
            "def orders() -> pd.DataFrame:\n    raise RuntimeError('orders API is down')\n",
        )
    )
    project = load_project(root)
    result = run_project(project, "*")
    assert result.status_of("raw/orders") == "failed"
    # stg_orders reads raw.orders directly; fct_orders and the marts only through dbt models
    for key in ("stg_orders", "fct_orders", "dim_customers", "mart_customer_ltv"):
        assert result.status_of(key) == "skipped", key
    skipped = {
        e.asset_key: e.data["reason"] for e in result.events if e.type is EventType.ASSET_SKIPPED
    }
    assert skipped["stg_orders"] == "upstream raw/orders failed"
    assert skipped["stg_order_lines"] == ("upstream stg_orders skipped: upstream raw/orders failed")
    failed = {e.asset_key for e in result.events if e.type is EventType.ASSET_FAILED}
    assert failed <= {"raw/orders", "mart_broken"}, failed
    # the branch that does not read orders still builds
    assert result.status_of("stg_payments") == "success"

"""Time x static partitions on a dbt component (issue 25): the windows reach dbt as
``min_var``/``max_var`` and the static keys as ``key_var``, with real dbt on DuckDB."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from catchment.events import EventType
from catchment.execution.api import materialize
from catchment.keys import AssetKey
from catchment.multi_partitions import MultiPartitions
from catchment.partitions import TimeWindowPartitions
from catchment_dbt import dbt_assets
from catchment_dbt.execution import RunOptions, partition_vars

from .conftest import copy_jaffle

PARTS = MultiPartitions(TimeWindowPartitions("2024-01-01", "2024-01-11"), ["eu", "us"])


def test_vars_span_the_windows_and_list_the_static_keys() -> None:
    options = RunOptions(partitions=PARTS, key_var="region")
    keys = tuple(PARTS.range("2024-01-03", "2024-01-04|eu"))
    assert keys == ("2024-01-03|eu", "2024-01-04|eu")
    assert partition_vars(PARTS, keys, options) == {
        "min_date": "2024-01-03",
        "max_date": "2024-01-05",
        "region": "eu",
    }
    both = tuple(PARTS.range("2024-01-03", "2024-01-03"))
    assert partition_vars(PARTS, both, options)["region"] == "eu,us"


@pytest.mark.slow
def test_a_day_and_region_range_runs_dbt_once_with_both_vars(tmp_path: Path) -> None:
    jaffle = copy_jaffle(tmp_path)
    jaffle.load_raw()
    d = dbt_assets(
        jaffle.project_dir,
        warehouse=jaffle.warehouse,
        partitions={
            "start": "2024-01-01",
            "end": "2024-01-11",
            "models": ["fct_daily_revenue"],
            "static_keys": ["eu", "us"],
            "key_var": "region",
        },
    )
    spec = next(s for s in d.specs if s.key == AssetKey("fct_daily_revenue"))
    assert isinstance(spec.partitions, MultiPartitions)
    materialize([d], selection=[k for k in d.keys if k.name != "fct_daily_revenue"])
    result = materialize([d], selection=["fct_daily_revenue"], partition="2024-01-03...2024-01-04")
    assert sorted(e.partition or "" for e in result.materializations) == [
        "2024-01-03|eu",
        "2024-01-03|us",
        "2024-01-04|eu",
        "2024-01-04|us",
    ]
    [command] = [
        e.data["message"]
        for e in result.events
        if e.type is EventType.LOG and str(e.data.get("message", "")).startswith("dbt build")
    ]
    assert "region" in command
    assert "eu,us" in command
    with duckdb.connect(str(jaffle.warehouse)) as con:
        days = con.execute(
            "select order_date::varchar from fct_daily_revenue order by 1"
        ).fetchall()
    assert [d[0] for d in days] == ["2024-01-03", "2024-01-04"]

"""A graph mixing partitioned and unpartitioned assets runs in one materialize (issue 25).

The unpartitioned dlt resource runs once, unaware of the run's hourly partitions; the hourly
Python asset is recorded once per partition, each with its own row count.
"""

from __future__ import annotations

import shutil

import pytest
from catchment.events import EventType
from catchment.execution.project import run_project

from .conftest import FIXTURES, ShopProject, load, shop_yaml

pytestmark = pytest.mark.slow


def _mixed_yaml(shop: ShopProject) -> str:
    shutil.copy(FIXTURES / "mixed" / "hourly.py", shop.root / "hourly.py")
    python = {"type": "python", "name": "hourly", "attributes": {"module": "hourly.py"}}
    return shop_yaml(shop, extra=[python], resources=["customers"])


def test_unpartitioned_dlt_runs_once_beside_an_hourly_range(shop: ShopProject) -> None:
    project = load(shop, _mixed_yaml(shop))
    assert project.problems == []
    result = run_project(project, "*", partition="2026-12-02-21:00...2026-12-02-23:00")
    assert result.success, result.failures
    dlt_events = [e for e in result.materializations if e.asset_key == "raw/customers"]
    assert [e.partition for e in dlt_events] == [None]
    assert shop.query("select count(*) from raw.customers") == [(2,)]
    hourly = [e for e in result.materializations if e.asset_key == "hourly/clicks"]
    assert [e.partition for e in hourly] == [
        "2026-12-02-21:00",
        "2026-12-02-22:00",
        "2026-12-02-23:00",
    ]
    # defect (d): each partition's record counts its own rows, not the whole frame's
    assert [e.data["metadata"]["rows"] for e in hourly] == [5, 5, 5]
    assert all(e.type is not EventType.ASSET_FAILED for e in result.events)


def test_a_single_partition_run_also_leaves_dlt_unpartitioned(shop: ShopProject) -> None:
    result = run_project(load(shop, _mixed_yaml(shop)), "*", partition="2026-12-02-23:00")
    assert result.success, result.failures
    [event] = [e for e in result.materializations if e.asset_key == "raw/customers"]
    assert event.partition is None
    [hour] = [e for e in result.materializations if e.asset_key == "hourly/clicks"]
    assert (hour.partition, hour.data["metadata"]["rows"]) == ("2026-12-02-23:00", 5)

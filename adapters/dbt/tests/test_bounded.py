"""dbt runs in this process, so it cannot be killed; its step deadline is still kept: at the
timeout dbt's open queries are cancelled, the step fails as timed out, and the next dbt step
in the same process runs (nothing is left holding dbt's lock)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from catchment.execution.api import materialize
from catchment_dbt import dbt_assets

from .conftest import Jaffle

pytestmark = pytest.mark.slow

ENDLESS = (
    "{{ config(materialized='table') }}\nselect max(hash(range)) as n from range(1000000000000000)"
)


def test_a_dbt_step_past_its_timeout_is_cancelled_and_dbt_stays_usable(jaffle: Jaffle) -> None:
    (jaffle.project_dir / "models" / "endless.sql").write_text(ENDLESS)
    jaffle.load_raw()
    defn = dbt_assets(jaffle.project_dir, warehouse=jaffle.warehouse)
    start = time.monotonic()
    result = materialize([defn.replace(timeout=3.0)], selection="endless", raise_on_failure=False)
    assert time.monotonic() - start < 30
    (failure,) = [e for e in result.failures if e.asset_key == "endless"]
    assert failure.data["error_class"] == "StepTimeout"
    assert "timed out after 3 s" in failure.data["message"]

    again = materialize([defn.replace(timeout=120.0)], selection="customers")
    assert again.status_of("customers") == "success"
    assert isinstance(jaffle.warehouse, Path)

"""The dbt adapter against the conformance kit (catchment.testing): the real jaffle project
(dbt-duckdb), its tests as checks and its incremental model partitioned by day."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from catchment.testing import AdapterConformance, write_project

from .conftest import copy_jaffle, load_raw_module

pytestmark = pytest.mark.slow


def _write(root: Path, **extra: Any) -> Path:
    attributes = {
        "project_dir": "jaffle",
        "partitions": {"start": "2024-01-01", "end": "2024-01-11", "models": ["fct_daily_revenue"]},
        # a credential reaches dbt through the environment (e.g. for profiles.yml)
        "env": {"JAFFLE_API_TOKEN": '{{ env("CATCHMENT_CONFORMANCE_SECRET") }}'},
        **extra,
    }
    return write_project(root, [{"type": "dbt", "name": "jaffle", "attributes": attributes}])


class TestDbtConformance(AdapterConformance):
    adapter_name = "dbt"
    supports_subset = True
    supports_partitions = True
    has_checks = True

    @pytest.fixture
    def adapter_env(self) -> dict[str, str]:
        return {"DO_NOT_TRACK": "1"}

    @pytest.fixture
    def project_dir(self, tmp_path: Path) -> Path:
        root = tmp_path / "proj"
        copy_jaffle(root)
        # the raw tables the jaffle sources read, as another tool would have loaded them
        load_raw_module().load_raw(str(root / "warehouse.duckdb"), 1)
        return _write(root)

    @pytest.fixture
    def partition_key(self) -> str:
        return "2024-01-03"

    @pytest.fixture
    def failing_selection(self, project_dir: Path) -> str:
        # turns on models/marts/mart_broken.sql, which fails in the warehouse on purpose
        _write(project_dir, vars={"enable_broken": True})
        return "mart_broken"

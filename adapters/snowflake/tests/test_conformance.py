"""The Snowflake adapter's managed objects against the conformance kit (catchment.testing), on
the fakesnow emulator (databases kept as files under .catchment/, so every CLI process sees the
same account). The resource's password is the kit's secret."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from catchment.testing import AdapterConformance, write_project

pytestmark = pytest.mark.slow

CONNECTION = {
    "account": "acme-prod",
    "user": "loader",
    "password": '{{ env("CATCHMENT_CONFORMANCE_SECRET") }}',
    "database": "analytics",
    "schema": "public",
    "emulator": "fakesnow",
    "emulator_path": "{{ project_root }}/.catchment/fakesnow",
}

OBJECTS: list[dict[str, Any]] = [
    {
        "kind": "table",
        "name": "audit",
        "schema": "raw",
        "columns": [{"name": "id", "type": "number"}, {"name": "amount", "type": "number"}],
    },
    {
        "kind": "view",
        "name": "big_audit",
        "schema": "marts",
        "query": "select id, amount from analytics.raw.audit where amount > 100",
    },
    {
        "kind": "table",
        "name": "notes",
        "schema": "raw",
        "columns": [{"name": "text", "type": "varchar"}],
    },
]


def _write(root: Path, objects: list[dict[str, Any]]) -> Path:
    return write_project(
        root,
        [
            {
                "type": "snowflake",
                "name": "objects",
                "attributes": {"connection": "warehouse", "objects": objects},
            }
        ],
        resources={"warehouse": {"type": "snowflake", "config": CONNECTION}},
    )


class TestSnowflakeConformance(AdapterConformance):
    adapter_name = "snowflake"
    supports_subset = True
    supports_partitions = False
    has_checks = False

    @pytest.fixture
    def adapter_env(self) -> dict[str, str]:
        return {"SNOWFLAKE_DISABLE_PLATFORM_DETECTION": "true"}

    @pytest.fixture
    def project_dir(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "proj", OBJECTS)

    @pytest.fixture
    def failing_selection(self, project_dir: Path) -> str:
        broken = {**OBJECTS[1], "query": "select id, no_such_column from analytics.raw.audit"}
        _write(project_dir, [OBJECTS[0], broken, OBJECTS[2]])
        return "marts/big_audit"

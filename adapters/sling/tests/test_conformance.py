"""The Sling adapter against the conformance kit (catchment.testing): the real Sling binary
replicating PostgreSQL tables into the project's DuckDB warehouse. The PostgreSQL password is
the kit's secret (trust auth accepts any), so the kit proves it never shows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from catchment.testing import AdapterConformance, write_project

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

PG_URL = (
    "postgresql://postgres:{{ env('CATCHMENT_CONFORMANCE_SECRET') }}@127.0.0.1:5432/postgres"
    "?sslmode=disable"
)


def _write(root: Path, schema: str, streams: list[str]) -> Path:
    replication = {
        "source": "PG",
        "target": "WH",
        "defaults": {"mode": "full-refresh", "object": "raw.{stream_table}"},
        "streams": {f"{schema}.{name}": None for name in streams},
    }
    root.mkdir(parents=True, exist_ok=True)
    (root / "replication.yaml").write_text(yaml.safe_dump(replication, sort_keys=False))
    component = {
        "type": "sling",
        "name": "ingest",
        "attributes": {
            "replication": "replication.yaml",
            "connections": {"PG": PG_URL, "WH": "duckdb://warehouse.duckdb"},
        },
    }
    return write_project(root, [component])


class TestSlingConformance(AdapterConformance):
    adapter_name = "sling"
    supports_subset = True
    supports_partitions = False
    has_checks = False

    @pytest.fixture
    def project_dir(self, tmp_path: Path, pg_schema: str, pg: Any) -> Path:
        pg.execute(f"create table {pg_schema}.customers (id int primary key, name text)")
        pg.execute(f"insert into {pg_schema}.customers values (1, 'ann'), (2, 'bo')")
        return _write(tmp_path / "proj", pg_schema, ["orders", "customers"])

    @pytest.fixture
    def failing_selection(self, project_dir: Path, pg_schema: str) -> str:
        # a stream whose source table does not exist: Sling fails it, the others still run
        _write(project_dir, pg_schema, ["orders", "customers", "missing"])
        return "raw/missing"

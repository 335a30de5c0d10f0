"""The dlt adapter against the conformance kit (catchment.testing), with real dlt into DuckDB."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from catchment.testing import AdapterConformance, write_project

pytestmark = pytest.mark.slow

SOURCE = '''
import json
from pathlib import Path

import dlt


def _rows(data_dir, name):
    path = Path(data_dir) / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else []


@dlt.source(name="shop")
def shop(data_dir: str, token: str, fail: str = ""):
    """Orders with nested lines, and customers, from JSON files (``token`` is a credential)."""

    @dlt.resource(primary_key="id", write_disposition="merge")
    def orders():
        yield from _rows(data_dir, "orders")

    @dlt.resource(primary_key="id", write_disposition="replace")
    def customers():
        if fail == "customers":
            raise RuntimeError("customers API answered 500: try later")
        yield from _rows(data_dir, "customers")

    return orders, customers
'''


def _write(project_dir: Path, fail: str = "") -> Path:
    args = {
        "data_dir": str(project_dir / "data"),
        "token": '{{ env("CATCHMENT_CONFORMANCE_SECRET") }}',
        "fail": fail,
    }
    return write_project(
        project_dir,
        [
            {
                "type": "dlt",
                "name": "shop",
                "attributes": {
                    "source": "shop_sources.py:shop",
                    "args": args,
                    "dataset_name": "raw",
                    "overrides": {"orders": {"child_tables": ["lines"]}},
                },
            }
        ],
    )


class TestDltConformance(AdapterConformance):
    adapter_name = "dlt"
    supports_subset = True
    supports_partitions = False
    has_checks = False

    @pytest.fixture
    def adapter_env(self) -> dict[str, str]:
        return {"RUNTIME__DLTHUB_TELEMETRY": "false"}

    @pytest.fixture
    def project_dir(self, tmp_path: Path) -> Path:
        root = tmp_path / "proj"
        (root / "data").mkdir(parents=True)
        (root / "shop_sources.py").write_text(SOURCE)
        orders = [{"id": i, "lines": [{"sku": f"s{i}", "qty": i}]} for i in range(1, 4)]
        (root / "data" / "orders.json").write_text(json.dumps(orders))
        customers = [{"id": "c0", "name": "Ann"}, {"id": "c1", "name": "Bo"}]
        (root / "data" / "customers.json").write_text(json.dumps(customers))
        return _write(root)

    @pytest.fixture
    def failing_selection(self, project_dir: Path) -> str:
        _write(project_dir, fail="customers")
        return "raw/customers"

"""The Modal adapter against the conformance kit (catchment.testing): an app's functions run
locally (``fn.local()``), reporting over catchment pipes into the project's DuckDB warehouse."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.testing import AdapterConformance, write_project

pytestmark = pytest.mark.slow

APP = '''
import duckdb
import modal
from catchment.pipes.remote import open_pipes
from catchment_modal import asset_spec

app = modal.App("conformance")


@app.function()
@asset_spec(key="modal/numbers", writes="duckdb:main.numbers")
def make_numbers():
    """Numbers 0..4."""
    with open_pipes() as pipes:
        con = duckdb.connect(pipes.get_extra("warehouse"))
        con.execute("create or replace table main.numbers as select range as n from range(5)")
        con.close()
        pipes.report_materialization(metadata={"rows": 5})


@app.function()
@asset_spec(
    key="modal/doubled",
    reads=["duckdb:main.numbers"],
    writes="duckdb:main.doubled",
    checks=["not_empty"],
)
def double_numbers(token: str = ""):
    """Each number doubled (``token`` is a credential the function would use)."""
    with open_pipes() as pipes:
        con = duckdb.connect(pipes.get_extra("warehouse"))
        FAIL_HERE
        con.execute("create or replace table main.doubled as select n * 2 as n from main.numbers")
        [(rows,)] = con.execute("select count(*) from main.doubled").fetchall()
        con.close()
        pipes.report_materialization(metadata={"rows": rows})
        pipes.report_check("not_empty", passed=rows > 0)
'''


def _write(root: Path, fail: bool = False) -> Path:
    (root / "jobs").mkdir(parents=True, exist_ok=True)
    line = 'raise RuntimeError("feature store answered 503")' if fail else "pass"
    (root / "jobs" / "conformance_app.py").write_text(APP.replace("FAIL_HERE", line))
    attributes = {
        "app": "jobs/conformance_app.py:app",
        "specs": {
            "double_numbers": {"kwargs": {"token": '{{ env("CATCHMENT_CONFORMANCE_SECRET") }}'}}
        },
    }
    return write_project(root, [{"type": "modal", "name": "ml", "attributes": attributes}])


class TestModalConformance(AdapterConformance):
    adapter_name = "modal"
    supports_subset = True
    supports_partitions = False
    has_checks = True

    @pytest.fixture
    def project_dir(self, tmp_path: Path) -> Path:
        return _write(tmp_path / "proj")

    @pytest.fixture
    def failing_selection(self, project_dir: Path) -> str:
        _write(project_dir, fail=True)
        return "modal/doubled"

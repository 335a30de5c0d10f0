"""A small python project with recorded runs, checks and ticks, served by the UI app in a
Starlette TestClient (the real app, the real record store; no server process)."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("starlette")
pytest.importorskip("httpx")

PROJECT_YAML = """\
project:
  name: demo
components:
  - type: python
    name: core
    attributes:
      module: assets.py
io_managers:
  default:
    type: filesystem
    config:
      base_dir: values
schedules:
  - name: nightly_orders
    cron: "0 3 * * *"
    assets: [orders]
"""

ASSETS = """\
from catchment import asset, asset_check

@asset(group="raw", description="Orders as exported", owners=["team:data"],
       tags={"pii": ""}, metadata={"columns": ["order_id", "customer_email"],
       "warehouse_password": "hunter2", "url": "postgresql://bob:s3cret@db/x"})
def orders():
    return [1, 2, 3]

@asset(group="marts", description="Revenue per day")
def revenue(orders):
    return sum(orders)

@asset(group="marts")
def report(revenue):
    return revenue

@asset_check(asset="revenue")
def revenue_positive(revenue):
    return revenue > 0
"""


def write_project(root: Path) -> Path:
    """Write the demo project into ``root``."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "catchment.yaml").write_text(PROJECT_YAML)
    (root / "assets.py").write_text(ASSETS)
    return root


def materialize(root: Path, select: str) -> None:
    """Run ``catchment materialize`` in-process on ``root``."""
    from catchment.cli.main import app
    from typer.testing import CliRunner

    result = CliRunner().invoke(app, ["materialize", "-s", select, "--project", str(root)])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo project with one successful run of ``orders+`` and two recorded ticks."""
    from catchment.storage import open_storage
    from catchment.storage.control import TickRecord

    root = write_project(tmp_path_factory.mktemp("ui") / "demo")
    materialize(root, "orders+")
    storage = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    try:
        now = time.time()
        tick = TickRecord(kind="schedule", name="nightly_orders", started_at=now - 5)
        tick.tick_id = storage.start_tick(tick)
        tick.status, tick.finished_at = "skipped", now - 4
        tick.body = {"reason": "cron 0 3 * * * has not ticked since the last run"}
        storage.finish_tick(tick)
        storage.acquire_lease("daemon", "host:1234", now, 30.0)
    finally:
        storage.close()
    return root


def client_class() -> type:
    """Starlette's TestClient (its warning that it prefers ``httpx2`` silenced)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from starlette.testclient import TestClient
    return TestClient


@pytest.fixture(scope="module")
def client(project: Path) -> Iterator[object]:
    """A TestClient over the app, the project loaded."""
    from catchment.ui.app import create_app
    from catchment.ui.state import UiState

    state = UiState(project)
    state.load()
    with client_class()(create_app(state, start=False)) as c:
        yield c

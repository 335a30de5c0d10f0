"""A small project, a fake clock and a recording launcher for driving the daemon in tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from catchment.daemon.clock import FakeClock
from catchment.daemon.daemon import Daemon, DaemonSettings
from catchment.daemon.sensor_loop import SensorLoop
from catchment.storage import RunRecord, Storage, open_storage
from catchment.storage.control import TickRecord

ASSETS = """\
from catchment import asset, TimeWindowPartitions

HOURLY = TimeWindowPartitions(start="2025-08-01-00:00", cadence="hourly")

@asset
def a():
    return 1

@asset
def b(a):
    return a + 1

@asset(partitions=HOURLY)
def events(context):
    return context.partition_key
"""

SENSORS = """\
import time
from catchment.runs.request import RunRequest
from catchment.sensors import SensorResult, sensor

@sensor(asset_keys=["a"], interval=10)
def counting(context):
    n = int(context.cursor or "0") + 1
    return SensorResult(run_requests=[RunRequest(run_key=f"n{n}")], cursor=str(n))

def raising(context):
    raise ValueError("the API said no")

def hanging(context):
    time.sleep(600)

def garbage(context):
    return 42

def exiting(context):
    raise SystemExit(3)
"""

BASE = """\
project:
  name: auto
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
"""

# 2025-08-01 10:00:00 UTC: a round hour, so hourly crons tick at known times
T0 = 1754042400.0


def write_project(root: Path, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "catchment.yaml").write_text(BASE + extra)
    (root / "assets.py").write_text(ASSETS)
    (root / "sensors.py").write_text(SENSORS)
    return root


@dataclass
class RecordingLauncher:
    """Records the runs the daemon launches instead of starting processes (the real launcher,
    ``SubprocessLauncher``, is covered by tests/core/runs and the end-to-end test)."""

    launched: list[str] = field(default_factory=list)

    def launch(self, run: RunRecord) -> None:
        self.launched.append(run.run_id)


@dataclass
class Harness:
    root: Path
    clock: FakeClock
    launcher: RecordingLauncher
    store: Storage
    make: Callable[..., Daemon]

    def runs(self) -> list[RunRecord]:
        return self.store.list_runs(limit=1000)


def settle(daemon: Daemon, timeout: float = 30.0, hung: tuple[str, ...] = ()) -> list[TickRecord]:
    """Step (without moving the clock) until no sensor subprocess is running (but those named
    in ``hung``)."""
    ticks = list(daemon.step())
    deadline = time.monotonic() + timeout

    def busy() -> bool:
        loops = daemon.loops.values()
        return any(isinstance(x, SensorLoop) and x.running and x.name not in hung for x in loops)

    while busy():
        assert time.monotonic() < deadline, "a sensor did not finish"
        time.sleep(0.02)
        ticks.extend(daemon.step())
    return ticks


@pytest.fixture
def harness(tmp_path: Path) -> Iterator[Harness]:
    root = tmp_path / "proj"
    clock = FakeClock(T0)
    launcher = RecordingLauncher()
    store = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
    made: list[Daemon] = []

    def make(extra: str | None = None, evaluator: Any = None, **settings: float) -> Daemon:
        if extra is not None:
            write_project(root, extra)
        d = Daemon(
            root,
            clock=clock,
            storage=store,
            launcher=launcher,
            settings=DaemonSettings(**settings),  # type: ignore[arg-type]
            evaluator=evaluator,
        )
        made.append(d)
        return d

    root.mkdir(parents=True, exist_ok=True)
    yield Harness(root, clock, launcher, store, make)
    for d in made:
        d.close()
    store.close()

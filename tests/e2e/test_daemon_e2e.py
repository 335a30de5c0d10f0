"""`catchment daemon` as a real process over a project with real Sling and dbt.

A new hourly folder lands in the watched directory: the files sensor requests that hour of
the Sling stream, and the eager dbt model over it runs as soon as Sling has recorded it. The
daemon is killed with SIGKILL while the first run is in flight and started again: every run
key is launched exactly once, counted in the record store.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from catchment.storage import RunRecord, Storage, open_storage

PROJECT = Path(__file__).parent / "landing_project"
HOUR_KEY = "2025-08-01-03:00"
SENSOR_KEY = f"sensor:landing:{HOUR_KEY}"


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PG_URL"}
    env.update(
        DO_NOT_TRACK="1",
        SLING_DISABLE_TELEMETRY="true",
        RUNTIME__DLTHUB_TELEMETRY="false",
        SNOWFLAKE_DISABLE_PLATFORM_DETECTION="true",
    )
    return env


class DaemonProcess:
    """One `catchment daemon` process with its output in a file."""

    def __init__(self, root: Path, n: int):
        self.log = root / f"daemon-{n}.log"
        with self.log.open("w") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "catchment", "daemon", "-p", str(root), "--poll", "100ms"],
                cwd=root,
                env=_env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def output(self) -> str:
        return self.log.read_text()

    def kill9(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill9()


def _wait(what: str, check: Callable[[], Any], timeout: float, logs: Callable[[], str]) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}\n{logs()}")
        time.sleep(0.1)


def _by_key(store: Storage, key: str) -> list[RunRecord]:
    return [r for r in store.list_runs(limit=1000) if r.tags.get("run_key") == key]


def _dbt_runs(store: Storage) -> list[RunRecord]:
    return [r for r in store.list_runs(limit=1000) if "event_totals" in r.asset_keys]


@pytest.fixture
def landing(tmp_path: Path) -> Iterator[Path]:
    root = tmp_path / "landing"
    shutil.copytree(PROJECT, root, ignore=shutil.ignore_patterns(".catchment", "target", "logs"))
    (root / "landing").mkdir()
    yield root
    # never leave a run behind: every launched run records its pid
    with contextlib.suppress(Exception):
        store = open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")
        for run in store.list_runs(limit=1000):
            if run.status == "started" and run.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(run.pid, signal.SIGKILL)
        store.close()


@pytest.mark.slow
@pytest.mark.timeout(170)
def test_a_new_folder_runs_its_hour_then_the_eager_dbt_model_once_across_a_kill_9(
    landing: Path,
) -> None:
    store = open_storage(f"sqlite:///{landing / '.catchment' / 'runs.db'}")
    daemons = [DaemonProcess(landing, 1)]

    def logs() -> str:
        runs = "\n".join(
            f"{r.run_id[:8]} {r.status} {r.asset_keys} {r.tags}" for r in store.list_runs()
        )
        files = sorted((landing / ".catchment" / "logs" / "runs").glob("*.log"))
        tails = "\n".join(f"--- {f.name}\n{f.read_text()[-1500:]}" for f in files)
        daemon_logs = "\n".join(f"--- {d.log.name}\n{d.output()[-3000:]}" for d in daemons)
        return f"{daemon_logs}\n--- runs\n{runs}\n{tails}"

    try:
        _wait("the daemon to take the lease", lambda: store.get_lease("daemon"), 60, logs)
        _wait("the sensor's first tick", lambda: store.list_ticks(kind="sensor"), 60, logs)

        hour = landing / "landing" / "2025" / "08" / "01" / "03"
        hour.mkdir(parents=True)
        (hour / "part-0.csv").write_text("id,amount\n1,10\n2,20\n")
        landed = time.time()

        (ingest,) = _wait("the sensor's run", lambda: _by_key(store, SENSOR_KEY), 30, logs)
        requested_after = ingest.created_at - landed
        # kill -9 while that run is in flight; it runs in a process of its own and goes on
        daemons[0].kill9()
        daemons.append(DaemonProcess(landing, 2))

        def ingested() -> bool:
            run = store.get_run(ingest.run_id)
            return run is not None and run.status not in ("queued", "starting", "started")

        _wait("the Sling run to finish", ingested, 90, logs)
        done = store.get_run(ingest.run_id)
        assert done is not None
        assert done.status == "success", logs()
        assert done.partition_keys == (HOUR_KEY,)
        (loaded,) = [
            e
            for e in store.events_for_run(ingest.run_id)
            if e.type.value == "materialization" and e.asset_key == "raw/events"
        ]
        assert loaded.partition == HOUR_KEY

        (dbt,) = _wait("the eager dbt run", lambda: _dbt_runs(store), 60, logs)
        # from the materialization, or from when the restarted daemon took over if Sling
        # finished while it was starting (then its first evaluation finds the update)
        lease = store.get_lease("daemon")
        assert lease is not None
        launched_after = dbt.created_at - max(loaded.timestamp, lease.acquired_at)

        def dbt_done() -> bool:
            run = store.get_run(dbt.run_id)
            return run is not None and run.status not in ("queued", "starting", "started")

        _wait("the dbt run to finish", dbt_done, 90, logs)
        assert store.get_run(dbt.run_id).status == "success", logs()  # type: ignore[union-attr]
        assert dbt.tags["origin"] == "automation"

        # a few more daemon steps: nothing is requested again
        seen = store.latest_event_seq()
        _wait(
            "another sensor tick",
            lambda: any(t.started_at > time.time() - 1 for t in store.list_ticks(kind="sensor")),
            30,
            logs,
        )
        time.sleep(1.5)
        assert store.latest_event_seq() >= seen
    finally:
        for d in daemons:
            d.stop()

    # each run key launched exactly once, counted in the record store
    assert len(_by_key(store, SENSOR_KEY)) == 1, logs()
    assert len(_dbt_runs(store)) == 1, logs()
    keys = [r.tags["run_key"] for r in store.list_runs(limit=1000) if "run_key" in r.tags]
    assert len(keys) == len(set(keys)) == len(store.list_runs(limit=1000))
    assert store.run_ids_for_keys(keys) == {
        r.tags["run_key"]: r.run_id for r in store.list_runs(limit=1000)
    }
    # the data went through: Sling loaded the hour, dbt summed it
    with duckdb.connect(str(landing / "warehouse.duckdb"), read_only=True) as con:
        assert con.execute("select events, amount from main.event_totals").fetchall() == [(2, 30)]
    # and it was quick: the sensor polls every second, automation is pushed
    assert requested_after < 15, requested_after
    assert launched_after < 5, launched_after
    print(
        f"folder -> run requested {requested_after:.2f}s; materialized -> dbt launched "
        f"{launched_after:.2f}s"
    )
    store.close()

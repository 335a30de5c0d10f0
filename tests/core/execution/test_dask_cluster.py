"""The dask executor on a REAL cluster: a `dask scheduler` and two `dask worker` processes
on 127.0.0.1 (free ports, one thread each, no nanny so a killed worker stays dead), a small
project of Sling, dbt (DuckDB) and Python assets, records in a per-test PostgreSQL database.

DuckDB takes one writer process at a time, so the project keeps its writers apart: Sling
writes raw.orders and dbt then reads it into order_totals (a dependency orders them), and the
Python assets store values with the filesystem IO manager, never in DuckDB. ``left`` and
``right`` wait for each other, so each worker has finished one of them before ``blocker``
(after all other steps but ``after``) starts and waits for the file ``release``: the test kills
the worker running it at a known moment, a worker that has finished a step. Real executions are
counted outside the record: Python computes append to executions.log, dbt's on-run-start hook
inserts a row per invocation, and Sling loads in snapshot mode (a second load adds rows).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from catchment.events import EventType
from catchment.storage import open_storage

from .dask_cluster import BIN, ENV, Cluster, wait_for

PROJECT = Path(__file__).parent / "dask_project"
PG_ADMIN = os.environ.get("CATCHMENT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.timeout(900)]


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test, dropped afterwards."""
    psycopg = pytest.importorskip("psycopg")
    name = f"catchment_dask_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def project(tmp_path: Path, pg_url: str) -> Path:
    root = tmp_path / "project"
    shutil.copytree(PROJECT, root)
    text = (root / "catchment.yaml").read_text()
    (root / "catchment.yaml").write_text(f"{text}defaults:\n  storage: {pg_url}\n")
    return root


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    c = Cluster(tmp_path / "cluster")
    try:
        yield c
    finally:
        c.stop()


def _catchment(root: Path, *args: str, out: Path) -> subprocess.Popen[bytes]:
    with open(out, "wb") as f:
        return subprocess.Popen(
            [str(Path(BIN) / "catchment"), *args, "-p", str(root)],
            stdout=f,
            stderr=subprocess.STDOUT,
            env=ENV,
            cwd=root,
        )


def _executions(root: Path) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for line in (root / "executions.log").read_text().splitlines():
        name, pid = line.split()
        out.setdefault(name, []).append(int(pid))
    return out


def _blocked_pid(root: Path, exclude: set[int] = frozenset()) -> int | None:  # type: ignore[assignment]
    for flag in root.glob("started-*"):
        pid = int(flag.read_text() or 0)
        if pid and pid not in exclude:
            return pid
    return None


def _warehouse_counts(root: Path) -> tuple[int, int]:
    """(dbt invocations, rows Sling loaded) read from the warehouse after the run."""
    import duckdb

    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        invocations = con.execute("select count(*) from main.dbt_invocations").fetchone()
        rows = con.execute("select count(*) from raw.orders").fetchone()
    assert invocations is not None
    assert rows is not None
    return int(invocations[0]), int(rows[0])


def _run_events(url: str, run_id: str | None = None) -> tuple[str, list]:  # type: ignore[type-arg]
    storage = open_storage(url)
    try:
        runs = storage.list_runs()
        run = next(r for r in runs if run_id is None or r.run_id == run_id)
        return run.run_id, storage.events_for_run(run.run_id)
    finally:
        storage.close()


def _started(events: list, step: str) -> int:  # type: ignore[type-arg]
    return sum(e.type is EventType.STEP_STARTED and e.step_key == step for e in events)


def test_worker_killed_mid_step_reruns_that_step_once_and_nothing_else(
    project: Path, cluster: Cluster, pg_url: str, tmp_path: Path
) -> None:
    yaml = project / "catchment.yaml"
    yaml.write_text(f"{yaml.read_text()}  executor: {{type: dask, address: '{cluster.address}'}}\n")
    out = tmp_path / "run.out"
    run = _catchment(project, "materialize", out=out)
    try:
        wait_for("blocker started", lambda: _blocked_pid(project) is not None, 600, run)
        pid = _blocked_pid(project)
        assert pid in {w.pid for w in cluster.workers}, "the step runs in a dask worker process"
        done_before = _executions(project)
        # left and right ran at once, so on both workers: the killed one has finished a step
        assert pid in done_before["left"] + done_before["right"], done_before
        assert done_before.get("prep")
        assert "after" not in done_before
        cluster.kill_worker(pid)  # SIGKILL mid-step
        (project / "release").touch()
        assert run.wait(timeout=600) == 0, out.read_text()
    finally:
        if run.poll() is None:
            run.kill()
    text = out.read_text()
    runs = _executions(project)
    assert len(runs["blocker"]) == 2, runs  # the killed attempt and exactly one re-run
    assert runs["blocker"][0] == pid
    assert runs["blocker"][1] != pid
    assert len(runs["prep"]) == 1, runs
    assert len(runs["after"]) == 1, runs
    assert _warehouse_counts(project) == (1, 3)  # dbt ran once, Sling loaded once
    _run_id, events = _run_events(pg_url)
    assert len(runs["left"]) == 1, runs
    assert len(runs["right"]) == 1, runs
    for step in ("prep", "left", "right", "ingest", "transform", "blocker", "after"):
        assert _started(events, step) == 1, step
    retries = [e for e in events if e.type is EventType.STEP_RETRY]
    assert [(e.step_key, e.data["error_class"]) for e in retries] == [("blocker", "WorkerDied")]
    finished = [e for e in events if e.type is EventType.STEP_FINISHED and e.step_key == "blocker"]
    assert finished[0].data["attempts"] == 2
    assert finished[0].data["status"] == "success"
    assert sum(e.type is EventType.MATERIALIZATION for e in events) == 7
    assert "blocker waiting on pid" in text  # logs streamed back from the workers
    assert "succeeded" in text


def test_lost_scheduler_fails_the_run_and_retry_resumes_on_a_new_cluster(
    project: Path, cluster: Cluster, pg_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "run.out"
    run = _catchment(project, "materialize", "--executor", f"dask:{cluster.address}", out=out)
    try:
        wait_for("blocker started", lambda: _blocked_pid(project) is not None, 600, run)
        first = _blocked_pid(project)
        cluster.kill_scheduler()  # mid-step
        cluster.stop()  # then the workers: the old cluster is gone
        assert run.wait(timeout=300) == 1, out.read_text()
    finally:
        if run.poll() is None:
            run.kill()
    text = out.read_text()
    assert "lost the Dask scheduler" in text, text
    assert "runs retry" in text
    assert "Traceback" not in text
    run_id, events = _run_events(pg_url)
    # the lost step's start was recorded while it ran (a running step is visible); it has
    # no end and no output, so the UI shows it interrupted and the retry runs it again
    assert _started(events, "blocker") == 1
    assert not [
        e
        for e in events
        if e.step_key == "blocker"
        and e.type in (EventType.STEP_FINISHED, EventType.MATERIALIZATION)
    ]
    (project / "release").touch()
    again = Cluster(tmp_path / "cluster2")
    try:
        out2 = tmp_path / "retry.out"
        retry = _catchment(
            project,
            "runs",
            "retry",
            run_id,
            "--from-failure",
            "--executor",
            f"dask:{again.address}",
            out=out2,
        )
        assert retry.wait(timeout=600) == 0, out2.read_text()
    finally:
        again.stop()
    runs = _executions(project)
    assert runs["blocker"][0] == first
    assert len(runs["blocker"]) == 2, runs
    assert len(runs["prep"]) == 1, runs  # finished steps were not re-run
    assert len(runs["left"]) == 1, runs
    assert len(runs["after"]) == 1, runs
    assert _warehouse_counts(project) == (1, 3)
    assert "succeeded" in out2.read_text()

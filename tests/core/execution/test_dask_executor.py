"""The dask executor refuses, before any cluster starts, what cannot cross machines, and the
core never imports Dask until the executor is used."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest
from catchment import asset
from catchment.errors import ExecutionError
from catchment.events import EventType
from catchment.execution.dask_executor import DaskExecutor, refuse_local_only
from catchment.execution.plan import build_plan
from catchment.execution.project import runtime_for_project
from catchment.execution.step import StepRuntime
from catchment.graph import AssetGraph
from catchment.io_managers import FilesystemIOManager
from catchment.project import Project, load_project
from catchment.resources import Resource


class Database(Resource):
    path: str


@asset(resources=["db"])
def uses_db(db: Database) -> int:
    return 1


def _runtime(tmp_path: Path, db: str) -> StepRuntime:
    graph = AssetGraph.build([uses_db])
    return StepRuntime(
        graph=graph,
        resources={"db": Database(path=db)},
        io_managers={"default": FilesystemIOManager(tmp_path)},
    )


def test_an_in_memory_resource_is_refused_naming_it(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, ":memory:")
    plan = build_plan(runtime.graph, None)
    with pytest.raises(ExecutionError, match="resource 'db' lives in memory") as caught:
        refuse_local_only(runtime, plan, "sqlite:////tmp/x.db", None)
    assert caught.value.where == "step uses_db"
    assert "DuckDB file path" in (caught.value.hint or "")
    refuse_local_only(_runtime(tmp_path, "/shared/db.duckdb"), plan, "sqlite:////tmp/x.db", None)


def test_a_sqlite_record_store_is_refused_for_a_remote_scheduler(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, "/shared/db.duckdb")
    plan = build_plan(runtime.graph, None)
    with pytest.raises(ExecutionError, match="SQLite file") as caught:
        refuse_local_only(runtime, plan, "sqlite:////tmp/x.db", "tcp://10.0.0.5:8786")
    assert "postgresql://" in (caught.value.hint or "")
    refuse_local_only(runtime, plan, "sqlite:////tmp/x.db", "tcp://127.0.0.1:8786")
    refuse_local_only(runtime, plan, "postgresql://u@db:5432/c", "tcp://10.0.0.5:8786")
    with pytest.raises(ExecutionError, match="in-memory record store"):
        refuse_local_only(runtime, plan, "sqlite:///:memory:", None)


def _one_asset_project(root: Path, io_manager: str) -> Project:
    (root / "catchment.yaml").write_text(
        "project: {name: m}\n"
        "components:\n  - {type: python, name: code, attributes: {module: assets.py}}\n"
        f"io_managers:\n  default: {io_manager}\n"
    )
    (root / "assets.py").write_text(
        "from catchment import asset\n\n@asset\ndef a():\n    return 1\n"
    )
    return load_project(root)


def test_the_memory_io_manager_is_refused_before_a_cluster_starts(tmp_path: Path) -> None:
    project = _one_asset_project(tmp_path, "{type: memory}")
    runtime = runtime_for_project(project)
    executor = DaskExecutor.for_project(project, address="tcp://127.0.0.1:1")
    with pytest.raises(ExecutionError, match="keeps values in memory") as caught:
        executor.open(runtime, build_plan(runtime.graph, None))
    assert caught.value.where == "asset a"
    assert executor._client is None  # refused before connecting


@pytest.mark.slow  # waits for the client's connect timeout
def test_an_unreachable_scheduler_is_one_clear_error(tmp_path: Path) -> None:
    project = _one_asset_project(tmp_path, "{type: filesystem, config: {base_dir: s}}")
    runtime = runtime_for_project(project)
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    executor = DaskExecutor.for_project(project, address=f"tcp://127.0.0.1:{port}")
    with pytest.raises(ExecutionError, match="could not reach the Dask scheduler") as caught:
        executor.open(runtime, build_plan(runtime.graph, None))
    assert "dask scheduler" in (caught.value.hint or "")


def test_import_catchment_does_not_import_dask() -> None:
    code = (
        "import sys, catchment, catchment.execution, catchment.execution.project;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.slow  # starts a LocalCluster in a catchment subprocess
def test_without_an_address_a_local_cluster_runs_the_steps(tmp_path: Path) -> None:
    project = _one_asset_project(tmp_path, "{type: filesystem, config: {base_dir: s}}")
    (tmp_path / "assets.py").write_text(
        "import os\nfrom catchment import asset\n\n"
        "@asset\ndef a(context):\n    context.log.info('a on %s', os.getpid())\n    return 1\n\n"
        "@asset\ndef b(a):\n    return a + 1\n"
    )
    catchment = Path(sys.executable).parent / "catchment"
    out = subprocess.run(
        [str(catchment), "materialize", "--executor", "dask", "-w", "2", "-p", str(project.root)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "a info: a on" in out.stdout  # the log came back from a worker process
    assert f"a on {os.getpid()}" not in out.stdout
    assert "2 materialized" in out.stdout


@pytest.mark.slow  # starts a Dask scheduler (in this process, no workers)
def test_a_scheduler_without_workers_fails_instead_of_hanging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catchment.execution import dask_executor
    from distributed import LocalCluster

    monkeypatch.setattr(dask_executor, "WORKER_WAIT_SECONDS", 1.0)
    project = _one_asset_project(tmp_path, "{type: filesystem, config: {base_dir: s}}")
    runtime = runtime_for_project(project)
    with LocalCluster(n_workers=0, processes=True, dashboard_address=None) as cluster:
        executor = DaskExecutor.for_project(project, address=cluster.scheduler_address)
        with pytest.raises(ExecutionError, match="no Dask worker connected") as caught:
            executor.open(runtime, build_plan(runtime.graph, None))
    assert "dask worker" in (caught.value.hint or "")
    assert executor._client is None  # closed


@pytest.mark.slow  # starts a LocalCluster of two worker processes in a catchment subprocess
def test_a_pool_limits_steps_on_the_cluster_too(tmp_path: Path) -> None:
    """Pool slots are claimed in the record store before a step goes to any executor, so two
    workers never run more steps of a one-slot pool at once (intervals written by the steps)."""
    (tmp_path / "catchment.yaml").write_text(
        "project: {name: m}\n"
        "pools: {warehouse: 1}\n"
        "components:\n"
        "  - {type: python, name: code, pool: warehouse, attributes: {module: assets.py}}\n"
        "io_managers:\n  default: {type: filesystem, config: {base_dir: s}}\n"
    )
    step = (
        "@asset\ndef {name}():\n"
        "    start = time.time()\n    time.sleep(1.0)\n"
        "    with open(LOG, 'a') as f:\n        f.write(f'{{start}} {{time.time()}}\\n')\n"
        "    return 1\n\n"
    )
    (tmp_path / "assets.py").write_text(
        "import time\nfrom pathlib import Path\nfrom catchment import asset\n\n"
        "LOG = Path(__file__).with_name('intervals')\n\n"
        + "".join(step.format(name=n) for n in ("a", "b", "c"))
    )
    catchment = Path(sys.executable).parent / "catchment"
    out = subprocess.run(
        [str(catchment), "materialize", "--executor", "dask", "-w", "2", "-p", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 materialized" in out.stdout
    spans = sorted(
        tuple(map(float, line.split()))
        for line in (tmp_path / "intervals").read_text().splitlines()
    )
    assert len(spans) == 3
    for (_, end), (start, _) in pairwise(spans):
        assert start >= end, f"two steps of a one-slot pool overlapped: {spans}"


# -- time limits on a real cluster (`dask scheduler` and `dask worker` subprocesses) ------------

TIMED_ASSETS = """
import os, time
from pathlib import Path
from catchment import RetryPolicy, asset

HERE = Path(__file__).parent


def mark(name):
    with open(HERE / "executions.log", "a") as f:
        f.write(f"{name} {os.getpid()} {time.time()}\\n")


@asset(timeout=1)
def spins():
    mark("spins")
    total = 0
    while True:
        try:
            total += sum(range(1000))
        except Exception:  # a broad handler must not swallow the time limit
            total = 0


@asset(timeout=1)
def sleeps():
    mark("sleeps")
    time.sleep(60)  # blocked in C: nothing raised in its thread reaches it
    return 1


@asset(timeout=1)
def dozes():
    mark("dozes")
    time.sleep(15)  # blocked in C, but it ends
    return 1


@asset
def quick():
    mark("quick")
    return 1


@asset(retry=RetryPolicy(max_retries=1))
def neighbour(context):
    mark("neighbour")
    if context.attempt == 0:
        time.sleep(60)  # still running on the worker when that worker is restarted
    return 1


@asset
def after(neighbour):
    mark("after")
    return neighbour + 1
"""


def _timed_project(root: Path) -> Path:
    root.mkdir()
    (root / "catchment.yaml").write_text(
        "project: {name: timed}\n"
        "components:\n  - {type: python, name: code, attributes: {module: assets.py}}\n"
        "io_managers:\n  default: {type: filesystem, config: {base_dir: store}}\n"
    )
    (root / "assets.py").write_text(TIMED_ASSETS)
    return root


def _materialize(
    root: Path, address: str, select: str
) -> tuple[subprocess.CompletedProcess[str], float]:
    from .dask_cluster import BIN, ENV

    start = time.monotonic()
    out = subprocess.run(
        [
            str(Path(BIN) / "catchment"),
            "materialize",
            "--executor",
            f"dask:{address}",
            "-p",
            str(root),
            "-s",
            select,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=ENV,
        cwd=root,
    )
    return out, time.monotonic() - start


def _marks(root: Path) -> dict[str, list[tuple[int, float]]]:
    out: dict[str, list[tuple[int, float]]] = {}
    for line in (root / "executions.log").read_text().splitlines():
        name, pid, at = line.split()
        out.setdefault(name, []).append((int(pid), float(at)))
    return out


def _last_run_events(root: Path) -> list:  # type: ignore[type-arg]
    from catchment.storage import open_storage

    storage = open_storage(load_project(root).defaults.storage_url)
    try:
        run = storage.list_runs()[0]
        return storage.events_for_run(run.run_id)
    finally:
        storage.close()


def _failed(events: list, key: str) -> dict:  # type: ignore[type-arg]
    (event,) = [e for e in events if e.type is EventType.ASSET_FAILED and e.asset_key == key]
    return dict(event.data)


@pytest.mark.slow  # a scheduler and a worker as subprocesses
@pytest.mark.timeout(300)
def test_a_python_loop_on_a_worker_is_interrupted_at_its_timeout(tmp_path: Path) -> None:
    """No restart needed (the worker has no nanny): the loop is interrupted in its thread,
    the step fails as timed out half a second past its deadline, and the same worker runs
    the next step."""
    from .dask_cluster import Cluster

    root = _timed_project(tmp_path / "p")
    cluster = Cluster(tmp_path / "cluster", workers=1, nanny=False)
    try:
        out, _ = _materialize(root, cluster.address, "spins")
        assert out.returncode == 1, out.stdout + out.stderr
        events = _last_run_events(root)
        failure = _failed(events, "spins")
        assert failure["error_class"] == "StepTimeout"
        assert "timed out after 1 s" in failure["message"]
        assert "did not stop" not in failure["message"]  # interrupted, not killed
        ((pid, started),) = _marks(root)["spins"]
        (failed_at,) = [e.timestamp for e in events if e.type is EventType.ASSET_FAILED]
        assert failed_at - started < 1 + 1.5, failed_at - started  # deadline + margin + ~1 s
        again, _ = _materialize(root, cluster.address, "quick")
        assert again.returncode == 0, again.stdout + again.stderr
        assert [p for p, _ in _marks(root)["quick"]] == [pid]  # the same, freed, worker
    finally:
        cluster.stop()


@pytest.mark.slow  # a scheduler and a nanny worker as subprocesses; the step is stuck ~12 s
@pytest.mark.timeout(300)
def test_a_step_stuck_in_c_past_its_timeout_has_its_worker_restarted(tmp_path: Path) -> None:
    """``time.sleep(60)`` in a task thread cannot be interrupted: 10 s after the deadline (and
    its half second) the step fails as timed out, the run goes on and ends, the worker is
    restarted through its nanny, and ``neighbour``, which ran on that same worker (2 threads),
    is run again with the reason as its lost attempt; ``after`` then runs on the new worker."""
    from .dask_cluster import Cluster

    root = _timed_project(tmp_path / "p")
    cluster = Cluster(tmp_path / "cluster", workers=1, nthreads=2, nanny=True)
    try:
        (old,) = cluster.worker_pids()
        out, took = _materialize(root, cluster.address, "sleeps or neighbour+")
        text = out.stdout + out.stderr
        assert out.returncode == 1, text
        assert took < 60, text  # the run ended long before the sleep would have
        events = _last_run_events(root)
        failure = _failed(events, "sleeps")
        assert failure["error_class"] == "StepTimeout"
        message = failure["message"]
        assert "timed out after 1 s and did not stop; restarting its Dask worker" in message
        assert f"(pid {old}) through its nanny" in message
        marks = _marks(root)
        ((pid, started),) = marks["sleeps"]
        assert pid == old
        (failed_at,) = [
            e.timestamp
            for e in events
            if e.type is EventType.ASSET_FAILED and e.asset_key == "sleeps"
        ]
        assert 1 + 10 < failed_at - started < 1 + 13, failed_at - started  # deadline + ~12 s
        said = [e.data["message"] for e in events if e.type is EventType.LOG]
        assert any(
            "still running 10 s past its 1 s timeout" in m and "neighbour" in m for m in said
        ), said
        # the neighbour: its first attempt died with the worker, the reason is recorded
        (retry,) = [e for e in events if e.type is EventType.STEP_RETRY]
        assert retry.step_key == "neighbour"
        assert retry.data["error_class"] == "WorkerDied"
        assert "was restarted: step sleeps ran there past its 1 s timeout" in retry.data["message"]
        assert marks["neighbour"][0][0] == old
        new = {p for p, _ in marks["neighbour"][1:] + marks["after"]}
        assert old not in new, marks  # run again, and after it, on the restarted worker
        assert "2 materialized" in text, text
        now = cluster.worker_pids()
        assert now, "the nanny started a new worker"
        assert old not in now
        assert cluster.workers[0].poll() is None  # the nanny is still there
    finally:
        cluster.stop()


@pytest.mark.slow  # a scheduler and a worker without a nanny as subprocesses; ~17 s
@pytest.mark.timeout(300)
def test_without_a_nanny_a_stuck_step_is_logged_and_awaited_not_restarted(
    tmp_path: Path,
) -> None:
    """Dask cannot restart a worker without a nanny (it would only shut it down): the
    engine says so and waits; the step fails as timed out when its compute returns."""
    from .dask_cluster import Cluster

    root = _timed_project(tmp_path / "p")
    cluster = Cluster(tmp_path / "cluster", workers=1, nanny=False)
    try:
        (old,) = cluster.worker_pids()
        out, took = _materialize(root, cluster.address, "dozes")
        assert out.returncode == 1, out.stdout + out.stderr
        assert took > 15  # waited for the compute
        assert "which has no nanny and so cannot be restarted" in out.stderr, out.stderr
        events = _last_run_events(root)
        failure = _failed(events, "dozes")
        assert failure["error_class"] == "StepTimeout"
        assert "timed out after 1 s" in failure["message"]
        assert "did not stop" not in failure["message"]
        said = [e.data["message"] for e in events if e.type is EventType.LOG]
        assert any("this Dask worker has no nanny, so it is not restarted" in m for m in said)
        assert cluster.worker_pids() == {old}  # the same worker, still there
    finally:
        cluster.stop()


# -- the engine's side of a stuck step, on a fake clock (no cluster) ------------------------------


class _Future:
    def __init__(self, key: str):
        self.key = key
        self.status = "pending"


class _Client:
    """What the executor asks the cluster about a stuck step, answered and recorded."""

    def __init__(self, processing: dict[str, list[str]]):
        self.answer = processing
        self.calls: list[tuple[str, list[str]]] = []
        self.asked = 0

    def processing(self, workers: list[str]) -> dict[str, list[str]]:
        self.asked += 1
        return self.answer

    def cancel(self, futures: list[_Future], force: bool = False) -> None:
        self.calls.append(("cancel", [f.key for f in futures]))

    def restart_workers(
        self, workers: list[str], timeout: float = 0, raise_for_error: bool = True
    ) -> dict[str, str]:
        self.calls.append(("restart", workers))
        return dict.fromkeys(workers, "OK")


def _stuck_executor(
    tmp_path: Path, *, nanny: bool, on_worker: list[str]
) -> tuple[DaskExecutor, _Client, list[float]]:
    """An executor with ``stuck`` (1 s timeout) and ``other`` (none) announced on worker w1."""
    import msgspec
    from catchment.execution.dask_worker import Running
    from catchment.execution.step import StepRequest

    executor = DaskExecutor(tmp_path, f"sqlite:///{tmp_path / 'runs.db'}", "v", address="x")
    now = [100.0]
    executor._clock = lambda: now[0]
    client = _Client({"tcp://w1": on_worker})
    executor._client = client
    for step, timeout in (("stuck", 1.0), ("other", None)):
        request = StepRequest(run_id="r", step=step, asset_keys=(step,), timeout=timeout)
        executor._futures[_Future(f"key-{step}")] = request
        running = Running(
            run_id="r", step=step, address="tcp://w1", pid=42, nanny=nanny, attempts=1, waits=0.0
        )
        executor._announced.put(msgspec.json.encode(running).decode())
    executor._note_placements()
    return executor, client, now


def test_a_step_still_running_10_s_past_its_deadline_restarts_its_worker(tmp_path: Path) -> None:
    from catchment.execution.dask_worker import RECEIVED, done_name, lost_name
    from catchment.storage import open_storage

    executor, client, now = _stuck_executor(
        tmp_path, nanny=True, on_worker=["key-stuck", "key-other"]
    )
    now[0] = 100.0 + 1 + 0.5 + 10 - 0.1
    assert executor._overdue() is None  # not yet
    now[0] += 0.2
    found = executor._overdue()
    assert found is not None
    step, events = found
    assert step == "stuck"
    failed = [e for e in events if e.type is EventType.ASSET_FAILED]
    assert failed[0].data["error_class"] == "StepTimeout"
    assert failed[0].data["message"] == (
        "timed out after 1 s and did not stop; restarting its Dask worker tcp://w1 (pid 42) "
        "through its nanny"
    )
    (log,) = [e for e in events if e.type is EventType.LOG]
    assert "also running there, run again per their retry policy: other" in log.data["message"]
    assert [r.step for r in executor._futures.values()] == ["other"]  # still awaited
    for thread in executor._restarts:
        thread.join(timeout=30)
    assert client.calls == [("cancel", ["key-stuck"]), ("restart", ["tcp://w1"])]
    storage = open_storage(executor.storage_url)
    try:
        cursors = storage.get_cursors([done_name("r", "stuck"), lost_name("r", "other")])
    finally:
        storage.close()
    assert cursors[done_name("r", "stuck")] == RECEIVED  # a re-execution would not run it
    assert (
        "was restarted: step stuck ran there past its 1 s timeout"
        in cursors[lost_name("r", "other")]
    )


def test_without_a_nanny_a_stuck_step_is_logged_once_and_awaited(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    executor, client, now = _stuck_executor(
        tmp_path, nanny=False, on_worker=["key-stuck", "key-other"]
    )
    now[0] = 200.0
    with caplog.at_level("WARNING"):
        assert executor._overdue() is None
        assert executor._overdue() is None
    (said,) = [r.getMessage() for r in caplog.records]
    assert "has no nanny and so cannot be restarted: waiting for the compute to return" in said
    assert len(executor._futures) == 2
    assert client.calls == []
    assert client.asked == 1  # the scheduler is not asked again every poll


def test_a_stuck_step_whose_worker_is_already_gone_is_left_to_dask(tmp_path: Path) -> None:
    executor, client, now = _stuck_executor(tmp_path, nanny=True, on_worker=[])
    now[0] = 200.0
    assert executor._overdue() is None  # Dask runs it again elsewhere; it announces anew
    assert "stuck" not in executor._placed
    assert client.calls == []

"""The dask executor refuses, before any cluster starts, what cannot cross machines, and the
core never imports Dask until the executor is used."""

from __future__ import annotations

import os
import subprocess
import sys
from itertools import pairwise
from pathlib import Path

import pytest
from catchment import asset
from catchment.errors import ExecutionError
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

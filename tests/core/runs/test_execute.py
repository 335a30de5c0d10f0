"""Queued runs: submitted once per run key, claimed once, executed by `catchment runs execute`
in a detached process of their own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from catchment.errors import CatchmentError
from catchment.runs import RunRequest
from catchment.runs.execute import RunNotQueued, execute_run
from catchment.runs.launch import SubprocessLauncher, run_log_path
from catchment.runs.submit import submit_run
from catchment.storage import Storage, open_storage

PROJECT = """\
project:
  name: queued
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

ASSETS = """\
import time
from pathlib import Path
from catchment import asset, StaticPartitions

HERE = Path(__file__).parent

@asset
def a():
    (HERE / "a_started").write_text("")
    while (HERE / "hold").exists():  # the test holds the run here
        time.sleep(0.05)
    return 1

@asset
def b(a):
    return a + 1

@asset(partitions=StaticPartitions(["eu", "us"]))
def regional(context):
    return context.partition_key
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    (root / "catchment.yaml").write_text(PROJECT)
    (root / "assets.py").write_text(ASSETS)
    return root


def _store(root: Path) -> Storage:
    return open_storage(f"sqlite:///{root / '.catchment' / 'runs.db'}")


def test_a_run_key_is_submitted_once(project: Path) -> None:
    store = _store(project)
    request = RunRequest(asset_keys=("a",), run_key="k1", origin="test")
    first = submit_run(store, request)
    second = submit_run(store, request)
    assert first.created
    assert (second.run_id, second.created) == (first.run_id, False)
    run = store.get_run(first.run_id)
    assert run is not None
    assert (run.status, run.tags["run_key"], run.tags["origin"]) == ("queued", "k1", "test")
    store.close()


def test_execute_runs_the_request_under_its_id_and_only_once(project: Path) -> None:
    store = _store(project)
    submitted = submit_run(
        store, RunRequest(selection="b", asset_keys=("a",), tags={"who": "me"}, origin="test")
    )
    result = execute_run(project, submitted.run_id)
    assert result.run_id == submitted.run_id
    assert result.success
    assert sorted(str(k) for k in result.materialized_keys) == ["a", "b"]
    run = store.get_run(submitted.run_id)
    assert run is not None
    assert (run.status, run.selection, run.tags["who"]) == ("success", "b", "me")
    assert len(store.list_runs()) == 1
    with pytest.raises(RunNotQueued, match="is success"):
        execute_run(project, submitted.run_id)
    store.close()


def test_a_request_the_project_cannot_plan_fails_the_run_with_the_reason(project: Path) -> None:
    store = _store(project)
    gone = submit_run(store, RunRequest(asset_keys=("no_such_asset",), origin="test"))
    with pytest.raises(CatchmentError, match="not in the project"):
        execute_run(project, gone.run_id)
    run = store.get_run(gone.run_id)
    assert run is not None
    assert run.status == "failure"
    assert "no_such_asset" in store.events_for_run(gone.run_id)[-1].data["error"]
    store.close()


def test_partitions_of_the_request_reach_the_run(project: Path) -> None:
    store = _store(project)
    submitted = submit_run(
        store, RunRequest(asset_keys=("regional",), partition_keys=("us",), origin="test")
    )
    result = execute_run(project, submitted.run_id)
    assert [e.partition for e in result.materializations] == ["us"]
    store.close()


@pytest.mark.slow
@pytest.mark.timeout(90)
def test_a_launched_run_outlives_the_process_that_launched_it(project: Path) -> None:
    """The launcher's process is killed with SIGKILL while the run goes on; the run, in its
    own session, finishes and is recorded."""
    store = _store(project)
    submitted = submit_run(store, RunRequest(asset_keys=("a", "b"), origin="test"))
    (project / "hold").write_text("")
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from catchment.storage import open_storage\n"
        "from catchment.runs.launch import SubprocessLauncher\n"
        f"store = open_storage('sqlite:///{project / '.catchment' / 'runs.db'}')\n"
        f"SubprocessLauncher(Path({str(project)!r})).launch(store.get_run({submitted.run_id!r}))\n"
        "print('launched', flush=True)\n"
        "time.sleep(120)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    assert parent.stdout.readline().strip() == "launched"
    deadline = time.monotonic() + 60
    while not (project / "a_started").exists():
        assert time.monotonic() < deadline, run_log_path(project, submitted.run_id).read_text()
        time.sleep(0.1)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    run = store.get_run(submitted.run_id)
    assert run is not None
    assert run.status == "started"
    assert run.pid is not None
    assert run.pid != parent.pid
    (project / "hold").unlink()
    deadline = time.monotonic() + 60
    while store.get_run(submitted.run_id).status == "started":  # type: ignore[union-attr]
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert store.get_run(submitted.run_id).status == "success"  # type: ignore[union-attr]
    store.close()


def test_the_launcher_command_and_log(project: Path) -> None:
    launcher = SubprocessLauncher(project, python="/usr/bin/python3")
    assert launcher.command("r1") == [
        "/usr/bin/python3",
        "-m",
        "catchment",
        "runs",
        "execute",
        "r1",
        "--project",
        str(project),
    ]
    assert run_log_path(project, "r1") == project / ".catchment" / "logs" / "runs" / "r1.log"


def test_a_run_canceled_while_its_project_loads_is_canceled_even_with_sigint_ignored(
    project: Path,
) -> None:
    """A process started with SIGINT ignored (as a test runner's worker or a shell's background
    job starts it) still hears a cancel during the project load: the run ends canceled."""
    (project / "assets.py").write_text(
        "import time\nfrom pathlib import Path\nHERE = Path(__file__).parent\n"
        "(HERE / 'loading').write_text('')\n"
        "while (HERE / 'hold').exists():\n    time.sleep(0.05)\n" + ASSETS
    )
    (project / "hold").write_text("")
    store = _store(project)
    submitted = submit_run(store, RunRequest(asset_keys=("b",), origin="test"))
    proc = subprocess.Popen(
        SubprocessLauncher(project).command(submitted.run_id),
        cwd=project,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    deadline = time.monotonic() + 60
    while not (project / "loading").exists():
        assert time.monotonic() < deadline
        assert proc.poll() is None
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGINT)  # what `runs cancel` sends
    (project / "hold").unlink()
    proc.wait(60)
    run = store.get_run(submitted.run_id)
    assert run is not None
    assert run.status == "canceled"
    store.close()


def test_a_run_canceled_while_its_sources_are_observed_is_canceled(project: Path) -> None:
    """A cancel (SIGINT: KeyboardInterrupt) that lands while a queued run observes the
    sources it reads, before its engine starts, still ends the run canceled."""
    (project / "vendor.py").write_text("def version():\n    raise KeyboardInterrupt\n")
    (project / "catchment.yaml").write_text(
        PROJECT + 'sources:\n  - {key: vendor/feed, observe: {python: "vendor:version"}}\n'
    )
    (project / "assets.py").write_text(
        ASSETS + '\n@asset(deps=["vendor/feed"])\ndef fed():\n    return 1\n'
    )
    store = _store(project)
    submitted = submit_run(store, RunRequest(asset_keys=("fed",), origin="test"))
    with pytest.raises(KeyboardInterrupt):
        execute_run(project, submitted.run_id)
    run = store.get_run(submitted.run_id)
    assert run is not None
    assert run.status == "canceled"
    store.close()

"""The Dask worker side without a cluster: the project is loaded once per version, attempts
are claimed in the record store (a died execution counts against the retry policy), and a
finished step's events are returned again instead of running it twice."""

from __future__ import annotations

import time
from pathlib import Path

import msgspec
import pytest
from catchment.errors import ExecutionError
from catchment.events import Event, EventType
from catchment.execution import dask_worker
from catchment.execution.dask_worker import (
    RECEIVED,
    claim_name,
    done_name,
    project_version,
    run_on_worker,
)
from catchment.execution.step import StepRequest
from catchment.project import load_project
from catchment.storage import open_storage

ASSETS = """
import time
from pathlib import Path
from catchment import RetryPolicy, asset

HERE = Path(__file__).parent

@asset(retry=RetryPolicy(max_retries={retries}))
def counted(context):
    with open(HERE / "ran.log", "a") as f:
        f.write("x\\n")
    context.log.info("counted ran")
    return 1
"""

_events = msgspec.json.Decoder(list[Event])


def _project(root: Path, retries: int = 1) -> tuple[str, str, str]:
    root.mkdir()
    (root / "catchment.yaml").write_text(
        "project: {name: w}\n"
        "components:\n  - {type: python, name: code, attributes: {module: assets.py}}\n"
        "io_managers:\n  default: {type: filesystem, config: {base_dir: store}}\n"
    )
    (root / "assets.py").write_text(ASSETS.replace("{retries}", str(retries)))
    project = load_project(root)
    return str(root), project_version(project), project.defaults.storage_url


def _run(root: str, version: str, url: str, run_id: str = "r1") -> list[Event]:
    request = StepRequest(run_id=run_id, step="counted", asset_keys=("counted",))
    raw = run_on_worker(root, version, "topic", msgspec.json.encode(request))
    return _events.decode(raw)


def _died_at_attempt_0(url: str) -> None:
    """An execution that claimed attempt 0, then died with its worker."""
    storage = open_storage(url)
    try:
        assert storage.acquire_lease(claim_name("r1", "counted", 0), "dead", time.time(), 3600.0)
    finally:
        storage.close()


def _ran(root: str) -> int:
    log = Path(root) / "ran.log"
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture(autouse=True)
def _fresh_cache():
    dask_worker._cache.clear()
    yield
    for loaded in dask_worker._cache.values():
        loaded.storage.close()
    dask_worker._cache.clear()


def test_a_finished_step_is_answered_from_the_record_store_not_run_again(tmp_path: Path) -> None:
    root, version, url = _project(tmp_path / "p")
    first = _run(root, version, url)
    again = _run(root, version, url)  # what Dask does when it lost the finished result
    assert _ran(root) == 1
    assert [e.type for e in again] == [e.type for e in first]
    assert any(e.type is EventType.MATERIALIZATION for e in first)
    storage = open_storage(url)
    try:
        assert storage.get_lease(claim_name("r1", "counted", 0)) is None  # released
        storage.set_cursors({done_name("r1", "counted"): RECEIVED}, 0.0)
    finally:
        storage.close()
    assert _run(root, version, url) == []  # received by the engine: still not run


def test_a_died_attempt_counts_against_the_retry_policy(tmp_path: Path) -> None:
    root, version, url = _project(tmp_path / "p", retries=1)
    _died_at_attempt_0(url)
    events = _run(root, version, url)
    assert _ran(root) == 1
    retries = [e for e in events if e.type is EventType.STEP_RETRY]
    assert [(r.data["attempt"], r.data["error_class"]) for r in retries] == [(1, "WorkerDied")]
    assert any(e.type is EventType.MATERIALIZATION for e in events)


def test_no_retry_left_fails_the_step_without_running_it(tmp_path: Path) -> None:
    root, version, url = _project(tmp_path / "p", retries=0)
    _died_at_attempt_0(url)
    events = _run(root, version, url)
    assert _ran(root) == 0
    failed = [e for e in events if e.type is EventType.STEP_FAILED]
    assert failed[0].data["error_class"] == "WorkerDied"
    assert "no retry is allowed" in failed[0].data["message"]
    assert any(e.type is EventType.ASSET_FAILED and e.asset_key == "counted" for e in events)


def test_the_project_is_loaded_once_per_version(tmp_path: Path, monkeypatch) -> None:
    root, version, url = _project(tmp_path / "p")
    loads: list[Path] = []
    real = dask_worker.__dict__.get("load_project")
    assert real is None  # imported lazily, on first use
    import catchment.project as project_module

    original = project_module.load_project

    def counting(path: Path, **kw: object):
        loads.append(path)
        return original(path)

    monkeypatch.setattr(project_module, "load_project", counting)
    _run(root, version, url, "r1")
    _run(root, version, url, "r2")
    assert len(loads) == 1


def test_a_worker_with_another_project_version_says_so(tmp_path: Path) -> None:
    root, _, url = _project(tmp_path / "p")
    with pytest.raises(ExecutionError, match="install the same project") as caught:
        _run(root, "0000000000000000", url)
    assert "the run needs 0000000000000000" in caught.value.message


def test_a_lost_attempt_records_the_engines_reason_when_it_left_one(tmp_path: Path) -> None:
    root, version, url = _project(tmp_path / "p", retries=1)
    _died_at_attempt_0(url)
    why = "its Dask worker tcp://w1 was restarted: step stuck ran there past its 1 s timeout"
    storage = open_storage(url)
    try:
        storage.set_cursors({dask_worker.lost_name("r1", "counted"): why}, time.time())
    finally:
        storage.close()
    events = _run(root, version, url)
    (retry,) = [e for e in events if e.type is EventType.STEP_RETRY]
    assert retry.data["message"] == why
    assert any(e.type is EventType.MATERIALIZATION for e in events)
    storage = open_storage(url)
    try:  # said once: a later loss has its own cause
        assert not storage.get_cursors([dask_worker.lost_name("r1", "counted")]).get(
            dask_worker.lost_name("r1", "counted")
        )
    finally:
        storage.close()


def test_a_python_loop_in_a_task_thread_fails_as_timed_out(tmp_path: Path) -> None:
    """As on a Dask worker: the step runs in a thread that is not the main one."""
    import threading

    root, _, _ = _project(tmp_path / "p")
    (tmp_path / "p" / "assets.py").write_text(
        "import time\nfrom catchment import asset\n\n"
        "@asset(timeout=0.2)\ndef counted():\n"
        "    end = time.monotonic() + 30\n"
        "    while time.monotonic() < end:\n"
        "        try:\n            sum(range(100))\n"
        "        except Exception:\n            pass\n"
        "    return 1\n"
    )
    version = project_version(load_project(tmp_path / "p"))
    found: list[list[Event]] = []
    start = time.monotonic()
    request = StepRequest(run_id="r1", step="counted", asset_keys=("counted",), timeout=0.2)

    def task() -> None:
        raw = run_on_worker(root, version, "topic", msgspec.json.encode(request))
        found.append(_events.decode(raw))

    thread = threading.Thread(target=task)
    thread.start()
    thread.join(timeout=30)
    assert time.monotonic() - start < 5
    (events,) = found
    failed = [e for e in events if e.type is EventType.STEP_FAILED]
    assert failed[0].data["error_class"] == "StepTimeout"
    assert "timed out after 0.2 s" in failed[0].data["message"]

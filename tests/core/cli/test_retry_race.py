"""Two retries of one run at once: the record store lets exactly one claim the parent
(atomically, on SQLite and PostgreSQL); the other is refused naming the first. Also through
the CLI: two concurrent `catchment runs retry RUN --from-failure` processes, one runs."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from catchment.storage import RunRecord, Storage, open_storage
from catchment.storage.base import HOSTNAME

PG_URL = os.environ.get("CATCHMENT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=[pytest.mark.postgres]),
    ]
)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'runs.db'}"
        return
    pytest.importorskip("psycopg")
    url = f"{PG_URL}?schema=catchment_test_{uuid.uuid4().hex[:12]}"
    store = open_storage(url)
    try:
        yield url
    finally:
        store.drop_schema()  # type: ignore[attr-defined]
        store.close()


def _retry(parent: str) -> RunRecord:
    return RunRecord(run_id=uuid.uuid4().hex, pid=os.getpid(), host=HOSTNAME, parent_run_id=parent)


def test_one_of_many_concurrent_retries_claims_the_parent(store_url: str) -> None:
    setup = open_storage(store_url)
    setup.create_run(RunRecord(run_id="parent", status="failure"))
    setup.close()
    results: list[tuple[str, str | None]] = []
    gate = threading.Barrier(8)

    def claim() -> None:
        store: Storage = open_storage(store_url)  # one connection per contender
        try:
            retry = _retry("parent")
            gate.wait()
            results.append((retry.run_id, store.claim_retry("parent", retry)))
        finally:
            store.close()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    winners = [run_id for run_id, holder in results if holder is None]
    assert len(results) == 8
    assert len(winners) == 1
    assert {holder for _, holder in results if holder is not None} == set(winners)
    store = open_storage(store_url)
    try:
        won = store.get_run(winners[0])
        assert won is not None
        assert won.status == "started"
        assert [r.run_id for r in store.list_runs() if r.parent_run_id == "parent"] == winners
    finally:
        store.close()


def test_a_finished_retry_lets_the_parent_be_retried_again(store_url: str) -> None:
    store = open_storage(store_url)
    try:
        store.create_run(RunRecord(run_id="parent", status="failure"))
        first = _retry("parent")
        assert store.claim_retry("parent", first) is None
        assert store.claim_retry("parent", _retry("parent")) == first.run_id
        store.update_run_status(first.run_id, "failure")
        again = _retry("parent")
        assert store.claim_retry("parent", again) is None
        assert store.claim_retry("parent", _retry("parent")) == again.run_id
    finally:
        store.close()


PROJECT = """\
project: {name: race}
components:
  - type: python
    name: jobs
    attributes: {module: jobs.py}
io_managers:
  default: {type: filesystem}
"""

JOBS = """\
import os, time
from pathlib import Path
from catchment import asset

HERE = Path(__file__).parent

@asset
def slow():
    with (HERE / "ran.log").open("a") as f:
        f.write(f"slow {os.getpid()}\\n")
    if (HERE / "fail.flag").exists():
        raise RuntimeError("first run fails")
    (HERE / "started.flag").touch()
    while (HERE / "hold.flag").exists():
        time.sleep(0.05)
    return 1
"""


def _cli(root: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CATCHMENT_")}
    return subprocess.Popen(
        [sys.executable, "-m", "catchment", *args],
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_two_concurrent_cli_retries_of_one_run_run_once(tmp_path: Path) -> None:
    (tmp_path / "catchment.yaml").write_text(PROJECT)
    (tmp_path / "jobs.py").write_text(JOBS)
    (tmp_path / "fail.flag").touch()
    first = _cli(tmp_path, "materialize")
    assert first.wait(120) == 1, first.communicate()
    store = open_storage(f"sqlite:///{tmp_path / '.catchment' / 'runs.db'}")
    (failed,) = store.list_runs()
    store.close()
    (tmp_path / "fail.flag").unlink()
    (tmp_path / "hold.flag").touch()
    a = _cli(tmp_path, "runs", "retry", failed.run_id, "--from-failure")
    deadline = time.monotonic() + 60
    while not (tmp_path / "started.flag").exists():
        assert a.poll() is None, a.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    b = _cli(tmp_path, "runs", "retry", failed.run_id, "--from-failure")
    b_out, b_err = b.communicate(timeout=120)
    (tmp_path / "hold.flag").unlink()
    a_out, a_err = a.communicate(timeout=120)
    assert a.returncode == 0, a_out + a_err
    assert b.returncode == 1, b_out + b_err
    store = open_storage(f"sqlite:///{tmp_path / '.catchment' / 'runs.db'}")
    (retry,) = [r for r in store.list_runs() if r.parent_run_id == failed.run_id]
    store.close()
    assert f"already being retried by run {retry.run_id}" in b_err
    assert (tmp_path / "ran.log").read_text().count("slow") == 2  # the failure and one retry

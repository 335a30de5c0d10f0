"""The run queue, pools and schema version 3 on both stores: order, limits under 8 concurrent
processes, leases of killed runs, cancel, and the upgrade of a version 2 store."""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from catchment.events import EventType
from catchment.storage import SCHEMA_VERSION, RunRecord, Storage, open_storage
from catchment.storage.base import HOSTNAME
from catchment.storage.queue import PoolClaim, QueueLimits, TagLimit

PG_URL = os.environ.get("CATCHMENT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BACKENDS = [
    pytest.param("sqlite"),
    pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow]),
]


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh store's URL on each backend (dropped afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'runs.db'}"
        return
    schema = f"catchment_q_{uuid.uuid4().hex[:12]}"
    found = f"{PG_URL}?schema={schema}"
    yield found
    store = open_storage(found)
    store.drop_schema()  # type: ignore[attr-defined]
    store.close()


@pytest.fixture
def store(url: str) -> Iterator[Storage]:
    s = open_storage(url)
    yield s
    s.close()


def _queue(store: Storage, run_id: str, at: float, **tags: str) -> None:
    store.submit_run(RunRecord(run_id=run_id, status="queued", created_at=at, tags=tags))


def test_runs_start_by_priority_then_age_within_the_run_limit(store: Storage) -> None:
    _queue(store, "old", 1.0)
    _queue(store, "backfill", 0.5, priority="-10")
    _queue(store, "urgent", 3.0, priority="5")
    _queue(store, "new", 2.0)
    first = store.dequeue(QueueLimits(max_concurrent_runs=2), now=10.0)
    assert [r.run_id for r in first.started] == ["urgent", "old"]
    assert {d.run_id: d.reason for d in first.decisions if d.action == "wait"} == {
        "new": "max concurrent runs reached: 2/2",
        "backfill": "max concurrent runs reached: 2/2",
    }
    entries = store.queue_entries()
    assert [(e.run_id, e.status, e.position) for e in entries] == [
        ("urgent", "starting", None),
        ("old", "starting", None),
        ("new", "queued", 1),
        ("backfill", "queued", 2),
    ]
    assert entries[2].wait_reason == "max concurrent runs reached: 2/2"
    # a second dequeue starts nothing while both still run
    assert store.dequeue(QueueLimits(max_concurrent_runs=2), now=11.0).started == []
    store.claim_run("urgent", os.getpid(), HOSTNAME, 12.0)
    store.update_run_status("urgent", "success")
    assert [r.run_id for r in store.dequeue(QueueLimits(max_concurrent_runs=2), 13).started] == [
        "new"
    ]


def test_a_teams_limit_holds_back_its_runs_but_not_the_others(store: Storage) -> None:
    for i in range(5):
        _queue(store, f"fin{i}", float(i), team="finance")
    _queue(store, "mkt", 9.0, team="marketing")
    limits = QueueLimits(tag_limits=(TagLimit(key="team", value="finance", limit=2),))
    result = store.dequeue(limits, now=10.0)
    assert [r.run_id for r in result.started] == ["fin0", "fin1", "mkt"]
    waits = {d.run_id: d.reason for d in result.decisions if d.action == "wait"}
    assert waits["fin2"] == "tag team=finance full: 2/2"
    # per value (no value given): each team has its own limit of 1
    _queue(store, "mkt2", 10.0, team="marketing")
    per_value = QueueLimits(tag_limits=(TagLimit(key="team", limit=1),))
    again = store.dequeue(per_value, now=11.0)
    assert again.started == []
    assert {d.reason for d in again.decisions} == {
        "tag team=finance full: 2/1",
        "tag team=marketing full: 1/1",
    }


def test_cancel_stops_queued_runs_at_once_and_running_ones_through_canceling(
    store: Storage,
) -> None:
    _queue(store, "q", 1.0)
    _queue(store, "r", 2.0)
    store.dequeue(QueueLimits(), now=3.0)
    _queue(store, "q2", 4.0)
    assert store.cancel_run("q2", now=5.0) == "canceled"
    (finished,) = store.events_for_run("q2", [EventType.RUN_FINISHED])
    assert finished.run_finished.status == "canceled"
    assert store.cancel_run("q", now=5.0) == "canceled"  # starting, never claimed
    assert not store.claim_run("q", os.getpid(), HOSTNAME, 6.0)  # its process finds it gone
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert store.claim_run("r", child.pid, HOSTNAME, 6.0)
        assert store.cancel_run("r", now=7.0) == "canceling"
        assert store.finish_canceling(now=8.0) == []  # its process is still alive
        child.send_signal(signal.SIGKILL)
        child.wait()
        assert store.finish_canceling(now=9.0) == ["r"]
    finally:
        child.kill()
    statuses = {r.run_id: r.status for r in store.list_runs()}
    assert statuses == {"q": "canceled", "q2": "canceled", "r": "canceled"}
    assert store.cancel_run("r", now=10.0) is None  # already ended
    assert store.queue_entries() == []


def _claim(
    pool: str, run_id: str, step: str, now: float, slots: int = 1, **kw: object
) -> PoolClaim:
    return PoolClaim(
        claim_id=f"{run_id}:{step}",
        pool=pool,
        run_id=run_id,
        step_key=step,
        slots=slots,
        claimed_at=now,
        expires_at=now,
        **kw,  # type: ignore[arg-type]
    )


def test_pool_slots_are_limited_released_and_never_negative(store: Storage) -> None:
    store.create_run(RunRecord(run_id="r1", pid=os.getpid(), host=HOSTNAME))
    grant = store.claim_pool_slots(_claim("warehouse", "r1", "a", 1.0, slots=2), 3, ttl=60)
    assert (grant.granted, grant.used, grant.limit) == (True, 2, 3)
    full = store.claim_pool_slots(_claim("warehouse", "r1", "b", 2.0, slots=2), 3, ttl=60)
    assert (full.granted, full.reason) == (False, "pool warehouse full: 2/3")
    store.set_pool("warehouse", 4)  # the stored limit wins over the project's default
    assert store.claim_pool_slots(_claim("warehouse", "r1", "b", 3.0, slots=2), 3, ttl=60).granted
    (info,) = store.pools(now=4.0)
    assert (info.name, info.limit, info.used, len(info.claims)) == ("warehouse", 4, 4, 2)
    assert store.release_pool_slots(["r1:a", "r1:b"]) == 2
    assert store.release_pool_slots(["r1:a"]) == 0  # a second release frees nothing more
    assert store.pools(now=5.0)[0].used == 0
    # a claim of a run that ended is dropped by the next claim
    store.claim_pool_slots(_claim("warehouse", "r1", "c", 6.0, slots=4), None, ttl=60)
    store.update_run_status("r1", "failure")
    store.create_run(RunRecord(run_id="r2", pid=os.getpid(), host=HOSTNAME))
    assert store.claim_pool_slots(
        _claim("warehouse", "r2", "a", 7.0, slots=4), None, ttl=60
    ).granted


def test_a_killed_runs_slots_are_free_again_within_the_lease(store: Storage) -> None:
    store.set_pool("gpu", 1)
    store.create_run(RunRecord(run_id="far", pid=1, host="another-host"))
    store.create_run(RunRecord(run_id="near", pid=os.getpid(), host=HOSTNAME))
    # on another host only the lease tells: free once it lapses (60 s without heartbeat)
    assert store.claim_pool_slots(_claim("gpu", "far", "s", 100.0, host="another-host"), None, 60)
    assert not store.claim_pool_slots(_claim("gpu", "near", "s", 159.0), None, 60).granted
    assert store.claim_pool_slots(_claim("gpu", "near", "s", 160.5), None, 60).granted
    store.release_pool_slots(["near:s"])
    # on this host a SIGKILLed holder is seen at once
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    held = _claim("gpu", "near", "killed", 200.0, pid=child.pid, host=HOSTNAME)
    assert store.claim_pool_slots(held, None, 60).granted
    assert not store.claim_pool_slots(_claim("gpu", "near", "t", 201.0), None, 60).granted
    child.send_signal(signal.SIGKILL)
    child.wait()
    assert store.claim_pool_slots(_claim("gpu", "near", "t", 202.0), None, 60).granted
    assert store.pools(now=202.0)[0].used == 1


# -- 8 processes at once ---------------------------------------------------------------------


def _run_worker(url: str, out: multiprocessing.Queue[tuple[float, float]], budget: float) -> None:
    """Dequeue under the limits, hold each started run a moment, finish it; until the
    queue is empty (or ``budget`` seconds passed)."""
    store = open_storage(url)
    limits = QueueLimits(
        max_concurrent_runs=3, tag_limits=(TagLimit(key="team", value="finance", limit=1),)
    )
    deadline = time.monotonic() + budget
    while time.monotonic() < deadline and store.queue_entries(limit=1):
        for run in store.dequeue(limits, now=time.time()).started:
            store.claim_run(run.run_id, os.getpid(), HOSTNAME, time.time())
            began = time.time()
            time.sleep(0.02)
            ended = time.time()
            store.update_run_status(run.run_id, "success")
            out.put((began, ended, run.tags.get("team", "")))  # type: ignore[arg-type]
        time.sleep(0.005)
    store.close()


def _pool_worker(url: str, out: multiprocessing.Queue[tuple[float, float]], n: int) -> None:
    """Claim 1 slot of pool ``p`` (limit 2) n times, hold it a moment, release it."""
    store = open_storage(url)
    run_id = f"w{os.getpid()}"
    store.create_run(RunRecord(run_id=run_id, pid=os.getpid(), host=HOSTNAME))
    done = 0
    while done < n:
        claim = _claim("p", run_id, str(done), time.time(), pid=os.getpid(), host=HOSTNAME)
        if store.claim_pool_slots(claim, 2, ttl=60).granted:
            began = time.time()
            time.sleep(0.01)
            ended = time.time()
            store.release_pool_slots([claim.claim_id])
            out.put((began, ended))
            done += 1
        else:
            time.sleep(0.002)
    store.update_run_status(run_id, "success")  # its run no longer counts against the queue
    store.close()


def _most_at_once(intervals: list[tuple[float, float]]) -> int:
    points = sorted([(a, 1) for a, _ in intervals] + [(b, -1) for _, b in intervals])
    most = now = 0
    for _, delta in points:
        now += delta
        most = max(most, now)
    return most


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_eight_processes_never_exceed_the_run_tag_or_pool_limits(store: Storage, url: str) -> None:
    for i in range(40):
        _queue(store, f"r{i:02d}", float(i), team="finance" if i % 2 else "ops")
    ctx = multiprocessing.get_context("spawn")
    out: multiprocessing.Queue[tuple[float, float]] = ctx.Queue()
    workers = [ctx.Process(target=_run_worker, args=(url, out, 100.0)) for _ in range(8)]
    workers += [ctx.Process(target=_pool_worker, args=(url, out, 5)) for _ in range(8)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(150)
        assert w.exitcode == 0
    got = []
    while len(got) < 40 + 8 * 5:
        try:
            got.append(out.get(timeout=5))
        except Exception:
            statuses = sorted((r.run_id, r.status) for r in store.list_runs(limit=200))
            raise AssertionError((len(got), got, statuses)) from None
    runs = [x for x in got if len(x) == 3]
    pools = [x for x in got if len(x) == 2]
    assert len(runs) == 40  # every run started exactly once
    assert len(pools) == 40
    assert _most_at_once([(a, b) for a, b, _ in runs]) <= 3
    assert _most_at_once([(a, b) for a, b, t in runs if t == "finance"]) <= 1
    assert _most_at_once(pools) <= 2
    assert {r.status for r in store.list_runs(limit=100) if r.run_id.startswith("r")} == {"success"}


# -- schema version 3 ------------------------------------------------------------------------


def test_a_version_2_store_gets_its_queued_runs_into_the_queue(url: str) -> None:
    store = open_storage(url)
    _queue(store, "left", 1.0)
    store._write(lambda cur: cur.execute("DROP TABLE run_queue"))  # type: ignore[attr-defined]
    store._write(lambda cur: cur.execute("UPDATE schema_version SET version = 2"))  # type: ignore[attr-defined]
    assert store.schema_version() == 2
    store.close()
    upgraded = open_storage(url)
    try:
        assert upgraded.schema_version() == SCHEMA_VERSION
        assert [(e.run_id, e.position) for e in upgraded.queue_entries()] == [("left", 1)]
        assert [r.run_id for r in upgraded.dequeue(QueueLimits(), now=2.0).started] == ["left"]
    finally:
        upgraded.close()

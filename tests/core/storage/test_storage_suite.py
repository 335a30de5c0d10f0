"""One suite, two backends: SQLite (always) and PostgreSQL on 127.0.0.1:5432 (marked)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from catchment.events import Event, EventType
from catchment.keys import AssetKey
from catchment.storage import (
    SCHEMA_VERSION,
    RunRecord,
    Storage,
    StorageError,
    open_storage,
)
from catchment.storage.base import HOSTNAME

PG_URL = os.environ.get("CATCHMENT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow]),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    if request.param == "sqlite":
        s = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
        yield s
        s.close()
        return
    from catchment.storage.postgres import PostgresStorage

    schema = f"catchment_test_{uuid.uuid4().hex[:12]}"
    s = open_storage(f"{PG_URL}?schema={schema}")
    assert isinstance(s, PostgresStorage)
    try:
        yield s
    finally:
        s.drop_schema()
        s.close()


def _run(run_id: str, **kw: object) -> RunRecord:
    return RunRecord(run_id=run_id, pid=os.getpid(), host=HOSTNAME, **kw)  # type: ignore[arg-type]


def _mat(run_id: str, key: str, version: str, partition: str | None = None) -> Event:
    return Event(
        run_id=run_id,
        type=EventType.MATERIALIZATION,
        asset_key=key,
        partition=partition,
        step_key=key,
        data={"code_version": "c1", "data_version": version, "input_versions": {"up": "u1"}},
    )


def test_schema_version_is_recorded(store: Storage) -> None:
    assert store.schema_version() == SCHEMA_VERSION


def test_runs_round_trip_and_list_newest_first(store: Storage) -> None:
    store.create_run(_run("r1", selection="a", asset_keys=("a",), tags={"t": "1"}))
    store.create_run(_run("r2", parent_run_id="r1", created_at=time.time() + 1))
    r1 = store.get_run("r1")
    assert r1 is not None
    assert (r1.status, r1.selection, r1.asset_keys, r1.tags) == ("started", "a", ("a",), {"t": "1"})
    assert r1.heartbeat_at is not None
    assert [r.run_id for r in store.list_runs()] == ["r2", "r1"]
    store.update_run_status("r1", "success")
    assert [r.run_id for r in store.list_runs(status="success")] == ["r1"]
    done = store.get_run("r1")
    assert done is not None
    assert done.finished_at is not None
    assert store.get_run("nope") is None
    assert store.list_runs(limit=1)[0].run_id == "r2"


def test_append_assigns_increasing_seq_and_filters_by_type(store: Storage) -> None:
    store.create_run(_run("r1"))
    batch = [
        Event(run_id="r1", type=EventType.RUN_STARTED),
        _mat("r1", "a", "v1"),
        Event(run_id="r1", type=EventType.LOG, data={"level": "info", "message": "hi"}),
    ]
    store.append_events(batch)
    seqs = [e.seq for e in batch]
    assert all(s is not None for s in seqs)
    assert seqs == sorted(seqs)
    assert len(set(seqs)) == 3
    store.append_events([Event(run_id="r1", type=EventType.RUN_FINISHED)])
    events = store.events_for_run("r1")
    assert [e.type for e in events] == [
        EventType.RUN_STARTED,
        EventType.MATERIALIZATION,
        EventType.LOG,
        EventType.RUN_FINISHED,
    ]
    assert events[1].data["input_versions"] == {"up": "u1"}
    assert [e.type for e in store.events_for_run("r1", types=[EventType.LOG])] == [EventType.LOG]
    assert store.events_for_run("other") == []
    after = store.events_for_run("r1", after=seqs[1] or 0)
    assert [e.type for e in after] == [EventType.LOG, EventType.RUN_FINISHED]
    assert store.events_for_run("r1", types=[EventType.LOG], after=seqs[2] or 0) == []


def test_latest_materializations_per_asset_and_partition(store: Storage) -> None:
    store.create_run(_run("r1"))
    store.append_events([_mat("r1", "a", "v1"), _mat("r1", "b", "b1")])
    store.append_events([_mat("r1", "a", "v2")])
    store.append_events([_mat("r1", "p", "p1", "2024-01-01"), _mat("r1", "p", "p2", "2024-01-02")])
    store.append_events([_mat("r1", "p", "p3", "2024-01-01")])
    latest = store.latest_materializations()
    assert latest[AssetKey("a")].data_version == "v2"
    assert latest[AssetKey("p")].data_version == "p3"
    assert latest[AssetKey("a")].code_version == "c1"
    only = store.latest_materializations([AssetKey("b"), AssetKey("missing")])
    assert set(only) == {AssetKey("b")}
    by_part = store.latest_materializations_by_partition(AssetKey("p"))
    assert {k: v.data_version for k, v in by_part.items()} == {
        "2024-01-01": "p3",
        "2024-01-02": "p2",
    }
    assert store.latest_materializations_by_partition(AssetKey("a"))[None].data_version == "v2"


def test_partition_materializations_in_one_query_however_many_keys(store: Storage) -> None:
    store.create_run(_run("r1"))
    store.append_events([_mat("r1", "u", "u1"), _mat("r1", "p", "p1", "2024-01-01")])
    store.append_events([_mat("r1", "p", "p2", "2024-01-02"), _mat("r1", "p", "p3", "2024-01-01")])
    store.append_events([_mat("r1", f"k{i}", "x", "2024-01-01") for i in range(600)])
    reads = store.reads  # type: ignore[attr-defined]
    got = store.partition_materializations([AssetKey("p"), AssetKey("u"), AssetKey("none")])
    assert {k.to_string(): {p: r.data_version for p, r in v.items()} for k, v in got.items()} == {
        "p": {"2024-01-01": "p3", "2024-01-02": "p2"},
        "u": {None: "u1"},
    }
    only_first = store.partition_materializations([AssetKey("p")], partitions=["2024-01-01"])
    assert {p: r.data_version for p, r in only_first[AssetKey("p")].items()} == {"2024-01-01": "p3"}
    many = [AssetKey(f"k{i}") for i in range(550)]  # past the IN-list limit: filtered on rows
    days = [f"2024-01-{d:02}" for d in range(1, 30)]
    got = store.partition_materializations(many, partitions=days)
    assert set(got) == set(many)
    assert store.latest_materializations(many).keys() == set(many)
    assert store.reads - reads == 4  # type: ignore[attr-defined]


def test_check_history_newest_first(store: Storage) -> None:
    store.create_run(_run("r1"))
    for i, passed in enumerate([True, False, True]):
        store.append_events(
            [
                Event(
                    run_id="r1",
                    type=EventType.CHECK_EVALUATED,
                    asset_key="a",
                    data={"check_name": "not_null", "passed": passed, "severity": "error", "i": i},
                ),
                Event(
                    run_id="r1",
                    type=EventType.CHECK_EVALUATED,
                    asset_key="a",
                    data={"check_name": "other", "passed": True, "severity": "warn"},
                ),
            ]
        )
    history = store.check_history(AssetKey("a"), "not_null")
    assert [h.passed for h in history] == [True, False, True]
    assert history[1].severity == "error"
    assert len(store.check_history(AssetKey("a"))) == 6
    assert len(store.check_history(AssetKey("a"), limit=2)) == 2


def test_materialization_history_of_one_asset_newest_first(store: Storage) -> None:
    store.create_run(_run("r1"))
    store.append_events([_mat("r1", "a", f"v{i}", partition=f"p{i % 2}") for i in range(5)])
    store.append_events([_mat("r1", "b", "other")])
    history = store.materialization_history(AssetKey("a"), limit=3)
    assert [h.data_version for h in history] == ["v4", "v3", "v2"]
    assert [h.partition for h in history] == ["p0", "p1", "p0"]
    assert all(h.asset_key == AssetKey("a") for h in history)
    assert len(store.materialization_history(AssetKey("a"))) == 5
    assert store.materialization_history(AssetKey("nothing")) == []


def test_mark_abandoned_runs_by_dead_pid_and_stale_heartbeat(store: Storage) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    store.create_run(RunRecord(run_id="dead", pid=dead.pid, host=HOSTNAME))
    store.create_run(_run("alive"))
    store.create_run(
        RunRecord(run_id="remote", pid=1, host="elsewhere", heartbeat_at=time.time() - 3600)
    )
    store.create_run(RunRecord(run_id="remote-ok", pid=1, host="elsewhere"))
    assert sorted(store.mark_abandoned_runs(stale_after=60)) == ["dead", "remote"]
    assert store.get_run("dead").status == "abandoned"  # type: ignore[union-attr]
    assert store.get_run("alive").status == "started"  # type: ignore[union-attr]
    assert store.get_run("remote-ok").status == "started"  # type: ignore[union-attr]
    last = store.events_for_run("dead")[-1]
    assert last.type is EventType.RUN_FINISHED
    assert last.data["status"] == "abandoned"
    assert store.mark_abandoned_runs(stale_after=60) == []


def test_failed_transaction_leaves_nothing(store: Storage) -> None:
    store.create_run(_run("r1"))
    bad = Event(run_id=None, type=EventType.LOG)  # type: ignore[arg-type]  # NOT NULL fails
    with pytest.raises(StorageError):
        store.append_events([_mat("r1", "a", "v1"), bad])
    assert store.events_for_run("r1") == []


def test_bad_urls_give_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="unsupported storage URL"):
        open_storage("mysql://u:secret@h/db")
    with pytest.raises(StorageError) as info:
        open_storage("mysql://u:secret@h/db")
    assert "secret" not in str(info.value)


@pytest.mark.postgres
@pytest.mark.slow
def test_unreachable_postgres_names_server_not_password() -> None:
    with pytest.raises(StorageError) as info:
        open_storage("postgresql://bob:hunter2@127.0.0.1:1/db")
    text = str(info.value)
    assert "hunter2" not in text
    assert "cannot connect to PostgreSQL" in text
    assert "127.0.0.1:1" in text


def test_postgres_url_keeps_libpq_percent_encoding() -> None:
    """Only ``schema`` is taken out; other parameters reach libpq as written (a space stays
    %20: libpq does not read '+' as a space)."""
    from catchment.storage.postgres import split_schema

    url = (
        "postgresql://u@h:5432/db?options=-c%20statement_timeout%3D5000&schema=runs&sslmode=disable"
    )
    assert split_schema(url) == (
        "postgresql://u@h:5432/db?options=-c%20statement_timeout%3D5000&sslmode=disable",
        "runs",
    )


@pytest.mark.postgres
@pytest.mark.slow
def test_postgres_schema_setup_failure_is_a_storage_error() -> None:
    """A role that cannot create the schema gets one clear error, not a psycopg traceback."""
    read_only = "options=-c%20default_transaction_read_only%3Don"
    with pytest.raises(StorageError) as info:
        open_storage(f"{PG_URL}?{read_only}&schema=catchment_read_only_probe")
    assert "read-only" in str(info.value)


def test_sqlite_url_forms(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As SQLAlchemy reads them: four slashes before an absolute path, three before a relative
    one (from the working directory when no project folder resolved it), a host is refused."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    open_storage(f"sqlite:///{tmp_path}/a.db").close()
    assert f"sqlite:///{tmp_path}".startswith("sqlite:////")
    open_storage("sqlite:///rel/b.db").close()
    assert (tmp_path / "a.db").exists()
    assert (cwd / "rel" / "b.db").exists()
    with pytest.raises(StorageError, match="no host") as info:
        open_storage("sqlite://runs.db")
    assert "sqlite:///.catchment/runs.db" in str(info.value.hint)
    mem = open_storage("sqlite:///:memory:")
    assert mem.schema_version() == SCHEMA_VERSION


def test_resolving_a_storage_url_against_a_folder(tmp_path: Path) -> None:
    """A relative SQLite path is made absolute against the folder; anything else is kept."""
    from catchment.storage import resolve_storage_url

    project = tmp_path / "proj"
    assert resolve_storage_url("sqlite:///.catchment/runs.db", project) == (
        f"sqlite:///{project.resolve() / '.catchment' / 'runs.db'}"
    )
    assert resolve_storage_url("sqlite:///../shared/runs.db", project) == (
        f"sqlite:///{tmp_path.resolve() / 'shared' / 'runs.db'}"
    )
    for kept in ("sqlite:////srv/runs.db", "sqlite:///:memory:", "postgresql://u@h/db"):
        assert resolve_storage_url(kept, project) == kept


def test_a_run_store_whose_folder_cannot_be_created_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    with pytest.raises(StorageError, match="cannot create the folder of the run store") as info:
        open_storage(f"sqlite:///{tmp_path / 'a-file' / 'runs.db'}")
    assert info.value.where == str(tmp_path / "a-file" / "runs.db")
    assert "writable" in str(info.value.hint)


# -- what automation reads (schema version 2) ------------------------------------------------


def test_automation_reads_answer_for_many_subjects_in_one_query(store: Storage) -> None:
    from catchment.storage.base import Subject

    store.create_run(_run("r1", status="success"))
    store.append_events([_mat("r1", "a", "v1"), _mat("r1", "p", "p1", "2024-01-01")])
    store.append_events([_mat("r1", "a", "v2"), _mat("r1", "p", "p2", "2024-01-01")])
    cursor = store.latest_event_seq()
    store.append_events([_mat("r1", "a", "v3")])  # after the cursor
    failed = Event(
        run_id="r1",
        type=EventType.ASSET_FAILED,
        asset_key="p",
        partition="2024-01-02",
        data={"message": "boom"},
    )
    check = Event(
        run_id="r1",
        type=EventType.CHECK_EVALUATED,
        asset_key="a",
        data={"check_name": "rows", "passed": False, "severity": "error"},
    )
    store.append_events([failed, check])
    wanted: list[Subject] = [(AssetKey(f"x{i}"), None) for i in range(700)]
    wanted += [(AssetKey("a"), None), (AssetKey("p"), "2024-01-01"), (AssetKey("p"), "2024-01-02")]
    reads = store.reads  # type: ignore[attr-defined]
    mats = store.materializations_of(wanted)
    assert {k: r.data_version for k, r in mats.items()} == {
        (AssetKey("a"), None): "v3",
        (AssetKey("p"), "2024-01-01"): "p2",
    }
    assert (
        store.materializations_of(wanted, up_to=cursor)[(AssetKey("a"), None)].data_version == "v2"
    )
    fails = store.failures_of(wanted)
    assert [(k, r.message) for k, r in fails.items()] == [((AssetKey("p"), "2024-01-02"), "boom")]
    checks = store.latest_checks([(AssetKey("a"), "rows"), (AssetKey("a"), "other")])
    assert [(k, r.passed) for k, r in checks.items()] == [((AssetKey("a"), "rows"), False)]
    assert store.reads - reads == 4  # type: ignore[attr-defined]
    assert store.materializations_of([]) == {}
    store.create_run(_run("r2"))
    assert [r.run_id for r in store.active_runs()] == ["r2"]


def test_dynamic_partitions_keep_their_order_and_add_each_key_once(store: Storage) -> None:
    assert store.add_dynamic_partitions("customers", ["globex", "acme", "globex"]) == [
        "globex",
        "acme",
    ]
    assert store.add_dynamic_partitions("customers", ["acme", "initech"]) == ["initech"]
    store.add_dynamic_partitions("regions", ["eu"])
    assert store.dynamic_partitions() == {
        "customers": ["globex", "acme", "initech"],
        "regions": ["eu"],
    }
    assert store.dynamic_partitions(["customers", "unknown"]) == {
        "customers": ["globex", "acme", "initech"],
        "unknown": [],
    }
    assert store.delete_dynamic_partitions("customers", ["acme", "nope"]) == 1
    assert store.dynamic_partitions(["customers"]) == {"customers": ["globex", "initech"]}
    for bad in ("", " acme", "a\nb", "x" * 256):
        with pytest.raises(StorageError, match="non-empty strings"):
            store.add_dynamic_partitions("customers", [bad])
    assert store.dynamic_partitions(["customers"]) == {"customers": ["globex", "initech"]}


# -- control plane (schema version 2): queued runs, run keys, ticks, cursors, leases -----------

V1_FIXTURE = Path(__file__).parent / "fixtures" / "store_v1.sql"


def _v1_store(backend: str, tmp_path: Path) -> str:
    """A store as catchment 0.1 left it, on ``backend``; returns its URL."""
    statements = [s for s in V1_FIXTURE.read_text().split(";\n") if s.strip()]
    statements = [
        "\n".join(line for line in s.splitlines() if not line.startswith("--")) for s in statements
    ]
    if backend == "sqlite":
        import sqlite3

        path = tmp_path / "v1.db"
        conn = sqlite3.connect(path)
        for s in statements:
            conn.execute(s.replace("{seq}", "INTEGER PRIMARY KEY AUTOINCREMENT"))
        conn.commit()
        conn.close()
        return f"sqlite:///{path}"
    import psycopg

    schema = f"catchment_v1_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_URL, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
        for s in statements:
            conn.execute(s.replace("{seq}", "BIGSERIAL PRIMARY KEY"))  # type: ignore[arg-type]
    return f"{PG_URL}?schema={schema}"


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param("sqlite"),
        pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow]),
    ],
)
def test_a_v1_store_is_upgraded_in_place_and_its_records_stay_readable(
    backend: str, tmp_path: Path
) -> None:
    url = _v1_store(backend, tmp_path)
    store = open_storage(url)
    try:
        assert store.schema_version() == SCHEMA_VERSION
        (run,) = store.list_runs()
        assert (run.status, run.asset_keys) == ("success", ("a", "b"))
        latest = store.latest_materializations()
        assert latest[AssetKey("b")].input_versions == {"a": latest[AssetKey("a")].data_version}
        assert store.latest_event_seq() == 8
        key = AssetKey("b")
        assert store.materializations_of([(key, None)])[(key, None)].input_versions
        # the new tables work in the upgraded store
        assert store.add_dynamic_partitions("s", ["k"]) == ["k"]
        assert store.acquire_lease("daemon", "me", now=100.0, ttl=10)
        store.set_cursors({"sensor:x": "1"}, now=100.0)
        assert store.get_cursors(["sensor:x"]) == {"sensor:x": "1"}
    finally:
        if backend == "postgres":
            store.drop_schema()  # type: ignore[attr-defined]
        store.close()
    reopened = open_storage(url)  # a second open finds the current version: nothing to do
    assert reopened.schema_version() == SCHEMA_VERSION
    reopened.close()


def _queued(run_id: str, **kw: object) -> RunRecord:
    return RunRecord(run_id=run_id, status="queued", **kw)  # type: ignore[arg-type]


def test_submit_run_claims_its_run_key_in_the_same_transaction(store: Storage) -> None:
    first = store.submit_run(_queued("q1", selection="a", tags={"origin": "test"}), "key-1")
    assert (first.run_id, first.created) == ("q1", True)
    again = store.submit_run(_queued("q2", selection="a"), "key-1")
    assert (again.run_id, again.created) == ("q1", False)
    assert store.get_run("q2") is None  # the losing request left no run behind
    assert store.submit_run(_queued("q3"), None).created  # no key: always a new run
    assert [r.run_id for r in store.queued_runs()] == ["q1", "q3"]
    assert store.run_ids_for_keys(["key-1", "key-2"]) == {"key-1": "q1"}
    queued = store.get_run("q1")
    assert queued is not None
    assert (queued.status, queued.pid, queued.tags) == ("queued", None, {"origin": "test"})


def test_a_queued_run_is_claimed_once_then_adopted_by_its_engine(store: Storage) -> None:
    store.submit_run(_queued("q1", selection="a", tags={"origin": "test"}), "k")
    assert store.claim_run("q1", pid=os.getpid(), host=HOSTNAME, now=time.time())
    assert not store.claim_run("q1", pid=12345, host="other", now=time.time())
    assert store.queued_runs() == []
    # the engine records the run it now runs: the claimed row is updated, not duplicated
    store.create_run(_run("q1", selection="a", asset_keys=("a",), tags={"origin": "test"}))
    run = store.get_run("q1")
    assert run is not None
    assert (run.status, run.asset_keys, run.pid) == ("started", ("a",), os.getpid())
    assert len(store.list_runs()) == 1
    # nobody else may record a run under that id
    with pytest.raises(StorageError, match="already recorded"):
        store.create_run(RunRecord(run_id="q1", pid=1, host="elsewhere"))


def test_ticks_start_finish_list_and_latest_per_loop(store: Storage) -> None:
    from catchment.storage.control import TickRecord

    t1 = TickRecord(kind="sensor", name="files", started_at=10.0)
    store.start_tick(t1)
    t1.status, t1.finished_at = "success", 11.0
    t1.body = {"requests": [{"partition_keys": ["2025-08-01-03:00"]}]}
    t1.run_ids = ("r1",)
    store.finish_tick(t1)
    t2 = TickRecord(kind="sensor", name="files", started_at=20.0, status="skipped")
    store.start_tick(t2)
    t3 = TickRecord(kind="schedule", name="nightly", started_at=30.0)
    store.start_tick(t3)
    assert t1.tick_id < t2.tick_id < t3.tick_id
    ticks = store.list_ticks()
    assert [t.tick_id for t in ticks] == [t3.tick_id, t2.tick_id, t1.tick_id]
    (done,) = [t for t in ticks if t.tick_id == t1.tick_id]
    assert (done.status, done.run_ids, done.body["requests"][0]["partition_keys"]) == (
        "success",
        ("r1",),
        ["2025-08-01-03:00"],
    )
    assert [t.tick_id for t in store.list_ticks(kind="sensor", limit=1)] == [t2.tick_id]
    assert [t.tick_id for t in store.list_ticks(statuses=["success"])] == [t1.tick_id]
    latest = store.latest_ticks()
    assert {k: t.tick_id for k, t in latest.items()} == {
        ("sensor", "files"): t2.tick_id,
        ("schedule", "nightly"): t3.tick_id,
    }
    assert store.interrupt_ticks(now=40.0) == 1  # t3 was left started
    assert store.list_ticks(kind="schedule")[0].status == "interrupted"
    assert store.purge_ticks(before=25.0) == 1  # the skipped tick
    assert [t.tick_id for t in store.list_ticks()] == [t3.tick_id, t1.tick_id]


def test_cursors_are_written_together_and_overwritten(store: Storage) -> None:
    store.set_cursors({"sensor:a": "1", "schedule:b": "2"}, now=1.0)
    store.set_cursors({"sensor:a": "3"}, now=2.0)
    assert store.get_cursors() == {"sensor:a": "3", "schedule:b": "2"}
    assert store.get_cursors(["schedule:b", "nope"]) == {"schedule:b": "2"}


def test_a_lease_has_one_holder_until_it_lapses_or_is_released(store: Storage) -> None:
    assert store.acquire_lease("daemon", "A", now=100.0, ttl=30)
    assert not store.acquire_lease("daemon", "B", now=110.0, ttl=30)
    assert store.acquire_lease("daemon", "A", now=120.0, ttl=30)  # renewal
    lease = store.get_lease("daemon")
    assert lease is not None
    assert (lease.holder, lease.acquired_at, lease.expires_at) == ("A", 100.0, 150.0)
    assert not store.acquire_lease("daemon", "B", now=149.0, ttl=30)
    assert store.acquire_lease("daemon", "B", now=150.0, ttl=30)  # lapsed: B takes over
    assert not store.acquire_lease("daemon", "A", now=151.0, ttl=30)
    store.release_lease("daemon", "A")  # not A's: nothing happens
    assert store.get_lease("daemon").holder == "B"  # type: ignore[union-attr]
    store.release_lease("daemon", "B")
    assert store.get_lease("daemon") is None
    assert store.acquire_lease("daemon", "A", now=152.0, ttl=30)


def test_latest_event_seq_and_asset_events_since(store: Storage) -> None:
    assert store.latest_event_seq() == 0
    store.create_run(_run("r1"))
    store.append_events([_mat("r1", "a", "v1"), _mat("r1", "p", "p1", "2024-01-01")])
    mark = store.latest_event_seq()
    store.append_events(
        [
            Event(run_id="r1", type=EventType.LOG, data={"level": "info", "message": "x"}),
            _mat("r1", "a", "v2"),
            _mat("r1", "a", "v3"),
        ]
    )
    assert store.latest_event_seq() == mark + 3
    (only,) = store.asset_events_since(mark)
    assert (only.asset_key, only.partition, only.seq) == ("a", None, mark + 3)
    assert {(m.asset_key, m.partition) for m in store.asset_events_since(0)} == {
        ("a", None),
        ("p", "2024-01-01"),
    }
    assert store.asset_events_since(mark + 3) == []

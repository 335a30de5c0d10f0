"""One automation tick: every operand and combinator per partition, on a fake clock, over
records written straight into a real SQLite store (no sleeping, no real runs needed)."""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import msgspec
import pytest
from catchment import AssetDep, AssetKey, TimeWindowMapping, asset
from catchment.automation.conditions import (
    AutomationCondition,
    check_failed,
    code_changed,
    cron_tick_passed,
    eager,
    failed,
    in_progress,
    missing,
    newly_requested,
    newly_updated,
    on_cron,
    on_missing,
    stale,
    upstream_in_progress,
    upstream_missing,
    upstream_updated,
)
from catchment.automation.evaluator import evaluate
from catchment.automation.result import AutomationState, EvaluationResult
from catchment.definitions import AssetsDefinition
from catchment.events import Event, EventType
from catchment.graph import AssetGraph
from catchment.partitions import DynamicPartitions, StaticPartitions, TimeWindowPartitions
from catchment.specs import CheckSpec
from catchment.storage import RunRecord, Storage, open_storage

T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)  # a Monday, 01:00 UTC
_ids = itertools.count()


PG_URL = os.environ.get("CATCHMENT_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


@pytest.fixture(
    params=[
        pytest.param("sqlite"),
        pytest.param("postgres", marks=[pytest.mark.postgres, pytest.mark.slow]),
    ]
)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Storage]:
    """A real record store: SQLite always, PostgreSQL on loopback in the slow suite."""
    if request.param == "sqlite":
        s = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
        yield s
        s.close()
        return
    from catchment.storage.postgres import PostgresStorage

    pg = open_storage(f"{PG_URL}?schema=catchment_auto_{uuid.uuid4().hex[:12]}")
    assert isinstance(pg, PostgresStorage)
    try:
        yield pg
    finally:
        pg.drop_schema()
        pg.close()


def _asset(
    key: str,
    deps: tuple[str, ...] = (),
    condition: AutomationCondition | None = None,
    **kw: object,
) -> AssetsDefinition:
    return asset(lambda: None, key=key, deps=deps, automation=condition, code_version="1", **kw)  # type: ignore[arg-type]


def _chain(condition: AutomationCondition, n: int = 3) -> AssetGraph:
    keys = [f"a{i}" for i in range(n)]
    return AssetGraph.build(
        [_asset(k, (keys[i - 1],) if i else (), condition) for i, k in enumerate(keys)]
    )


def _mat(
    store: Storage,
    key: str,
    partition: str | None = None,
    *,
    version: str | None = None,
    code: str = "1",
    inputs: dict[str, str | None] | None = None,
    run: str | None = None,
) -> None:
    store.append_events(
        [
            Event(
                run_id=run or f"run{next(_ids)}",
                type=EventType.MATERIALIZATION,
                asset_key=key,
                partition=partition,
                data={
                    "code_version": code,
                    "data_version": version or f"v{next(_ids)}",
                    "input_versions": inputs or {},
                },
            )
        ]
    )


def _fail(store: Storage, key: str, partition: str | None = None, run: str | None = None) -> None:
    store.append_events(
        [
            Event(
                run_id=run or f"run{next(_ids)}",
                type=EventType.ASSET_FAILED,
                asset_key=key,
                partition=partition,
                data={"message": "boom"},
            )
        ]
    )


def _requested(result: EvaluationResult) -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    return [(r.asset_keys, r.partition_keys) for r in result.run_requests]


class Clock:
    """Ticks of one evaluation loop on a fake clock, carrying the state as the daemon does
    (through the JSON tick body)."""

    def __init__(self, graph: AssetGraph, store: Storage, now: datetime = T0):
        self.graph, self.store, self.now = graph, store, now
        self.state: AutomationState | None = None

    def tick(self, minutes: float = 1) -> EvaluationResult:
        self.now += timedelta(minutes=minutes)
        result = evaluate(self.graph, self.store, self.now, self.state)
        body = msgspec.json.decode(msgspec.json.encode(result.to_body()))
        self.state = AutomationState.from_body(body)
        return result


# -- eager: missing, upstream updates, in progress, failures ---------------------------------
def test_eager_builds_a_missing_chain_in_one_run_then_waits_for_it(store: Storage) -> None:
    clock = Clock(_chain(eager()), store)
    first = clock.tick()
    assert _requested(first) == [(("a0", "a1", "a2"), ())]
    assert {d.asset: d.reason for d in first.decisions}["a0"] == ("missing(): never materialized")
    store.create_run(RunRecord(run_id="r1", asset_keys=("a0", "a1", "a2")))
    assert _requested(clock.tick()) == []  # requested just now, and running
    _mat(store, "a0")
    assert _requested(clock.tick()) == []  # a1 sees a0 new, but a1 is in the running run
    _mat(store, "a1", inputs={"a0": None})
    _mat(store, "a2")
    store.update_run_status("r1", "success")
    assert _requested(clock.tick()) == []
    assert _requested(clock.tick(60)) == []  # and stays quiet


def test_eager_follows_each_upstream_update_once(store: Storage) -> None:
    """Changed with upstream_will_be_requested(): the update of a0 asks a1 AND a2 in the same
    evaluation (one run), not a1 now and a2 after a1's run."""
    clock = Clock(_chain(eager()), store)
    for k in ("a0", "a1", "a2"):
        _mat(store, k)
    clock.tick()
    _mat(store, "a0")  # new data upstream
    result = clock.tick()
    assert _requested(result) == [(("a1", "a2"), ())]
    reasons = {d.asset: d.reason for d in result.decisions}
    assert "upstream_newly_updated(): a0 materialized by run" in reasons["a1"]
    assert reasons["a2"] == "upstream_will_be_requested(): a1 requested in this evaluation"
    assert _requested(clock.tick()) == []  # handled: requested by the previous tick
    store.create_run(RunRecord(run_id="r1", asset_keys=("a1", "a2"), status="success"))
    _mat(store, "a1", run="r1")
    _mat(store, "a2", run="r1")
    assert _requested(clock.tick()) == []  # a2 read a1's new data in that run
    _mat(store, "a0")
    assert _requested(clock.tick()) == [(("a1", "a2"), ())]  # the next update: once more


def test_eager_does_not_retry_a_failure_until_something_changes(store: Storage) -> None:
    clock = Clock(_chain(eager(), 2), store)
    _mat(store, "a0")
    _mat(store, "a1")
    clock.tick()
    _mat(store, "a0")
    assert _requested(clock.tick()) == [(("a1",), ())]
    _fail(store, "a1")
    for _ in range(5):
        assert _requested(clock.tick()) == []  # no retry loop (dagster #22746-like loops)
    _mat(store, "a0")
    assert _requested(clock.tick()) == [(("a1",), ())]  # new upstream data: try again


def test_an_upstream_rematerialized_with_the_same_data_version_triggers_nothing(
    store: Storage,
) -> None:
    clock = Clock(_chain(eager(), 2), store)
    _mat(store, "a0", version="same")
    _mat(store, "a1", inputs={"a0": "same"})
    clock.tick()
    _mat(store, "a0", version="same")
    assert _requested(clock.tick()) == []
    _mat(store, "a0", version="other")
    assert _requested(clock.tick()) == [(("a1",), ())]


def test_eager_waits_for_a_missing_or_running_upstream(store: Storage) -> None:
    graph = AssetGraph.build([_asset("up"), _asset("down", ("up",), eager())])
    clock = Clock(graph, store)
    result = clock.tick()
    assert _requested(result) == []  # up has no condition and is missing
    assert "0.0.2.0" in result.values["down"]["n"]  # upstream_missing() recorded as true
    _mat(store, "up")
    assert _requested(clock.tick()) == [(("down",), ())]  # remembered since the first tick
    _mat(store, "down")
    clock.tick()
    store.create_run(RunRecord(run_id="busy", asset_keys=("up",)))
    _mat(store, "up")
    assert _requested(clock.tick()) == []  # up still running
    store.update_run_status("busy", "success")
    assert _requested(clock.tick()) == [(("down",), ())]


def test_a_reload_keeps_memory_and_a_changed_condition_starts_afresh(store: Storage) -> None:
    """dagster #33656: eager stopped firing after a code reload. Memory is keyed by the asset
    and the condition's expression, not by object identity."""
    graph = AssetGraph.build([_asset("up"), _asset("down", ("up",), eager())])
    clock = Clock(graph, store)
    clock.tick()  # down: missing, waiting for up
    clock.graph = AssetGraph.build([_asset("up"), _asset("down", ("up",), eager())])  # reload
    _mat(store, "up")
    assert _requested(clock.tick()) == [(("down",), ())]
    _mat(store, "down")
    clock.tick()
    clock.graph = AssetGraph.build(
        [_asset("up"), _asset("down", ("up",), eager() & ~check_failed())]
    )
    _mat(store, "up")
    assert _requested(clock.tick()) == [(("down",), ())]


# -- eager chains: an upstream's new data travels down in one run -----------------------------
def _fed_chain(*conditions: AutomationCondition, **kw: object) -> AssetGraph:
    """``src`` (no condition: it is updated from outside) and a chain ``a``, ``b``, ``c``...
    below it, one asset per condition."""
    keys = ["src", *"abcdefgh"[: len(conditions)]]
    defs = [_asset("src", **kw)]
    defs += [_asset(keys[i + 1], (keys[i],), c, **kw) for i, c in enumerate(conditions)]
    return AssetGraph.build(defs)


def _quiet_chain(store: Storage, graph: AssetGraph, partition: str | None = None) -> Clock:
    """Everything materialized and one evaluation done: the next update is news."""
    for key in graph.toposort():
        _mat(store, str(key), partition)
    clock = Clock(graph, store)
    assert _requested(clock.tick()) == []
    return clock


def test_a_source_update_requests_the_whole_eager_chain_in_one_run(store: Storage) -> None:
    graph = _fed_chain(eager(), eager(), eager())
    clock = _quiet_chain(store, graph)
    _mat(store, "src")
    result = clock.tick()
    assert _requested(result) == [(("a", "b", "c"), ())]
    reasons = {d.asset: d.reason for d in result.decisions}
    assert reasons["a"].startswith("upstream_newly_updated(): src materialized by run")
    assert reasons["b"] == "upstream_will_be_requested(): a requested in this evaluation"
    assert reasons["c"] == "upstream_will_be_requested(): b requested in this evaluation"
    assert "0.0.0.0.2" in result.values["c"]["n"]  # recorded for explain
    store.create_run(RunRecord(run_id="chain", asset_keys=("a", "b", "c")))
    assert _requested(clock.tick()) == []  # in progress: nothing more
    _mat(store, "a", run="chain")
    assert _requested(clock.tick()) == []  # b and c read a in that run: not news for them
    _mat(store, "b", run="chain")
    _mat(store, "c", run="chain")
    store.update_run_status("chain", "success")
    assert _requested(clock.tick()) == []
    assert _requested(clock.tick(60)) == []  # and stays quiet
    assert store.list_runs(limit=10)[0].run_id == "chain"


def test_a_downstream_of_two_requested_upstreams_names_both(store: Storage) -> None:
    graph = AssetGraph.build(
        [
            _asset("src"),
            _asset("x", ("src",), eager()),
            _asset("y", ("src",), eager()),
            _asset("z", ("x", "y"), eager()),
        ]
    )
    clock = _quiet_chain(store, graph)
    _mat(store, "src")
    result = clock.tick()
    assert _requested(result) == [(("x", "y", "z"), ())]
    assert {d.asset: d.reason for d in result.decisions}["z"] == (
        "upstream_will_be_requested(): x, y requested in this evaluation"
    )


def test_a_failed_chain_run_is_not_requested_again_until_a_new_update(store: Storage) -> None:
    graph = _fed_chain(eager(), eager(), eager())
    clock = _quiet_chain(store, graph)
    _mat(store, "src")
    assert _requested(clock.tick()) == [(("a", "b", "c"), ())]
    store.create_run(RunRecord(run_id="chain", asset_keys=("a", "b", "c")))
    assert _requested(clock.tick()) == []  # queued
    # the run materializes a, fails at b (c is never reached), and ends before the next tick
    _mat(store, "a", run="chain")
    _fail(store, "b", run="chain")
    store.update_run_status("chain", "failure")
    for _ in range(5):
        assert _requested(clock.tick()) == []  # a's new data came from b's own run
    _mat(store, "src")
    assert _requested(clock.tick()) == [(("a", "b", "c"), ())]  # new data: try again


def test_a_workspace_chain_run_that_failed_is_not_requested_again(store: Storage) -> None:
    """In a workspace the run of a chain is carried out as one project run per batch; the
    batch that built a reports to the workspace run, which targeted b too."""
    graph = _fed_chain(eager(), eager())
    clock = _quiet_chain(store, graph)
    _mat(store, "src")
    assert _requested(clock.tick()) == [(("a", "b"), ())]
    store.create_run(RunRecord(run_id="ws", asset_keys=("a", "b")))
    assert _requested(clock.tick()) == []
    batch = RunRecord(run_id="ws-a", asset_keys=("a",), tags={"workspace_run": "ws"})
    store.create_run(batch)
    _mat(store, "a", run="ws-a")
    store.update_run_status("ws-a", "success")
    _fail(store, "b", run="ws-b")
    store.update_run_status("ws", "failure")
    for _ in range(3):
        assert _requested(clock.tick()) == []


def test_the_chain_stops_at_an_asset_that_is_not_eager(store: Storage) -> None:
    graph = _fed_chain(eager(), on_cron("0 3 * * *"), eager())
    clock = _quiet_chain(store, graph)
    _mat(store, "src")
    result = clock.tick()
    assert _requested(result) == [(("a",), ())]  # b waits for its cron tick, c for b
    assert "c" not in result.values or "0.0.0.0.2" not in result.values["c"]["n"]
    store.create_run(RunRecord(run_id="ra", asset_keys=("a",), status="success"))
    _mat(store, "a", run="ra")
    assert _requested(clock.tick()) == []
    assert _requested(clock.tick(120)) == [(("b", "c"), ())]  # 03:00 passed: c joins b's run


def test_a_check_failed_guard_stops_the_chain_at_its_asset(store: Storage) -> None:
    b = _asset("b", ("a",), eager() & ~check_failed("rows"))
    rows = CheckSpec(name="rows", asset=AssetKey("b"))
    graph = AssetGraph.build(
        [
            _asset("src"),
            _asset("a", ("src",), eager()),
            b.replace(specs=(b.specs[0].replace(checks=(rows,)),)),
            _asset("c", ("b",), eager()),
        ]
    )
    clock = _quiet_chain(store, graph)
    _check(store, "b", passed=False)
    _mat(store, "src")
    assert _requested(clock.tick()) == [(("a",), ())]  # b is held by its check, and c with it
    store.create_run(RunRecord(run_id="ra", asset_keys=("a",), status="success"))
    _mat(store, "a", run="ra")
    assert _requested(clock.tick()) == []  # a's new data: b still held, c not asked
    _check(store, "b", passed=True)
    result = clock.tick()
    assert _requested(result) == [(("b", "c"), ())]  # the guard lifts: b and c in one run
    reasons = {d.asset: d.reason for d in result.decisions}
    assert reasons["b"].endswith("was true at an earlier evaluation, not handled since")
    assert reasons["c"] == "upstream_will_be_requested(): b requested in this evaluation"


def _check(store: Storage, key: str, *, passed: bool) -> None:
    store.append_events(
        [
            Event(
                run_id=f"run{next(_ids)}",
                type=EventType.CHECK_EVALUATED,
                asset_key=key,
                data={"check_name": "rows", "passed": passed},
            )
        ]
    )


DAYS = ("2026-02-28", "2026-03-01")  # the last two complete days at T0 + 1 min


def _daily_chain(store: Storage, *extra: tuple[str, tuple[object, ...]]) -> Clock:
    """``raw`` (no condition) -> ``clean`` -> ``mart`` (eager), daily with the last two
    days in scope, and ``extra`` eager assets ``(key, deps)`` alike; every day built and
    one evaluation done."""
    scope = {"partitions": TimeWindowPartitions("2026-02-20"), "partition_scope": "last 2"}
    chain = [("raw", (), None), ("clean", ("raw",), eager()), ("mart", ("clean",), eager())]
    chain += [(key, deps, eager()) for key, deps in extra]
    graph = AssetGraph.build([_asset(k, d, c, **scope) for k, d, c in chain])  # type: ignore[arg-type]
    for day in DAYS:
        for key in graph.toposort():
            _mat(store, str(key), day)
    clock = Clock(graph, store)
    clock.tick()
    return clock


def test_a_daily_chain_requests_the_same_partition_in_one_run(store: Storage) -> None:
    shifted = AssetDep(AssetKey("mart"), TimeWindowMapping(-1, -1))
    clock = _daily_chain(store, ("shifted", (shifted,)))
    _mat(store, "raw", DAYS[0])
    result = clock.tick()
    # mart's day shares clean's run; shifted[03-01] reads mart[02-28], requested for another
    # partition: it waits for that run to materialize it
    assert _requested(result) == [(("clean", "mart"), (DAYS[0],))]
    store.create_run(
        RunRecord(run_id="day", asset_keys=("clean", "mart"), partition_keys=(DAYS[0],))
    )
    assert _requested(clock.tick()) == []
    _mat(store, "clean", DAYS[0], run="day")
    _mat(store, "mart", DAYS[0], run="day")
    store.update_run_status("day", "success")
    assert _requested(clock.tick()) == [(("shifted",), (DAYS[1],))]
    assert _requested(clock.tick()) == []


def test_partitions_blocked_downstream_split_the_run_by_partition(store: Storage) -> None:
    """clean is asked for two days, mart (one day in progress) for one: mart's day shares
    clean's run for that day, so no run reads a day another run is still building."""
    clock = _daily_chain(store)
    store.create_run(RunRecord(run_id="busy", asset_keys=("mart",), partition_keys=(DAYS[0],)))
    for day in DAYS:
        _mat(store, "raw", day)
    assert _requested(clock.tick()) == [(("clean",), (DAYS[0],)), (("clean", "mart"), (DAYS[1],))]


# -- cron ----------------------------------------------------------------------------------
def test_on_cron_runs_once_after_each_tick_in_its_timezone(store: Storage) -> None:
    graph = AssetGraph.build([_asset("daily", (), on_cron("0 3 * * *", "Europe/Berlin"))])
    clock = Clock(graph, store, now=datetime(2026, 3, 2, 1, 0, tzinfo=UTC))  # 02:00 Berlin
    assert _requested(clock.tick()) == []  # first evaluation: no tick has passed yet
    assert _requested(clock.tick(30)) == []  # 02:31 Berlin
    result = clock.tick(30)  # 03:01 Berlin
    assert _requested(result) == [(("daily",), ())]
    assert "cron_tick_passed('0 3 * * *', timezone='Europe/Berlin'): tick 2026-03-02 03:00" in (
        result.decisions[0].reason
    )
    assert _requested(clock.tick(5)) == []
    _mat(store, "daily")
    assert _requested(clock.tick(60 * 23)) == []  # 02:06 next day
    assert _requested(clock.tick(60)) == [(("daily",), ())]


def test_a_cron_tick_missed_while_the_daemon_was_down_fires_once(store: Storage) -> None:
    graph = AssetGraph.build([_asset("daily", (), cron_tick_passed("0 3 * * *"))])
    clock = Clock(graph, store)
    clock.tick()
    assert _requested(clock.tick(60 * 24 * 3)) == [(("daily",), ())]  # three days down
    assert _requested(clock.tick(1)) == []


# -- operands one by one -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("condition", "setup", "expected"),
    [
        (missing(), lambda s: _mat(s, "x"), {"y"}),
        (code_changed(), lambda s: (_mat(s, "x", code="0"), _mat(s, "y")), {"x"}),
        (failed(), lambda s: (_mat(s, "x"), _fail(s, "x"), _fail(s, "y"), _mat(s, "y")), {"x"}),
        (
            in_progress(),
            lambda s: s.create_run(RunRecord(run_id="r", asset_keys=("y",))),
            {"y"},
        ),
        (
            upstream_updated(),
            lambda s: (_mat(s, "u"), _mat(s, "x"), _mat(s, "y"), _mat(s, "u")),
            {"x", "y"},
        ),
        (upstream_missing(), lambda s: None, {"x", "y"}),
        (
            upstream_in_progress(),
            lambda s: s.create_run(RunRecord(run_id="r", selection="u")),
            {"x", "y"},
        ),
    ],
    ids=lambda v: str(v) if isinstance(v, AutomationCondition) else "",
)
def test_each_operand(
    store: Storage, condition: AutomationCondition, setup: object, expected: set[str]
) -> None:
    graph = AssetGraph.build(
        [_asset("u"), _asset("x", ("u",), condition), _asset("y", ("u",), condition)]
    )
    setup(store)  # type: ignore[operator]
    result = Clock(graph, store).tick()
    assert {d.asset for d in result.decisions} == expected


def test_a_run_whose_process_is_gone_is_not_in_progress(store: Storage) -> None:
    """A run killed with -9 stays ``started`` in the store until someone marks it; automation
    must not wait on it forever."""
    import subprocess
    import sys

    from catchment.storage.base import HOSTNAME

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    graph = AssetGraph.build([_asset("x", (), in_progress())])
    store.create_run(RunRecord(run_id="gone", asset_keys=("x",), pid=dead.pid, host=HOSTNAME))
    assert Clock(graph, store).tick().decisions == []
    store.create_run(RunRecord(run_id="alive", asset_keys=("x",), pid=os.getpid(), host=HOSTNAME))
    assert [d.asset for d in Clock(graph, store).tick().decisions] == ["x"]


def test_check_failed_by_name_or_any_but_never_freshness(store: Storage) -> None:
    graph = AssetGraph.build([_checked("x", check_failed()), _checked("y", check_failed("rows"))])
    for key, check, passed in (
        ("x", "rows", False),
        ("y", "rows", True),
        ("x", "freshness", False),
    ):
        store.append_events(
            [
                Event(
                    run_id="r",
                    type=EventType.CHECK_EVALUATED,
                    asset_key=key,
                    data={"check_name": check, "passed": passed},
                )
            ]
        )
    result = Clock(graph, store).tick()
    assert {d.asset for d in result.decisions} == {"x"}
    assert "check rows failed" in result.decisions[0].reason


def _checked(key: str, condition: AutomationCondition) -> AssetsDefinition:
    d = _asset(key, (), condition)
    spec = d.specs[0].replace(checks=(CheckSpec(name="rows", asset=AssetKey(key)),))
    return d.replace(specs=(spec,))


def test_stale_uses_the_plan_reasons(store: Storage) -> None:
    graph = AssetGraph.build([_asset("u"), _asset("x", ("u",), stale())])
    _mat(store, "u", version="1")
    _mat(store, "x", inputs={"u": "1"})
    assert Clock(graph, store).tick().decisions == []
    _mat(store, "u", version="2")
    (decision,) = Clock(graph, store).tick().decisions
    assert decision.reason == "stale(): upstream u newer"


def test_since_and_newly_true_remember_between_ticks(store: Storage) -> None:
    condition = missing().newly_true().since(newly_updated() | newly_requested())
    graph = AssetGraph.build([_asset("x", (), condition & ~in_progress())])
    clock = Clock(graph, store)
    assert _requested(clock.tick()) == [(("x",), ())]
    store.create_run(RunRecord(run_id="r", asset_keys=("x",), status="failure"))
    assert _requested(clock.tick()) == []  # reset by newly_requested
    assert _requested(clock.tick()) == []  # still missing, but not newly so


# -- partitions --------------------------------------------------------------------------------
def test_per_partition_evaluation_in_scope_batched_into_one_run(store: Storage) -> None:
    daily = TimeWindowPartitions("2026-02-20")
    graph = AssetGraph.build(
        [
            _asset("raw", (), on_missing(), partitions=daily, partition_scope="last 3"),
            _asset("clean", ("raw",), eager(), partitions=daily, partition_scope="last 3"),
        ]
    )
    _mat(store, "raw", "2026-02-27")
    _mat(store, "clean", "2026-02-27")
    clock = Clock(graph, store)  # 2026-03-02 01:01: complete windows up to 03-01
    result = clock.tick()
    assert _requested(result) == [(("clean", "raw"), ("2026-02-28", "2026-03-01"))]
    assert result.subjects == 6
    for p in ("2026-02-28", "2026-03-01"):
        _mat(store, "raw", p)
        _mat(store, "clean", p)
    clock.tick()
    assert _requested(clock.tick(60 * 24)) == [(("clean", "raw"), ("2026-03-02",))]  # next day


def test_a_static_partition_failing_is_not_retried_while_others_run(store: Storage) -> None:
    regions = StaticPartitions(["eu", "us"])
    graph = AssetGraph.build([_asset("sales", (), missing() & ~failed(), partitions=regions)])
    _fail(store, "sales", "eu")
    assert _requested(Clock(graph, store).tick()) == [(("sales",), ("us",))]


def test_dynamic_partitions_come_into_scope_when_added(store: Storage) -> None:
    customers = DynamicPartitions("customers")
    graph = AssetGraph.build([_asset("report", (), on_missing(), partitions=customers)])
    clock = Clock(graph, store)
    assert _requested(clock.tick()) == []
    store.add_dynamic_partitions("customers", ["acme", "globex"])
    assert _requested(clock.tick()) == [(("report",), ("acme", "globex"))]


# -- batching ----------------------------------------------------------------------------------
def _wide(n: int) -> AssetGraph:
    daily = TimeWindowPartitions("2026-01-01")
    defs = [_asset("src", (), on_cron("0 * * * *"))]
    for i in range(n):
        defs.append(_asset(f"u{i}", ("src",), eager()))
        defs.append(
            _asset(
                f"p{i}",
                (f"u{i}",),
                eager() & ~check_failed() & ~failed() | stale(),
                partitions=daily,
                partition_scope="last 2",
            )
        )
    return AssetGraph.build(defs)


def test_queries_per_tick_do_not_grow_with_assets_or_partitions(store: Storage) -> None:
    counts = []
    for n in (2, 120):
        graph = _wide(n)
        for i in range(n):
            _mat(store, f"u{i}")
            _mat(store, f"p{i}", "2026-02-27")
        clock = Clock(graph, store)
        clock.tick()
        counts.append(clock.tick().queries)
    assert counts[0] == counts[1] <= 7, counts


def test_a_missing_upstream_requested_into_another_run_still_holds_the_downstream(
    store: Storage,
) -> None:
    """A missing unpartitioned ``dim`` and the daily ``facts`` reading it cannot share a
    run: facts waits for dim's run instead of starting beside it and reading nothing."""
    daily = TimeWindowPartitions("2026-02-20")
    graph = AssetGraph.build(
        [_asset("dim", (), on_missing()), _asset("facts", ("dim",), eager(), partitions=daily)]
    )
    clock = Clock(graph, store)
    assert _requested(clock.tick()) == [(("dim",), ())]
    store.create_run(RunRecord(run_id="dim", asset_keys=("dim",)))
    assert _requested(clock.tick()) == []
    _mat(store, "dim", run="dim")
    store.update_run_status("dim", "success")
    assert _requested(clock.tick()) == [(("facts",), ("2026-03-01",))]

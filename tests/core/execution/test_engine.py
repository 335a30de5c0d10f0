"""Engine: the events of a run, failures, retries, blocking checks, skipping, hooks."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from catchment import (
    AssetKey,
    CheckResult,
    MaterializeResult,
    RetryPolicy,
    asset,
    asset_check,
    materialize,
    multi_asset,
    spec,
)
from catchment.context import StepContext
from catchment.errors import ExecutionError
from catchment.events import EventType
from catchment.hookspecs import RunInfo
from catchment.io_managers import FilesystemIOManager
from catchment.partitions import StaticPartitions
from catchment.results import StepResult
from catchment.specs import CheckSpec
from catchment.storage import open_storage


@asset
def numbers() -> list[int]:
    return [1, 2, 3]


@asset
def total(numbers: list[int]) -> int:
    return sum(numbers)


def test_events_of_a_successful_run(tmp_path: Path) -> None:
    store = open_storage(f"sqlite:///{tmp_path / 'runs.db'}")
    result = materialize([numbers, total], storage=store)
    assert result.success
    assert result.output_for("total") == 6
    types = [e.type for e in result.events]
    assert types == [
        EventType.RUN_STARTED,
        EventType.STEP_STARTED,
        EventType.MATERIALIZATION,
        EventType.STEP_FINISHED,
        EventType.STEP_STARTED,
        EventType.MATERIALIZATION,
        EventType.STEP_FINISHED,
        EventType.RUN_FINISHED,
    ]
    stored = store.events_for_run(result.run_id)
    assert [e.type for e in stored] == types
    assert [e.seq for e in stored] == sorted(e.seq for e in stored)
    mat_numbers, mat_total = result.materializations
    assert mat_total.data["input_versions"] == {"numbers": mat_numbers.data["data_version"]}
    assert mat_total.data["code_version"] == total.specs[0].code_version
    assert "duration" in mat_total.data["metadata"]
    run = store.get_run(result.run_id)
    assert run is not None
    assert run.status == "success"
    assert run.asset_keys == ("numbers", "total")


def test_failure_records_error_and_skips_downstream() -> None:
    @asset
    def broken() -> int:
        print("about to fail")
        raise ValueError("bad input row 7")

    @asset
    def after(broken: int) -> int:
        return broken

    result = materialize([broken, after], raise_on_failure=False)
    assert not result.success
    failed = next(e for e in result.events if e.type is EventType.ASSET_FAILED)
    assert failed.asset_key == "broken"
    assert failed.data["error_class"] == "ValueError"
    assert failed.data["message"] == "bad input row 7"
    assert "test_engine.py" in failed.data["where"]
    assert "about to fail" in failed.data["output"]
    assert result.status_of("after") == "skipped"
    skipped = next(e for e in result.events if e.type is EventType.ASSET_SKIPPED)
    assert skipped.data["reason"] == "upstream broken failed"
    with pytest.raises(ExecutionError, match="bad input row 7"):
        materialize([broken, after])


def test_asset_never_reported_is_failed_not_success() -> None:
    @multi_asset(specs=[spec("a"), spec("b")], name="lazy")
    def lazy(context: StepContext) -> Iterator[StepResult]:
        yield MaterializeResult(key=AssetKey("a"))

    result = materialize([lazy], raise_on_failure=False)
    assert result.status_of("a") == "success"
    assert result.status_of("b") == "failed"
    failure = next(e for e in result.failures if e.asset_key == "b")
    assert failure.data["error_class"] == "MissingResult"
    assert not result.success


def test_retries_with_backoff_then_success() -> None:
    attempts: list[int] = []

    @asset(retry=RetryPolicy(max_retries=3, delay=0.01, backoff=2.0))
    def flaky(context: StepContext) -> int:
        attempts.append(context.attempt)
        if len(attempts) < 3:
            raise ConnectionError("try again")
        return 42

    result = materialize([flaky])
    assert attempts == [0, 1, 2]
    retries = [e for e in result.events if e.type is EventType.STEP_RETRY]
    assert [r.data["attempt"] for r in retries] == [1, 2]
    assert [r.data["wait"] for r in retries] == [0.01, 0.02]
    assert retries[0].data["error_class"] == "ConnectionError"
    assert result.output_for("flaky") == 42
    assert not result.failures
    finished = next(e for e in result.events if e.type is EventType.STEP_FINISHED)
    assert finished.data["attempts"] == 3


def test_retries_exhausted_fail() -> None:
    @asset(retry=RetryPolicy(max_retries=1))
    def never() -> int:
        raise RuntimeError("down")

    result = materialize([never], raise_on_failure=False)
    assert result.status_of("never") == "failed"
    assert len([e for e in result.events if e.type is EventType.STEP_RETRY]) == 1


def test_failed_blocking_error_check_stops_downstream() -> None:
    @asset
    def src() -> int:
        return -1

    @asset_check(asset="src")
    def positive(src: int) -> bool:
        return src > 0

    @asset
    def down(src: int) -> int:
        return src

    result = materialize([src, positive, down], raise_on_failure=False)
    check = result.check_results[0]
    assert (check.check_name, check.passed, check.severity) == ("positive", False, "error")
    assert result.status_of("src") == "success"
    assert result.status_of("down") == "skipped"
    reason = next(e for e in result.events if e.type is EventType.ASSET_SKIPPED).data["reason"]
    assert reason == "upstream src failed check src:positive"
    assert not result.success
    # configurable: run downstream anyway
    result = materialize([src, positive, down], raise_on_failure=False, stop_on_failed_checks=False)
    assert result.status_of("down") == "success"


def test_warn_checks_and_non_blocking_checks_do_not_stop_anything() -> None:
    @asset
    def src() -> int:
        return -1

    @asset_check(asset="src", severity="warn")
    def soft(src: int) -> bool:
        return False

    @asset_check(asset="src", blocking=False)
    def nonblocking(src: int) -> bool:
        return False

    @asset
    def down(src: int) -> int:
        return src

    result = materialize([src, soft, nonblocking, down], raise_on_failure=False)
    assert result.status_of("down") == "success"
    assert {c.check_name: c.severity for c in result.check_results} == {
        "soft": "warn",
        "nonblocking": "error",
    }


def test_multi_asset_checks_in_the_same_step() -> None:
    @multi_asset(
        specs=[spec("t/a", checks=[CheckSpec(name="rows", asset=AssetKey("t/a"))])], name="t"
    )
    def tool(context: StepContext) -> Iterator[StepResult]:
        assert context.selected_checks == {"t/a:rows"}
        yield MaterializeResult(key=AssetKey("t/a"), metadata={"rows": 3})
        yield CheckResult(asset_key=AssetKey("t/a"), check_name="rows", passed=True)

    result = materialize([tool])
    assert result.check_results[0].severity == "error"  # from the spec
    assert result.materializations[0].data["metadata"]["rows"] == 3


def test_logs_become_events_and_stream_live() -> None:
    @asset
    def chatty(context: StepContext) -> int:
        context.log.info("loaded %d rows", 5)
        return 5

    seen: list[str] = []
    result = materialize(
        [chatty], on_event=lambda e: seen.append(e.type.value + ":" + str(e.data.get("message")))
    )
    log = next(e for e in result.events if e.type is EventType.LOG)
    assert log.data == {"level": "info", "message": "loaded 5 rows"}
    assert seen.count("log:loaded 5 rows") == 1  # shown once, live


def test_partitioned_run_records_each_partition(tmp_path: Path) -> None:
    parts = StaticPartitions(["p1", "p2", "p3"])

    @asset(partitions=parts)
    def sales(context: StepContext) -> dict[str, int]:
        return {p: len(p) for p in context.partition_keys}

    store = open_storage(f"sqlite:///{tmp_path / 'r.db'}")
    result = materialize(
        [sales],
        partition="p1...p2",
        storage=store,
        io_managers={"default": FilesystemIOManager(tmp_path / "fs")},
    )
    assert sorted(e.partition or "" for e in result.materializations) == ["p1", "p2"]
    assert set(store.latest_materializations_by_partition(AssetKey("sales"))) == {"p1", "p2"}
    assert result.output_for("sales", partition="p2") == 2


def test_resources_are_opened_per_step_and_torn_down() -> None:
    from catchment.resources import Resource

    events: list[str] = []

    class Counter(Resource):
        name: str

        def setup(self) -> Any:
            events.append("setup")
            return {"name": self.name}

        def teardown(self) -> None:
            events.append("teardown")

    @asset(resources=["counter"])
    def uses(counter: dict[str, str]) -> str:
        events.append("compute")
        return counter["name"]

    result = materialize([uses], resources={"counter": Counter(name="x")})
    assert result.output_for("uses") == "x"
    assert events == ["setup", "compute", "teardown"]
    result = materialize([uses], raise_on_failure=False)
    assert "resource 'counter' is not configured" in result.failures[0].data["message"]


def test_life_cycle_hooks_are_called() -> None:
    calls: list[tuple[str, Any]] = []

    class Relay:
        def catchment_run_started(self, run: RunInfo) -> None:
            calls.append(("started", run.asset_keys))

        def catchment_asset_materialized(self, run: RunInfo, event: Any) -> None:
            calls.append(("materialized", event.asset_key))

        def catchment_check_evaluated(self, run: RunInfo, event: Any) -> None:
            calls.append(("check", event.data["passed"]))

        def catchment_run_finished(self, run: RunInfo, status: str) -> None:
            calls.append(("finished", status))

    @asset_check(asset="total")
    def ok(total: int) -> bool:
        return True

    materialize([numbers, total, ok], hooks=Relay())
    assert calls == [
        ("started", ("numbers", "total")),
        ("materialized", "numbers"),
        ("materialized", "total"),
        ("check", True),
        ("finished", "success"),
    ]


class _Api10Relay:
    """A hand-written relay of the hooks of core API 1.0 (no step_started, no asset_failed)."""

    def catchment_run_started(self, run: RunInfo) -> None: ...

    def catchment_asset_materialized(self, run: RunInfo, event: Any) -> None: ...

    def catchment_check_evaluated(self, run: RunInfo, event: Any) -> None: ...

    def catchment_run_finished(self, run: RunInfo, status: str) -> None: ...


def test_step_started_and_asset_failed_hooks_see_the_graph_and_the_error() -> None:
    calls: list[tuple[str, Any]] = []

    class Relay(_Api10Relay):
        def catchment_step_started(self, run: RunInfo, event: Any, graph: Any) -> None:
            keys = event.data["asset_keys"]
            calls.append(("step", keys, [str(k) for k in graph.upstream(keys[0])]))

        def catchment_asset_failed(self, run: RunInfo, event: Any) -> None:
            calls.append(("failed", event.asset_key, event.data["message"]))

    @asset
    def broken(numbers: list[int]) -> int:
        raise ValueError("no numbers today")

    materialize([numbers, broken], hooks=Relay(), raise_on_failure=False)
    assert calls == [
        ("step", ["numbers"], []),
        ("step", ["broken"], ["numbers"]),
        ("failed", "broken", "no numbers today"),
    ]


def test_a_relay_without_the_newer_hooks_still_runs() -> None:
    result = materialize([numbers, total], hooks=_Api10Relay())
    assert result.success


def test_context_satisfies_the_step_context_protocol(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    @asset
    def probe(context: StepContext) -> int:
        seen["is_protocol"] = isinstance(context, StepContext)
        seen["selected"] = context.selected_keys
        seen["spec"] = context.spec(AssetKey("probe")).key
        seen["run_id"] = context.run_id
        return 1

    result = materialize([probe])
    assert seen["is_protocol"] is True
    assert seen["selected"] == {AssetKey("probe")}
    assert seen["spec"] == AssetKey("probe")
    assert seen["run_id"] == result.run_id


def test_sys_exit_in_a_compute_fails_that_asset_not_the_run() -> None:
    """A compute calling sys.exit (a CLI tool's main, say) is a failed asset; the rest runs."""

    @asset
    def quits() -> int:
        raise SystemExit(3)

    result = materialize([quits, numbers], raise_on_failure=False)
    assert result.status_of("quits") == "failed"
    assert result.status_of("numbers") == "success"
    failure = next(e for e in result.failures if e.asset_key == "quits")
    assert failure.data["error_class"] == "SystemExit"
    assert "sys.exit(3)" in failure.data["message"]
    assert result.status == "failure"


def test_a_failing_teardown_is_recorded_not_raised() -> None:
    from catchment.resources import Resource

    class Sticky(Resource):
        def teardown(self) -> None:
            raise RuntimeError("cannot close the connection")

    @asset(resources=["sticky"])
    def written(sticky: Any) -> int:
        return 1

    result = materialize([written], resources={"sticky": Sticky()}, raise_on_failure=False)
    assert result.status_of("written") == "success"  # the value was stored before teardown
    (failed,) = [e for e in result.events if e.type is EventType.STEP_FAILED]
    assert failed.data["message"] == "cannot close the connection"
    assert result.status == "failure"


def test_a_step_that_fails_without_failing_an_asset_fails_the_run() -> None:
    """A check whose code crashes is not a passing run (materialize exits 0 otherwise)."""

    @asset_check(asset="numbers")
    def crashes(numbers: list[int]) -> bool:
        raise RuntimeError("check code crashed")

    result = materialize([numbers, crashes], raise_on_failure=False)
    assert result.status_of("numbers") == "success"
    assert result.status == "failure"
    with pytest.raises(ExecutionError, match="check code crashed"):
        materialize([numbers, crashes])


def test_io_managers_see_the_step_s_opened_resources() -> None:
    """handle_output and load_input both get what setup() returned, and teardown runs even
    when the compute fails."""
    from catchment.io_managers import MemoryIOManager
    from catchment.resources import Resource

    torn_down: list[str] = []

    class Conn(Resource):
        def setup(self) -> Any:
            return "open connection"

        def teardown(self) -> None:
            torn_down.append("conn")

    seen: list[tuple[str, Any]] = []

    class Recording(MemoryIOManager):
        def handle_output(self, context: Any, obj: Any) -> Any:
            seen.append(("out", context.resources["conn"]))
            return super().handle_output(context, obj)

        def load_input(self, context: Any) -> Any:
            seen.append(("in", context.resources["conn"]))
            return super().load_input(context)

    @asset(resources=["conn"])
    def first(conn: str) -> int:
        return 1

    @asset(resources=["conn"])
    def second(first: int, conn: str) -> int:
        raise ValueError("boom")

    result = materialize(
        [first, second],
        resources={"conn": Conn()},
        io_managers={"default": Recording()},
        raise_on_failure=False,
    )
    assert seen == [("out", "open connection"), ("in", "open connection")]
    assert torn_down == ["conn", "conn"]
    assert result.status_of("second") == "failed"


def test_a_failing_display_listener_does_not_stop_the_run() -> None:
    """E.g. `catchment materialize | head`: the terminal goes away, the run must not."""
    from catchment import asset, materialize

    @asset
    def first() -> int:
        return 1

    @asset
    def second(first: int) -> int:
        return first + 1

    seen: list[str] = []

    def listener(event: Any) -> None:
        seen.append(str(event.type))
        raise BrokenPipeError("stdout closed")

    result = materialize([first, second], on_event=listener)
    assert result.success
    assert result.output_for("second") == 2
    assert len(seen) == 1  # called once, then left alone


def test_a_failed_partitioned_asset_is_recorded_per_partition(tmp_path: Path) -> None:
    """Like materializations, failures are recorded per partition, so automation can ask
    whether one partition's last attempt failed."""
    from catchment.partitions import StaticPartitions
    from catchment.storage import open_storage

    @asset(partitions=StaticPartitions(["a", "b", "c"]))
    def boom(context) -> int:  # type: ignore[no-untyped-def]
        raise RuntimeError("no")

    store = open_storage(f"sqlite:///{tmp_path / 'r.db'}")
    result = materialize([boom], partition="a...b", storage=store, raise_on_failure=False)
    failures = [e for e in result.events if e.type is EventType.ASSET_FAILED]
    assert [e.partition for e in failures] == ["a", "b"]
    subjects = [(AssetKey("boom"), p) for p in "abc"]
    assert sorted(p for _, p in store.failures_of(subjects)) == ["a", "b"]


def test_assets_below_a_blocked_asset_of_the_same_step_are_skipped_too() -> None:
    """Issue 25: a multi-asset (like dbt) whose first asset is blocked by a failed loader
    must not be asked to build the assets that read it."""

    @asset
    def loader() -> int:
        raise RuntimeError("source is down")

    built: list[str] = []

    @multi_asset(specs=[spec("a", deps=["loader"]), spec("b", deps=["a"]), spec("c")])
    def models(context: StepContext) -> Iterator[StepResult]:
        for key in sorted(context.selected_keys):
            built.append(str(key))
            yield MaterializeResult(key=key)

    result = materialize([loader, models], raise_on_failure=False)
    assert built == ["c"]
    assert result.status_of("a") == "skipped"
    assert result.status_of("b") == "skipped"
    reasons = {
        e.asset_key: e.data["reason"] for e in result.events if e.type is EventType.ASSET_SKIPPED
    }
    assert reasons == {
        "a": "upstream loader failed",
        "b": "upstream a skipped: upstream loader failed",
    }

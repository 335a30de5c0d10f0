"""Step time limits: an attempt past its deadline is stopped and recorded as timed out, the
retry policy applies, late results are not stored, and workers that cannot be interrupted
are killed. Limits are small (fractions of a second), so nothing here sleeps for long."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from catchment import AssetKey, MaterializeResult, RetryPolicy, asset, multi_asset, spec
from catchment.errors import ConfigError
from catchment.events import EventType
from catchment.execution import MultiprocessExecutor
from catchment.execution.api import materialize
from catchment.io_managers import FilesystemIOManager
from catchment.timeouts import parse_timeout


@asset(timeout=0.3)
def slow() -> int:
    time.sleep(30)
    return 1


@asset
def after_slow(slow: int) -> int:
    return slow + 1


def _failure(result: object, key: str) -> dict[str, object]:
    events = result.events  # type: ignore[attr-defined]
    (event,) = [e for e in events if e.type is EventType.ASSET_FAILED and e.asset_key == key]
    return dict(event.data)


def test_an_in_process_step_past_its_timeout_fails_as_timed_out() -> None:
    start = time.monotonic()
    result = materialize([slow, after_slow], raise_on_failure=False)
    assert time.monotonic() - start < 5
    failure = _failure(result, "slow")
    assert failure["error_class"] == "StepTimeout"
    assert "timed out after 0.3 s" in str(failure["message"])
    assert result.status_of("after_slow") == "skipped"
    assert result.status == "failure"


def test_a_compute_that_catches_exception_is_still_stopped() -> None:
    @asset(timeout=0.3)
    def stubborn() -> int:
        try:
            time.sleep(30)
        except Exception:  # a broad handler must not swallow the time limit
            return 2
        return 1

    result = materialize([stubborn], raise_on_failure=False)
    assert result.status_of("stubborn") == "failed"
    assert "timed out after 0.3 s" in str(_failure(result, "stubborn")["message"])


def test_the_retry_policy_applies_to_a_timed_out_attempt() -> None:
    @asset(timeout=0.3, retry=RetryPolicy(max_retries=1))
    def flaky(context) -> int:  # type: ignore[no-untyped-def]
        if context.attempt == 0:
            time.sleep(30)
        return 7

    result = materialize([flaky])
    assert result.output_for("flaky") == 7
    (retry,) = [e for e in result.events if e.type is EventType.STEP_RETRY]
    assert retry.data["error_class"] == "StepTimeout"
    assert "timed out after 0.3 s" in retry.data["message"]


def test_results_yielded_after_the_deadline_are_not_recorded() -> None:
    @multi_asset(specs=[spec("a"), spec("b")], timeout=0.3)
    def two(context) -> Iterator[MaterializeResult]:  # type: ignore[no-untyped-def]
        yield MaterializeResult(key=AssetKey("a"))
        signal.signal(signal.SIGALRM, signal.SIG_IGN)  # a compute that blocks the interrupt
        time.sleep(0.6)
        yield MaterializeResult(key=AssetKey("b"))

    previous = signal.getsignal(signal.SIGALRM)
    try:
        result = materialize([two], raise_on_failure=False)
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert result.status_of("a") == "success"  # built in time: kept
    assert result.status_of("b") == "failed"
    assert "timed out after 0.3 s" in str(_failure(result, "b")["message"])


def test_context_carries_the_deadline_for_tools() -> None:
    seen: dict[str, float | None] = {}

    @asset(timeout="2m")
    def look(context) -> int:  # type: ignore[no-untyped-def]
        seen["timeout"] = context.timeout
        seen["left"] = context.deadline - time.monotonic()
        return 1

    @asset
    def unlimited(context) -> int:  # type: ignore[no-untyped-def]
        seen["none"] = context.deadline
        return 1

    materialize([look, unlimited])
    assert seen["timeout"] == 120.0
    assert 110 < (seen["left"] or 0) <= 120
    assert seen["none"] is None


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90.0),
        (2.5, 2.5),
        ("45", 45.0),
        ("30s", 30.0),
        ("30m", 1800.0),
        ("2h", 7200.0),
        ("1h30m", 5400.0),
        ("500ms", 0.5),
        (None, None),
    ],
)
def test_durations(value: object, seconds: float | None) -> None:
    assert parse_timeout(value) == seconds


@pytest.mark.parametrize("value", ["soon", "10 minutes", 0, -5, "0s", True, [1]])
def test_bad_durations_say_what_is_accepted(value: object) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_timeout(value, where="catchment.yaml:4")
    assert caught.value.where == "catchment.yaml:4"
    assert "30m" in (caught.value.hint or "")


@asset(timeout=0.4)
def sleeps_in_worker() -> int:
    time.sleep(30)
    return 1


@asset(timeout=0.4)
def deaf_in_worker() -> int:
    signal.signal(signal.SIGALRM, signal.SIG_IGN)  # nothing reaches it: only a kill stops it
    time.sleep(30)
    return 1


@pytest.mark.slow
def test_worker_steps_are_interrupted_or_killed(tmp_path: Path) -> None:
    io = {"default": FilesystemIOManager(tmp_path / "values")}
    start = time.monotonic()
    result = materialize(
        [sleeps_in_worker, deaf_in_worker],
        io_managers=io,
        executor=MultiprocessExecutor(workers=2, kill_grace=0.5),
        raise_on_failure=False,
    )
    assert time.monotonic() - start < 15
    interrupted = _failure(result, "sleeps_in_worker")
    assert "timed out after 0.4 s" in str(interrupted["message"])
    killed = _failure(result, "deaf_in_worker")
    assert killed["error_class"] == "StepTimeout"
    assert "timed out after 0.4 s and did not stop" in str(killed["message"])
    assert "killed its worker process" in str(killed["message"])


def test_a_tool_killed_at_the_deadline_is_named_in_the_failure() -> None:
    import sys

    from catchment.pipes import PipesSubprocessClient

    @multi_asset(specs=[spec("out")], timeout=1)
    def job(context) -> Iterator[MaterializeResult]:  # type: ignore[no-untyped-def]
        yield from PipesSubprocessClient().run(
            context, [sys.executable, "-c", "import time; time.sleep(60)"], label="job.py"
        )

    start = time.monotonic()
    result = materialize([job], raise_on_failure=False)
    assert time.monotonic() - start < 10
    message = str(_failure(result, "out")["message"])
    assert "job.py timed out after 1 s; killed job.py (pid " in message


def _in_a_thread(work: object) -> dict[str, object]:
    """Run ``work(out)`` in a thread that is not the main one (as a Dask task thread)."""
    import threading

    out: dict[str, object] = {}
    thread = threading.Thread(target=work, args=(out,))  # type: ignore[arg-type]
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive()
    return out


def test_python_code_off_the_main_thread_is_interrupted_at_the_deadline() -> None:
    from catchment.timeouts import StepInterrupted, interrupt_at

    def work(out: dict[str, object]) -> None:
        start = time.monotonic()
        try:
            with interrupt_at(start + 0.2):
                total = 0
                while time.monotonic() < start + 30:
                    try:
                        total += sum(range(100))
                    except Exception:  # a broad handler must not swallow it
                        out["swallowed"] = True
        except StepInterrupted:
            out["after"] = time.monotonic() - start

    out = _in_a_thread(work)
    assert "swallowed" not in out
    assert 0.2 <= float(out["after"]) < 2  # type: ignore[arg-type]


def test_an_interrupt_never_lands_after_its_block_ended() -> None:
    from catchment.timeouts import StepInterrupted, interrupt_at

    def work(out: dict[str, object]) -> None:
        try:
            for _ in range(200):  # end blocks right at their deadline, again and again
                with interrupt_at(time.monotonic() + 0.001):
                    end = time.monotonic() + 0.001
                    while time.monotonic() < end:
                        pass
        except StepInterrupted:
            pass  # inside a block: fine
        try:
            end = time.monotonic() + 0.3
            while time.monotonic() < end:  # outside any block: nothing may arrive here
                pass
            out["clean"] = True
        except StepInterrupted:
            out["clean"] = False

    assert _in_a_thread(work)["clean"] is True


def test_a_sleep_off_the_main_thread_is_reported_overdue() -> None:
    """No signal reaches another thread's sleep; the caller is told, to replace the process."""
    from catchment.timeouts import StepInterrupted, interrupt_at

    def work(out: dict[str, object]) -> None:
        told: list[float] = []
        try:
            with interrupt_at(time.monotonic() + 0.1, on_overdue=lambda: told.append(1), grace=0.1):
                time.sleep(0.5)
        except StepInterrupted:
            out["interrupted_after_the_sleep"] = True
        out["told"] = told

    out = _in_a_thread(work)
    assert out["told"] == [1]
    assert out["interrupted_after_the_sleep"] is True

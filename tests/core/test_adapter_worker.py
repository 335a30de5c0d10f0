"""Bounded adapter calls share one worker thread: a result or exception comes back from it,
a call that hangs is reported after its limit and the next call gets a new worker, a call
made while another runs is not delayed by it, and a forked child starts its own worker."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest
from catchment.adapter_worker import _Hung, call_bounded


def _thread() -> threading.Thread:
    return threading.current_thread()


def test_calls_run_one_after_another_on_one_reused_thread() -> None:
    threads = [call_bounded(_thread, 5, "adapter-t-calling", "hung") for _ in range(50)]
    assert len({id(t) for t in threads}) == 1
    assert threads[0] is not threading.current_thread()
    assert threads[0].daemon  # never holds up the interpreter's exit


def test_an_exception_comes_back_to_the_caller() -> None:
    def fails() -> None:
        raise SystemExit(3)

    with pytest.raises(SystemExit):
        call_bounded(fails, 5, "adapter-t-calling", "hung")
    assert call_bounded(lambda: 42, 5, "adapter-t-calling", "hung") == 42


def test_a_hung_call_is_reported_after_its_limit_and_the_next_call_gets_a_new_worker() -> None:
    release = threading.Event()
    before = call_bounded(_thread, 5, "adapter-t-calling", "hung")
    start = time.monotonic()
    with pytest.raises(_Hung, match=r"timed out after 0\.2 s while registering"):
        call_bounded(
            release.wait, 0.2, "adapter-slow-registering", "timed out after 0.2 s while registering"
        )
    assert 0.2 <= time.monotonic() - start < 2
    try:
        stuck = [t for t in threading.enumerate() if t.name == "adapter-slow-registering"]
        assert stuck == [before]  # the hung call keeps the thread, named after what it does
        after = call_bounded(_thread, 5, "adapter-t-calling", "hung")
        assert after is not before
        assert call_bounded(_thread, 5, "adapter-t-calling", "hung") is after
    finally:
        release.set()
    before.join(5)
    assert not before.is_alive()  # retired: it ends once the hung call returns


def test_a_call_made_while_another_runs_is_not_delayed_by_it() -> None:
    release = threading.Event()
    errors: list[BaseException] = []

    def long_call() -> None:
        try:
            call_bounded(release.wait, 30, "adapter-long-importing", "hung")
        except BaseException as exc:
            errors.append(exc)

    other = threading.Thread(target=long_call, daemon=True)
    other.start()
    try:
        while not any(t.name == "adapter-long-importing" for t in threading.enumerate()):
            time.sleep(0.01)
        start = time.monotonic()
        assert call_bounded(lambda: "quick", 5, "adapter-quick-importing", "hung") == "quick"
        assert time.monotonic() - start < 2
    finally:
        release.set()
        other.join(10)
    assert errors == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_forked_child_gets_its_own_worker() -> None:
    call_bounded(lambda: None, 5, "adapter-t-calling", "hung")  # the parent's worker exists
    pid = os.fork()
    if pid == 0:  # the child: the parent's worker thread does not exist here
        try:
            code = 7 if call_bounded(lambda: 7, 5, "adapter-t-calling", "hung") == 7 else 1
        except BaseException:
            code = 2
        sys.stdout.flush()
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 7

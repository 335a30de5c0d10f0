"""One reusable daemon thread on which adapter imports and registration hooks run with a
deadline (a thread per call cost ~24 thread starts per project load).

Calls run one at a time. A call that outlives its limit keeps the thread it runs on (Python
cannot stop a thread): that worker is retired, left behind as a daemon, and the next call
starts a new one. A call made while another thread's call is running gets a worker of its own,
so one caller's time limit never includes another's wait. After ``fork`` the child starts
afresh (the parent's worker thread does not exist there).
"""

from __future__ import annotations

import os
import queue
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["call_bounded"]


class _Hung(Exception):
    """Internal: a bounded call did not return within its limit (the message says so)."""


class _Worker:
    """A daemon thread running queued jobs until it is retired."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[Callable[[], None]] = queue.SimpleQueue()
        self.retired = False
        self._thread = threading.Thread(target=self._loop, daemon=True, name="adapter-worker")
        self._thread.start()

    def _loop(self) -> None:
        while not self.retired:
            self._jobs.get()()

    def run(self, fn: Callable[[], Any], seconds: float, label: str) -> list[tuple[bool, Any]]:
        """``[(True, result)]`` or ``[(False, exception)]`` of ``fn()``; ``[]`` if it did not
        return within ``seconds`` (this worker is then retired: it stays with ``fn``)."""
        outcome: list[tuple[bool, Any]] = []
        finished = threading.Event()

        def job() -> None:
            thread = threading.current_thread()
            thread.name = label  # what a stack dump shows while ``fn`` runs (or hangs)
            try:
                outcome.append((True, fn()))
            except BaseException as exc:  # handed to the caller, which decides
                outcome.append((False, exc))
            thread.name = "adapter-worker"
            finished.set()

        self._jobs.put(job)
        finished.wait(seconds)
        if not outcome:
            self.retire()
        return outcome

    def retire(self) -> None:
        """Run nothing more: the thread ends once its current job (if any) returns."""
        self.retired = True
        self._jobs.put(lambda: None)  # wakes an idle loop so that it sees ``retired``


_shared: _Worker | None = None
_lock = threading.Lock()


def _forget_after_fork() -> None:
    global _shared, _lock
    _shared, _lock = None, threading.Lock()


os.register_at_fork(after_in_child=_forget_after_fork)


def call_bounded(fn: Callable[[], Any], seconds: float, label: str, hung: str) -> Any:
    """``fn()``'s result (or its exception, re-raised), run on the shared worker thread;
    ``_Hung(hung)`` if it has not returned after ``seconds``. ``label`` names the thread
    while ``fn`` runs (e.g. ``adapter-dbt-importing``)."""
    global _shared
    if _lock.acquire(blocking=False):
        try:
            if _shared is None or _shared.retired:
                _shared = _Worker()
            outcome = _shared.run(fn, seconds, label)
        finally:
            _lock.release()
    else:  # another thread's call is running: this one must not wait behind it
        worker = _Worker()
        outcome = worker.run(fn, seconds, label)
        worker.retire()
    if not outcome:
        raise _Hung(hung)
    ok, value = outcome[0]
    if ok:
        return value
    raise value

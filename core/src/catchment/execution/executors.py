"""Executors: where steps run. The engine decides WHAT runs; an executor decides WHERE.

The protocol is small on purpose: ``open(runtime, plan)``, ``submit(request)``,
``next_completed() -> (step name, events)``, used as a context manager, with ``capacity``
(how many steps may run at once). Requests and events are plain data (msgspec-encodable), so
a distributed executor can ship them to other machines: each remote worker loads the same
project (``catchment.project.load_project``), builds a ``StepRuntime`` from it and calls
``run_step(runtime, request)``; no definition or closure is ever pickled. That is the seam for
a distributed engine: implement these four methods over a queue.
"""

from __future__ import annotations

import contextlib
import dataclasses
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from multiprocessing.connection import Connection
from multiprocessing.connection import wait as wait_for_connections
from typing import Any, Protocol, runtime_checkable

import msgspec

from catchment.errors import ExecutionError
from catchment.events import Event, EventType, FailureData
from catchment.execution.context import io_manager_for
from catchment.execution.plan import Plan
from catchment.execution.step import StepRequest, StepRuntime, run_step
from catchment.keys import AssetKey
from catchment.specs import RetryPolicy
from catchment.timeouts import KILL_GRACE_SECONDS, format_seconds


@runtime_checkable
class Executor(Protocol):
    """Runs steps somewhere and reports each one's events when it finishes."""

    capacity: int
    streams_logs: bool  # True when log events already reached ``runtime.live`` as they happened

    def open(self, runtime: StepRuntime, plan: Plan) -> None:
        """Prepare to run ``plan``'s steps; raise ``ExecutionError`` if it cannot."""
        ...

    def submit(self, request: StepRequest) -> None:
        """Start running ``request`` (the engine never submits beyond ``capacity``)."""
        ...

    def next_completed(self) -> tuple[str, list[Event]]:
        """Block until a submitted step finishes; return its name and events."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class InProcessExecutor:
    """Run steps one at a time in this process (the default: no start-up cost, any IO
    manager works, values stay in memory). A step still running ``kill_grace`` seconds past
    its deadline is logged as stuck; nothing is killed (this process is the command's own)."""

    capacity = 1
    streams_logs = True

    def __init__(self, *, kill_grace: float = KILL_GRACE_SECONDS) -> None:
        self.kill_grace = kill_grace
        self._runtime: StepRuntime | None = None
        self._queue: deque[StepRequest] = deque()

    def open(self, runtime: StepRuntime, plan: Plan) -> None:
        self._runtime = dataclasses.replace(runtime, overdue_grace=self.kill_grace)

    def submit(self, request: StepRequest) -> None:
        self._queue.append(request)

    def next_completed(self) -> tuple[str, list[Event]]:
        assert self._runtime is not None, "open() first"
        request = self._queue.popleft()
        return request.step, run_step(self._runtime, request)

    def __enter__(self) -> InProcessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        self._queue.clear()


# -- worker processes ---------------------------------------------------------------------------

_WORKER_RUNTIME: StepRuntime | None = None
_request_decoder = msgspec.json.Decoder(StepRequest)
_events_encoder = msgspec.json.Encoder()
_events_decoder = msgspec.json.Decoder(list[Event])


def _run_in_worker(raw_request: bytes) -> bytes:
    """Worker entry: decode a request, run the step by name, return encoded events."""
    assert _WORKER_RUNTIME is not None, "the worker runtime is inherited by fork"
    request = _request_decoder.decode(raw_request)
    return _events_encoder.encode(run_step(_WORKER_RUNTIME, request))


def _is_process_local(manager: Any) -> bool:
    return bool(getattr(manager, "process_local", False)) or type(manager).__name__ in {
        "MemoryIOManager",
        "_MemoryIOManager",
    }


class _Worker:
    """One forked worker process and the pipe to it."""

    def __init__(self, ctx: Any):
        parent, child = ctx.Pipe(duplex=True)
        self.process = ctx.Process(target=_worker_loop, args=(child,), daemon=True)
        self.process.start()
        child.close()  # so the parent sees EOF when the worker dies
        self.conn: Connection = parent
        self.request: StepRequest | None = None
        self.hard_deadline: float | None = None  # kill the worker if still busy then

    def kill(self) -> None:
        """SIGKILL the worker and the process groups of the tools it started."""
        pid = self.process.pid
        if pid is not None:
            for child in _children(pid):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(child, signal.SIGKILL)  # tools run as group leaders
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(child, signal.SIGKILL)
        self.process.kill()
        self.process.join(timeout=5)
        self.conn.close()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.conn.send_bytes(b"")
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.conn.close()


def _children(pid: int) -> list[int]:
    """Direct children of ``pid`` (Linux ``/proc``; empty elsewhere)."""
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/children") as f:
                out.extend(int(c) for c in f.read().split())
    return out


def _die_with_parent() -> None:
    """On Linux, have the kernel kill this worker when the engine process dies (even by
    SIGKILL), so no orphan keeps writing after a killed run."""
    if not sys.platform.startswith("linux"):
        return
    with contextlib.suppress(Exception):
        import ctypes
        import signal

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGKILL))


def _worker_loop(conn: Connection) -> None:
    """A worker: receive encoded requests, run them by name, send back encoded events."""
    _die_with_parent()
    while True:
        try:
            raw = conn.recv_bytes()
        except (EOFError, OSError, KeyboardInterrupt):  # engine gone, or Ctrl-C while idle
            return
        if not raw:
            return
        try:
            out = _run_in_worker(raw)
        except Exception as exc:  # never leave the parent waiting
            request = _request_decoder.decode(raw)
            out = _events_encoder.encode(
                _worker_failed(request, type(exc).__name__, str(exc) or type(exc).__name__)
            )
        try:
            conn.send_bytes(out)
        except OSError:  # the engine is gone
            return


class MultiprocessExecutor:
    """Run ready steps in parallel worker processes (``--workers N``).

    Workers are forked, so they inherit the loaded definitions, resources and IO managers;
    only encoded step requests and events cross the pipes (no pickled definitions, no
    management thread). Values pass between steps through the IO managers, so an in-memory
    IO manager cannot be used (``open`` says so). A worker that dies fails only its step.

    A step with a time limit is interrupted inside its worker at each attempt's deadline; a
    worker still busy ``kill_grace`` seconds (``kill_grace_seconds`` in the executor settings)
    after the step's last possible deadline (all attempts and retry waits counted) is killed
    with SIGKILL, with the tools it started, and the step fails as timed out.
    """

    streams_logs = False

    def __init__(self, workers: int = 2, *, kill_grace: float = KILL_GRACE_SECONDS):
        if workers < 1:
            raise ExecutionError("--workers must be at least 1", where="--workers")
        if sys.platform == "win32":  # pragma: no cover - fork is POSIX only
            raise ExecutionError(
                "parallel workers need fork (Linux or macOS)", hint="use --workers 1"
            )
        self.capacity = workers
        self.kill_grace = kill_grace
        self._ctx = multiprocessing.get_context("fork")
        self._workers: list[_Worker] = []
        self._runtime: StepRuntime | None = None

    def open(self, runtime: StepRuntime, plan: Plan) -> None:
        global _WORKER_RUNTIME
        for key in plan.asset_keys:
            spec = runtime.graph.specs[key]
            try:
                manager = io_manager_for(spec, runtime.io_managers, f"asset {spec.key}")
            except ExecutionError:
                continue
            if _is_process_local(manager):
                name = spec.io_manager_key or "default"
                raise ExecutionError(
                    f"IO manager {name!r} keeps values in memory, which worker processes "
                    "cannot share",
                    where=f"asset {spec.key}",
                    hint="run with --workers 1, or use a filesystem or duckdb IO manager",
                )
        _WORKER_RUNTIME = runtime  # forked workers inherit it
        self._runtime = runtime

    def submit(self, request: StepRequest) -> None:
        worker = next((w for w in self._workers if w.request is None), None)
        if worker is None:
            if len(self._workers) >= self.capacity:
                raise ExecutionError("no idle worker: the engine submitted beyond capacity")
            worker = _Worker(self._ctx)
            self._workers.append(worker)
        worker.request = request
        worker.hard_deadline = self._hard_deadline(request)
        worker.conn.send_bytes(msgspec.json.encode(request))

    def _hard_deadline(self, request: StepRequest) -> float | None:
        """When a worker running ``request`` is overdue beyond any doubt."""
        if request.timeout is None:
            return None
        policy: RetryPolicy | None = None
        if self._runtime is not None:
            defn = self._runtime.graph.definitions.get(request.step)
            policy = (defn.retry if defn is not None else None) or self._runtime.default_retry
        policy = policy or RetryPolicy()
        attempts = 1 + policy.max_retries
        waits = sum(policy.wait_for(a) for a in range(policy.max_retries))
        return time.monotonic() + attempts * (request.timeout + self.kill_grace) + waits

    def next_completed(self) -> tuple[str, list[Event]]:
        busy = [w for w in self._workers if w.request is not None]
        deadlines = [w.hard_deadline for w in busy if w.hard_deadline is not None]
        wait = max(0.0, min(deadlines) - time.monotonic()) if deadlines else None
        ready = wait_for_connections([w.conn for w in busy], timeout=wait)
        if not ready:
            return self._kill_overdue(busy)
        worker = min(
            (w for w in busy if w.conn in ready), key=lambda w: w.request.step if w.request else ""
        )
        request = worker.request
        assert request is not None
        worker.request = None
        try:
            return request.step, _events_decoder.decode(worker.conn.recv_bytes())
        except (EOFError, OSError):
            self._workers.remove(worker)  # dead: a fresh one is forked on the next submit
            worker.process.join(timeout=5)
            worker.conn.close()
            return request.step, _worker_failed(request, "WorkerDied", _DIED)

    def _kill_overdue(self, busy: list[_Worker]) -> tuple[str, list[Event]]:
        now = time.monotonic()
        worker = min(
            (w for w in busy if w.hard_deadline is not None and w.hard_deadline <= now),
            key=lambda w: w.hard_deadline or 0.0,
            default=None,
        )
        if worker is None:  # woke early: wait again
            return self.next_completed()
        request = worker.request
        assert request is not None
        assert request.timeout is not None
        pid = worker.process.pid
        self._workers.remove(worker)
        worker.kill()
        message = (
            f"timed out after {format_seconds(request.timeout)} s and did not stop; "
            f"killed its worker process (pid {pid}) and the tools it started"
        )
        return request.step, _worker_failed(request, "StepTimeout", message)

    def __enter__(self) -> MultiprocessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        global _WORKER_RUNTIME
        for worker in self._workers:
            worker.stop()
        self._workers = []
        _WORKER_RUNTIME = None  # the run's graph, resources and IO managers are not kept


_DIED = "the worker process running this step died (killed, or out of memory)"


def _worker_failed(request: StepRequest, error_class: str, message: str) -> list[Event]:
    failure = FailureData(error_class=error_class, message=message, where=f"step {request.step}")
    events = [Event.of(request.run_id, EventType.STEP_FAILED, failure, step_key=request.step)]
    events.extend(
        Event.of(
            request.run_id,
            EventType.ASSET_FAILED,
            failure,
            step_key=request.step,
            asset_key=str(AssetKey(k)),
        )
        for k in request.asset_keys
    )
    return events


def executor_for(workers: int | None) -> Executor:
    """``InProcessExecutor`` for None/1 workers, else a ``MultiprocessExecutor``."""
    if workers is None or workers <= 1:
        return InProcessExecutor()
    return MultiprocessExecutor(workers)

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

import multiprocessing
import sys
from collections import deque
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any, Protocol, runtime_checkable

import msgspec

from catchment.errors import ExecutionError
from catchment.events import Event, EventType
from catchment.execution.context import io_manager_for
from catchment.execution.plan import Plan
from catchment.execution.step import StepRequest, StepRuntime, run_step
from catchment.keys import AssetKey


@runtime_checkable
class Executor(Protocol):
    """Runs steps somewhere and reports each one's events when it finishes."""

    capacity: int
    streams_logs: bool  # True when log events already reached ``runtime.live`` as they happened

    def open(self, runtime: StepRuntime, plan: Plan) -> None:
        """Prepare to run ``plan``'s steps; raise ``ExecutionError`` if it cannot."""
        ...

    def submit(self, request: StepRequest) -> None: ...

    def next_completed(self) -> tuple[str, list[Event]]:
        """Block until a submitted step finishes; return its name and events."""
        ...

    def __enter__(self) -> Executor: ...

    def __exit__(self, *exc: object) -> None: ...


class InProcessExecutor:
    """Run steps one at a time in this process (the default: no start-up cost, any IO
    manager works, values stay in memory)."""

    capacity = 1
    streams_logs = True

    def __init__(self) -> None:
        self._runtime: StepRuntime | None = None
        self._queue: deque[StepRequest] = deque()

    def open(self, runtime: StepRuntime, plan: Plan) -> None:
        self._runtime = runtime

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


class MultiprocessExecutor:
    """Run ready steps in parallel worker processes (``--workers N``).

    Workers are forked, so they inherit the loaded definitions, resources and IO managers;
    only step names and events cross the process boundary. Values pass between steps through
    the IO managers, so an in-memory IO manager cannot be used (``open`` says so).
    """

    streams_logs = False

    def __init__(self, workers: int = 2):
        if workers < 1:
            raise ExecutionError("--workers must be at least 1", where="--workers")
        if sys.platform == "win32":  # pragma: no cover - fork is POSIX only
            raise ExecutionError(
                "parallel workers need fork (Linux or macOS)", hint="use --workers 1"
            )
        self.capacity = workers
        self._pool: ProcessPoolExecutor | None = None
        self._futures: dict[Future[bytes], StepRequest] = {}

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
        _WORKER_RUNTIME = runtime
        self._runtime = runtime

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=self.capacity, mp_context=multiprocessing.get_context("fork")
            )
        return self._pool

    def submit(self, request: StepRequest) -> None:
        raw = msgspec.json.encode(request)
        self._futures[self._ensure_pool().submit(_run_in_worker, raw)] = request

    def next_completed(self) -> tuple[str, list[Event]]:
        done, _ = wait(list(self._futures), return_when=FIRST_COMPLETED)
        future = min(done, key=lambda f: self._futures[f].step)
        request = self._futures.pop(future)
        try:
            return request.step, _events_decoder.decode(future.result())
        except BrokenProcessPool:
            self._pool = None  # start a fresh pool for the steps still to run
            return request.step, _worker_failed(request, "WorkerDied", _DIED)
        except Exception as exc:  # the worker could not run or report the step
            return request.step, _worker_failed(request, type(exc).__name__, str(exc))

    def __enter__(self) -> MultiprocessExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


_DIED = "the worker process running this step died (killed, or out of memory)"


def _worker_failed(request: StepRequest, error_class: str, message: str) -> list[Event]:
    data = {
        "error_class": error_class,
        "message": message,
        "where": f"step {request.step}",
        "output": "",
    }
    events = [
        Event(run_id=request.run_id, type=EventType.STEP_FAILED, step_key=request.step, data=data)
    ]
    events.extend(
        Event(
            run_id=request.run_id,
            type=EventType.ASSET_FAILED,
            step_key=request.step,
            asset_key=str(AssetKey(k)),
            data=data,
        )
        for k in request.asset_keys
    )
    return events


def executor_for(workers: int | None) -> Executor:
    """``InProcessExecutor`` for None/1 workers, else a ``MultiprocessExecutor``."""
    if workers is None or workers <= 1:
        return InProcessExecutor()
    return MultiprocessExecutor(workers)

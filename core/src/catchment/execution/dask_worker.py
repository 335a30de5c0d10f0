"""The Dask worker side of the ``dask`` executor: load the project once per version, claim
the step's attempt in the record store, run it, keep its events until the engine has them.

What crosses the wire is plain data (the project folder, its version, a log topic, a
msgspec-encoded ``StepRequest``); the task function is referenced by module name, so no
definition or closure is pickled. Every worker must have the project at the same path.

Idempotence lives in the shared record store, not in Dask (which re-runs a task whose worker
died, and re-runs a finished task whose result was lost with its worker):

- each execution of a step claims the next free attempt lease ``dask:RUN:STEP#N``; an
  execution that finds N claims already taken knows N earlier executions died with their
  worker. It records one ``step_retry`` per lost attempt and runs only if the step's retry
  policy allows another attempt, so a killed step re-runs exactly once per retry allowed;
- a finished step leaves its encoded events in the cursor ``dask-done:RUN:STEP`` before it
  returns; an execution that finds them returns them without running, so a finished step is
  never run again, whatever Dask decides.

Time limits: the step runs in a Dask task thread, where ``run_step`` raises
``StepInterrupted`` into Python code at the deadline (``catchment.timeouts``). Code blocked in
native code, a sleep or a wait is not reached by it, so each execution first announces where
it runs (topic ``TOPIC-running``: worker address, pid, nanny, attempts left); the engine
restarts a worker still busy with it well past its deadline (``dask_executor``), and leaves a
note in the cursor ``dask-lost:RUN:STEP`` for the other steps that were running there, which
the re-execution records as the reason its attempt was lost.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import msgspec

from catchment.errors import ExecutionError
from catchment.events import Event, EventType, StepRetryData
from catchment.execution.executors import _worker_failed as failed_step
from catchment.execution.step import StepRequest, StepRuntime, run_step
from catchment.specs import RetryPolicy

if TYPE_CHECKING:
    from catchment.project import Project
    from catchment.storage import Storage

CLAIM_TTL = 30 * 24 * 3600.0  # an attempt claim outlives any run; released when the step ends
RECEIVED = "received"  # a done cursor the engine has read (its events are in the run's record)
WORKER_DIED = (
    "the Dask worker running this step died (killed, or out of memory) or lost its scheduler"
)

OVERDUE_WITH_NANNY = (
    "it is blocked where no exception reaches it (native code, a sleep or a wait); "
    "the engine restarts this Dask worker through its nanny"
)
OVERDUE_WITHOUT_NANNY = (
    "it is blocked where no exception reaches it (native code, a sleep or a wait); this "
    "Dask worker has no nanny, so it is not restarted: the step ends when its compute "
    "returns, and what it builds after the deadline is not recorded"
)

_request_decoder = msgspec.json.Decoder(StepRequest)
_encoder = msgspec.json.Encoder()


class Running(msgspec.Struct, frozen=True, kw_only=True):
    """Where an execution of a step runs, announced when it starts: the engine restarts
    ``address`` (through its nanny) when the step is still running well past its deadline."""

    run_id: str
    step: str
    address: str
    pid: int
    nanny: bool
    attempts: int  # attempts this execution may still make (each with the step's timeout)
    waits: float  # the retry waits between them, in seconds


def project_version(project: Project) -> str:
    """A fingerprint of the project's code: ``catchment.yaml`` and every asset's code version
    (what a worker must have loaded to run this project's steps)."""
    digest = hashlib.sha256(project.file.read_bytes())
    graph = project.require_graph()
    for key in sorted(graph.specs, key=str):
        digest.update(f"\n{key}={graph.specs[key].code_version}".encode())
    return digest.hexdigest()[:16]


def claim_name(run_id: str, step: str, attempt: int) -> str:
    """The lease an execution of ``step`` holds for attempt ``attempt``."""
    return f"dask:{run_id}:{step}#{attempt}"


def done_name(run_id: str, step: str) -> str:
    """The cursor holding a finished step's encoded events until the engine has them."""
    return f"dask-done:{run_id}:{step}"


def lost_name(run_id: str, step: str) -> str:
    """The cursor where the engine says why it took down the worker running ``step``."""
    return f"dask-lost:{run_id}:{step}"


def running_topic(topic: str) -> str:
    """The Dask event topic where executions announce where they run (``Running``)."""
    return f"{topic}-running"


@dataclass
class _Loaded:
    project: Project
    runtime: StepRuntime
    storage: Storage
    bound_run: str = ""  # dynamic partition keys are read once per run


_cache: dict[tuple[str, str], _Loaded] = {}
_cache_lock = threading.Lock()


def _loaded(root: str, version: str) -> _Loaded:
    """This worker's project for ``(root, version)``: loaded on first use, then reused."""
    with _cache_lock:
        found = _cache.get((root, version))
        if found is not None:
            return found
        from catchment.execution.project import runtime_for_project
        from catchment.project import load_project
        from catchment.storage import open_storage

        project = load_project(Path(root))
        mine = project_version(project)
        if mine != version:
            raise ExecutionError(
                f"this worker sees project version {mine} at {root}, the run needs {version}",
                where=f"Dask worker {_worker_address()}",
                hint="install the same project, at the same path, on every worker "
                "(and restart the workers after changing it)",
            )
        for old in [k for k in _cache if k[0] == root]:  # an older version of this project
            _cache.pop(old).storage.close()
        storage = open_storage(project.defaults.storage_url)
        loaded = _Loaded(project, runtime_for_project(project), storage)
        _cache[(root, version)] = loaded
        return loaded


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "(not on a Dask worker)"


def _this_worker() -> Any:
    """The Dask worker running this task, or None (called outside a worker, as in tests)."""
    try:
        from distributed import get_worker

        return get_worker()
    except (ImportError, ValueError):
        return None


def _publisher(worker: Any, topic: str) -> Any:
    """A ``live`` callback sending each log event to the engine as it happens."""
    if worker is None:
        return None

    def send(event: Event) -> None:
        worker.log_event(topic, _encoder.encode(event).decode())

    return send


def _announce(
    worker: Any, topic: str, request: StepRequest, policy: RetryPolicy, attempt: int
) -> bool:
    """Tell the engine where this execution runs; return whether the worker has a nanny."""
    nanny = bool(getattr(worker, "nanny", None))
    running = Running(
        run_id=request.run_id,
        step=request.step,
        address=str(worker.address),
        pid=os.getpid(),
        nanny=nanny,
        attempts=policy.max_retries + 1 - attempt,
        waits=sum(policy.wait_for(a) for a in range(attempt, policy.max_retries)),
    )
    worker.log_event(running_topic(topic), _encoder.encode(running).decode())
    return nanny


def _claim(storage: Storage, request: StepRequest, limit: int) -> tuple[int, str]:
    """Take the first free attempt lease (at most ``limit``); return its number and holder."""
    holder = uuid4().hex
    now = time.time()
    for attempt in range(limit):
        if storage.acquire_lease(
            claim_name(request.run_id, request.step, attempt), holder, now, CLAIM_TTL
        ):
            return attempt, holder
    return limit, holder


def _release(storage: Storage, request: StepRequest, upto: int) -> None:
    """Drop the attempt leases of a finished step (its done cursor now answers for it)."""
    for attempt in range(upto + 1):
        name = claim_name(request.run_id, request.step, attempt)
        lease = storage.get_lease(name)
        if lease is not None:
            storage.release_lease(name, lease.holder)


def lost_attempts(
    request: StepRequest, lost: int, policy: RetryPolicy, why: str | None = None
) -> list[Event]:
    """One ``step_retry`` per earlier execution that died with its worker (within the
    policy's retries), then a failure if no retry is left. ``why`` is the engine's note on
    the last one (its worker was restarted, and why), when it left one."""

    def message(n: int) -> str:
        return why if why and n == lost - 1 else WORKER_DIED

    events = [
        Event.of(
            request.run_id,
            EventType.STEP_RETRY,
            StepRetryData(
                attempt=n + 1,
                of=policy.max_retries,
                wait=0.0,
                failed=list(request.asset_keys),
                error_class="WorkerDied",
                message=message(n),
                where=f"step {request.step}",
            ),
            step_key=request.step,
        )
        for n in range(min(lost, policy.max_retries))
    ]
    if lost > policy.max_retries:
        tries = "no retry is allowed" if policy.max_retries == 0 else "no retry is left"
        events.extend(failed_step(request, "WorkerDied", f"{message(lost - 1)}; {tries}"))
    return events


def run_on_worker(root: str, version: str, topic: str, raw: bytes) -> bytes:
    """The Dask task: run one step of the project at ``root`` (once, see the module doc) and
    return its msgspec-encoded events. The record store is the project's own
    (``defaults.storage``, read on the worker), so no URL or secret travels in task arguments."""
    loaded = _loaded(root, version)
    request = _request_decoder.decode(raw)
    storage = loaded.storage
    done = done_name(request.run_id, request.step)
    stored = storage.get_cursors([done]).get(done)
    if stored is not None:
        return stored.encode() if stored != RECEIVED else b"[]"
    if loaded.bound_run != request.run_id:
        from catchment.dynamic import bind_dynamic_partitions

        bind_dynamic_partitions(loaded.runtime.graph, storage)
        loaded.bound_run = request.run_id
    runtime = loaded.runtime
    defn = runtime.graph.definitions[request.step]
    policy = defn.retry or runtime.default_retry or RetryPolicy()
    attempt, _ = _claim(storage, request, policy.max_retries + 1)
    why = None
    if attempt > 0:
        lost = lost_name(request.run_id, request.step)
        why = storage.get_cursors([lost]).get(lost)
        if why:  # said once: a later loss of this step has its own cause
            storage.set_cursors({lost: ""}, time.time())
    events = lost_attempts(request, attempt, policy, why)
    if attempt <= policy.max_retries:
        worker = _this_worker()
        # a copy per step: a worker with several threads runs several steps at once
        own = dataclasses.replace(runtime, live=_publisher(worker, topic))
        if worker is not None:
            nanny = _announce(worker, topic, request, policy, attempt)
            own.overdue_note = OVERDUE_WITH_NANNY if nanny else OVERDUE_WITHOUT_NANNY
        events.extend(run_step(own, request, first_attempt=attempt))
    out = _encoder.encode(events)
    storage.set_cursors({done: out.decode()}, time.time())
    _release(storage, request, attempt)
    return out

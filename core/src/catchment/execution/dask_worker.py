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
"""

from __future__ import annotations

import dataclasses
import hashlib
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

_request_decoder = msgspec.json.Decoder(StepRequest)
_encoder = msgspec.json.Encoder()


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


def _publisher(topic: str) -> Any:
    """A ``live`` callback sending each log event to the engine as it happens."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None

    def send(event: Event) -> None:
        worker.log_event(topic, _encoder.encode(event).decode())

    return send


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


def lost_attempts(request: StepRequest, lost: int, policy: RetryPolicy) -> list[Event]:
    """One ``step_retry`` per earlier execution that died with its worker (within the
    policy's retries), then a failure if no retry is left."""
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
                message=WORKER_DIED,
                where=f"step {request.step}",
            ),
            step_key=request.step,
        )
        for n in range(min(lost, policy.max_retries))
    ]
    if lost > policy.max_retries:
        tries = "no retry is allowed" if policy.max_retries == 0 else "no retry is left"
        events.extend(failed_step(request, "WorkerDied", f"{WORKER_DIED}; {tries}"))
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
    events = lost_attempts(request, attempt, policy)
    if attempt <= policy.max_retries:
        # a copy per step: a worker with several threads runs several steps at once
        own = dataclasses.replace(runtime, live=_publisher(topic))
        events.extend(run_step(own, request, first_attempt=attempt))
    out = _encoder.encode(events)
    storage.set_cursors({done: out.decode()}, time.time())
    _release(storage, request, attempt)
    return out

"""The ``dask`` executor: steps run on a Dask distributed cluster.

The engine's side. It sends each step as plain data to ``dask_worker.run_on_worker`` (the
worker loads the project itself, once per project version), shows the log events workers
publish while steps run (Dask's structured events, topic ``catchment-TOKEN``), and hands each
step's events to the engine once, which records them in one transaction as with any executor.

Fault handling, with the record store as the single source of truth (see ``dask_worker``):
a worker that dies mid-step makes Dask run the task again elsewhere (or report
``KilledWorker``, then this executor submits it again); the re-run counts the lost attempt
against the step's retry policy. Results are gathered and released as soon as a step
finishes, so Dask holds no finished result that a dying worker could make it recompute. A
lost scheduler ends the run with a clear error; ``catchment runs retry --from-failure``
resumes it on a new cluster.

Time limits: the worker interrupts Python code at the step's deadline. A step still running
``kill_grace`` seconds after its last possible deadline (all attempts counted, from when its
execution announced where it runs) is blocked where no exception reaches it: the step fails
as timed out at once, its task is cancelled, and its worker is restarted through its nanny
(``Client.restart_workers``), in the background. Other steps running on that worker are run
again by Dask, each counting a lost attempt against its retry policy, with the reason noted.
A worker without a nanny cannot be restarted (Dask would only shut it down): the engine logs
it and waits for the compute to return, as it always did.

Nothing here is imported until the executor is used (``catchment[dask]``).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import os
import queue
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import uuid4

import msgspec

from catchment.errors import ExecutionError
from catchment.events import Event, EventType, LogData
from catchment.execution.context import io_manager_for
from catchment.execution.dask_worker import (
    RECEIVED,
    Running,
    done_name,
    lost_name,
    project_version,
    run_on_worker,
    running_topic,
)
from catchment.execution.executors import _worker_failed as failed_step
from catchment.execution.plan import Plan
from catchment.execution.step import INTERRUPT_MARGIN, StepRequest, StepRuntime
from catchment.timeouts import KILL_GRACE_SECONDS, format_seconds

if TYPE_CHECKING:
    from catchment.project import Project

INSTALL_HINT = "install it with: pip install 'catchment[dask]'"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", ""}
WORKER_WAIT_SECONDS = 60.0  # a scheduler without workers fails the run, not hangs it
POLL_SECONDS = 0.05  # how often streamed log events are shown while waiting for a step

RESTART_SECONDS = 30.0  # how long a worker restart may take (shut down and come back)

_QUIET = ("distributed", "distributed.client", "distributed.comm", "distributed.core")
_events_decoder = msgspec.json.Decoder(list[Event])
_event_decoder = msgspec.json.Decoder(Event)
_running_decoder = msgspec.json.Decoder(Running)
_log = logging.getLogger(__name__)


@dataclass
class _Placed:
    """Where a submitted step's execution runs, and when it is overdue beyond any doubt."""

    running: Running
    hard_deadline: float | None  # time.monotonic(); None without a time limit


def _import_distributed() -> Any:
    try:
        import distributed
    except ImportError as exc:
        raise ExecutionError(
            "the dask executor needs the `distributed` package", hint=INSTALL_HINT
        ) from exc
    return distributed


def _is_local(address: str | None) -> bool:
    if address is None:
        return True
    host = urllib.parse.urlsplit(address if "://" in address else f"tcp://{address}").hostname
    return (host or "") in LOCAL_HOSTS


def _in_memory(value: Any) -> bool:
    """A resource or IO manager whose state lives in one process."""
    if bool(getattr(value, "process_local", False)):
        return True
    if type(value).__name__ in {"MemoryIOManager", "_MemoryIOManager"}:
        return True
    fields = getattr(type(value), "model_fields", None)
    if fields:
        return any(str(getattr(value, name, "")).strip() == ":memory:" for name in fields)
    return False


def refuse_local_only(
    runtime: StepRuntime, plan: Plan, storage_url: str, address: str | None
) -> None:
    """Raise ``ExecutionError`` for what cannot cross machines: an in-memory IO manager or
    resource a planned step uses, an in-memory record store, and a SQLite record store with
    workers on other machines."""
    graph = runtime.graph
    for key in plan.asset_keys:
        spec = graph.specs[key]
        try:
            manager = io_manager_for(spec, runtime.io_managers, f"asset {spec.key}")
        except ExecutionError:
            continue
        if _in_memory(manager):
            name = spec.io_manager_key or "default"
            raise ExecutionError(
                f"IO manager {name!r} keeps values in memory, which Dask workers cannot share",
                where=f"asset {spec.key}",
                hint="use a filesystem IO manager on a path every worker sees, or the duckdb "
                "IO manager on a shared warehouse (or run without --executor dask)",
            )
    for step in plan.steps:
        for name in sorted(graph.definitions[step.name].required_resources):
            value = runtime.resources.get(name)
            if value is not None and _in_memory(value):
                raise ExecutionError(
                    f"resource {name!r} lives in memory, which Dask workers cannot share",
                    where=f"step {step.name}",
                    hint="configure it with a file or server every worker can reach "
                    "(e.g. a DuckDB file path instead of ':memory:')",
                )
    if ":memory:" in storage_url:
        raise ExecutionError(
            "an in-memory record store cannot be shared with Dask workers",
            where="defaults.storage",
            hint="use a SQLite file (one machine) or postgresql://... (several machines)",
        )
    if storage_url.startswith("sqlite") and not _is_local(address):
        raise ExecutionError(
            f"the record store is a SQLite file, which workers behind {address} cannot share",
            where="defaults.storage",
            hint="use a PostgreSQL record store every worker reaches: "
            "defaults: {storage: postgresql://user@host:5432/db}",
        )


# What ``wait`` raises when the scheduler went away: futures cancelled with it, a closed comm.
_LOST: tuple[type[BaseException], ...] = (OSError, concurrent.futures.CancelledError)


DEFAULT_START_METHOD = "fork" if sys.platform.startswith("linux") else "spawn"


def local_cluster(workers: int, start_method: str = DEFAULT_START_METHOD) -> Any:
    """A ``LocalCluster`` of ``workers`` single-threaded worker processes, started with
    ``start_method`` (fork on Linux: about 10x faster to be ready than spawn, which
    re-imports Dask in every worker)."""
    import dask

    distributed = _import_distributed()
    with dask.config.set({"distributed.worker.multiprocessing-method": start_method}):
        return distributed.LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )


class DaskExecutor:
    """Run steps on a Dask cluster: ``address`` (``tcp://host:8786``), or a ``LocalCluster``
    of ``workers`` single-threaded worker processes (default: one per CPU) started with
    ``start_method`` (fork, forkserver or spawn). A step still running ``kill_grace``
    seconds (``kill_grace_seconds`` in the executor settings) after its last possible deadline
    has its worker restarted (see the module doc)."""

    streams_logs = True

    def __init__(
        self,
        project_root: Path,
        storage_url: str,
        version: str,
        *,
        address: str | None = None,
        workers: int | None = None,
        start_method: str | None = None,
        kill_grace: float = KILL_GRACE_SECONDS,
    ):
        self.start_method = start_method or DEFAULT_START_METHOD
        self.kill_grace = kill_grace
        self.project_root = str(project_root)
        self.storage_url = storage_url
        self.version = version
        self.address = address
        self.workers = workers
        self.capacity = 1
        self.topic = f"catchment-{uuid4().hex}"
        self._distributed: Any = None
        self._cluster: Any = None
        self._client: Any = None
        self._runtime: StepRuntime | None = None
        self._futures: dict[Any, StepRequest] = {}
        self._received: set[tuple[str, str]] = set()
        self._logs: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._log_levels: dict[str, int] = {}
        self._announced: queue.SimpleQueue[str] = queue.SimpleQueue()
        self._placed: dict[str, _Placed] = {}  # step -> where its execution runs
        self._waited: set[str] = set()  # overdue steps on workers without a nanny (logged)
        self._restarting: set[str] = set()  # worker addresses being restarted
        self._restarts: list[threading.Thread] = []
        self._clock = time.monotonic  # replaced by tests

    @classmethod
    def for_project(
        cls,
        project: Project,
        *,
        address: str | None = None,
        workers: int | None = None,
        start_method: str | None = None,
        kill_grace: float = KILL_GRACE_SECONDS,
    ) -> DaskExecutor:
        """The executor for a loaded project (its folder, record store and version)."""
        return cls(
            project.root,
            project.defaults.storage_url,
            project_version(project),
            address=address,
            workers=workers,
            start_method=start_method,
            kill_grace=kill_grace,
        )

    # -- the cluster ------------------------------------------------------------------------

    def open(self, runtime: StepRuntime, plan: Plan) -> None:
        refuse_local_only(runtime, plan, self.storage_url, self.address)
        distributed = self._distributed = _import_distributed()
        self._runtime = runtime
        # The client logs each failed reconnect with a traceback; this executor reports a
        # lost scheduler itself, as one clear message.
        self._log_levels = {name: logging.getLogger(name).level for name in _QUIET}
        for name in _QUIET:
            logging.getLogger(name).setLevel(logging.CRITICAL)
        try:
            if self.address is None:
                self._cluster = local_cluster(
                    self.workers or os.cpu_count() or 1, self.start_method
                )
                self._client = distributed.Client(self._cluster, set_as_default=False)
            else:
                self._client = distributed.Client(self.address, set_as_default=False, timeout="10s")
        except (OSError, TimeoutError) as exc:
            self.__exit__()
            where = self.address or "LocalCluster"
            raise ExecutionError(
                f"could not reach the Dask scheduler: {exc}",
                where=where,
                hint="start it with `dask scheduler` (and `dask worker ADDRESS`), or omit the "
                "address to run a local cluster",
            ) from exc
        try:
            self._client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
        except TimeoutError as exc:
            where = self.address or "LocalCluster"
            self.__exit__()
            raise ExecutionError(
                f"no Dask worker connected to the scheduler within {WORKER_WAIT_SECONDS:g} s",
                where=where,
                hint="start workers with `dask worker ADDRESS` (with the project installed)",
            ) from exc
        self.capacity = max(1, sum(self._client.nthreads().values()))
        self._client.subscribe_topic(self.topic, self._on_log)
        self._client.subscribe_topic(running_topic(self.topic), self._on_running)

    def _on_log(self, event: tuple[float, Any]) -> None:
        """Called on the client's event loop thread: queue the log for the engine's thread."""
        self._logs.put(event[1])

    def _on_running(self, event: tuple[float, Any]) -> None:
        """Called on the client's event loop thread: an execution says where it runs."""
        self._announced.put(event[1])

    def _show_logs(self) -> None:
        live = self._runtime.live if self._runtime is not None else None
        while True:
            try:
                raw = self._logs.get_nowait()
            except queue.Empty:
                return
            if live is not None:
                with contextlib.suppress(msgspec.DecodeError):
                    live(_event_decoder.decode(raw))

    # -- steps ------------------------------------------------------------------------------

    def submit(self, request: StepRequest) -> None:
        assert self._client is not None, "open() first"
        future = self._client.submit(
            run_on_worker,
            self.project_root,
            self.version,
            self.topic,
            msgspec.json.encode(request),
            key=f"catchment-{request.step}-{uuid4().hex[:12]}",
            pure=False,
        )
        self._futures[future] = request

    def next_completed(self) -> tuple[str, list[Event]]:
        distributed = self._distributed
        while True:
            self._show_logs()
            if self._client.status in ("closing", "closed"):
                raise self._lost_scheduler("the client was closed")
            self._note_placements()
            stuck = self._overdue()
            if stuck is not None:
                return stuck
            try:
                with self._client.as_current():
                    done = distributed.wait(
                        list(self._futures), timeout=POLL_SECONDS, return_when="FIRST_COMPLETED"
                    ).done
            except TimeoutError:
                continue
            except _LOST as exc:  # the client cancels every future when the scheduler is gone
                raise self._lost_scheduler(
                    f"the connection to it was lost: {type(exc).__name__}"
                ) from None
            for future in sorted(done, key=lambda f: self._futures[f].step):
                found = self._take(future)
                if found is not None:
                    self._show_logs()
                    return found

    def _take(self, future: Any) -> tuple[str, list[Event]] | None:
        """The step ``future`` finished, or None when it was submitted again."""
        request = self._futures.pop(future)
        self._placed.pop(request.step, None)
        status = future.status
        if status == "finished":
            raw: bytes = future.result()
            future.release()  # Dask keeps no finished result a dying worker could recompute
            self._received.add((request.run_id, request.step))
            return request.step, _events_decoder.decode(raw)
        exc = future.exception() if status == "error" else None
        future.release()
        if exc is None:  # cancelled: the scheduler went away with our tasks
            self._futures[future] = request
            raise self._lost_scheduler(f"step {request.step} was {status}")
        if type(exc).__name__ == "KilledWorker":
            self.submit(request)  # the worker side counts the lost attempt
            return None
        self._received.add((request.run_id, request.step))
        message = str(exc) or type(exc).__name__
        return request.step, failed_step(request, type(exc).__name__, message)

    # -- steps past their time limit -----------------------------------------------------

    def _note_placements(self) -> None:
        """Take in the executions' announcements of where they run."""
        steps = {r.step: r for r in self._futures.values()}
        while True:
            try:
                raw = self._announced.get_nowait()
            except queue.Empty:
                return
            try:
                running = _running_decoder.decode(raw)
            except msgspec.DecodeError:
                continue
            request = steps.get(running.step)
            if request is None or request.run_id != running.run_id:
                continue  # a step already taken (a late duplicate execution)
            hard = None
            if request.timeout is not None:
                per_attempt = request.timeout + INTERRUPT_MARGIN + self.kill_grace
                hard = self._clock() + running.attempts * per_attempt + running.waits
            self._placed[running.step] = _Placed(running, hard)

    def _overdue(self) -> tuple[str, list[Event]] | None:
        """The first step still running past its hard deadline on a worker that can be
        restarted: failed as timed out, its worker restarted. None when there is none."""
        now = self._clock()
        for future, request in list(self._futures.items()):
            placed = self._placed.get(request.step)
            if placed is None or placed.hard_deadline is None or placed.hard_deadline > now:
                continue
            if future.status != "pending":
                continue  # it has just ended: its events are taken as usual
            if not placed.running.nanny and request.step in self._waited:
                continue  # said once already; no need to ask the scheduler again
            address = placed.running.address
            if not self._still_running(future, address):
                self._placed.pop(request.step)  # its worker is gone: Dask runs it again
                continue
            if not placed.running.nanny:
                self._wait_without_nanny(request, placed)
                continue
            return self._give_up(future, request, placed)
        return None

    def _still_running(self, future: Any, address: str) -> bool:
        """Whether the scheduler still has ``future``'s task on the worker at ``address``."""
        try:
            processing = self._client.processing([address])
        except Exception:
            return True  # cannot tell: trust the announcement
        return future.key in (processing.get(address) or ())

    def _wait_without_nanny(self, request: StepRequest, placed: _Placed) -> None:
        """A stuck step on a worker that cannot be restarted: say so (once), keep waiting."""
        self._waited.add(request.step)
        _log.warning(
            "step %s is still running %s s past its %s s timeout on Dask worker %s (pid %s), "
            "which has no nanny and so cannot be restarted: waiting for the compute to return "
            "(start workers with a nanny to have stuck steps' workers replaced)",
            request.step,
            format_seconds(self.kill_grace),
            format_seconds(request.timeout or 0.0),
            placed.running.address,
            placed.running.pid,
        )

    def _give_up(
        self, future: Any, request: StepRequest, placed: _Placed
    ) -> tuple[str, list[Event]]:
        """Fail ``request`` as timed out now, and restart its worker in the background."""
        running = placed.running
        address, limit = running.address, format_seconds(request.timeout or 0.0)
        del self._futures[future]
        del self._placed[request.step]
        self._received.add((request.run_id, request.step))
        inflight = {r.step for r in self._futures.values()}
        others = sorted(
            step
            for step, p in self._placed.items()
            if p.running.address == address and step in inflight
        )
        worker = f"Dask worker {address} (pid {running.pid})"
        message = (
            f"timed out after {limit} s and did not stop; restarting its {worker} through its nanny"
        )
        said = (
            f"step {request.step} is still running {format_seconds(self.kill_grace)} s past "
            f"its {limit} s timeout, blocked where no exception reaches it: restarting {worker}"
        )
        if others:
            said += f"; also running there, run again per their retry policy: {', '.join(others)}"
        note = (
            f"its Dask worker {address} was restarted: step {request.step} ran there past its "
            f"{limit} s timeout and did not stop"
        )
        log = Event.of(
            request.run_id,
            EventType.LOG,
            LogData(level="warning", message=said),
            step_key=request.step,
        )
        live = self._runtime.live if self._runtime is not None else None
        if live is not None:
            live(log)
        if address not in self._restarting:
            self._restarting.add(address)
            thread = threading.Thread(
                target=self._restart,
                args=(future, request, address, dict.fromkeys(others, note)),
                daemon=True,
                name="catchment-dask-restart",
            )
            thread.start()
            self._restarts.append(thread)
        return request.step, [log, *failed_step(request, "StepTimeout", message)]

    def _restart(
        self, future: Any, request: StepRequest, address: str, notes: dict[str, str]
    ) -> None:
        """In the background: make sure the stuck execution is not run again, leave the
        reason for the other steps on the worker, cancel the task, restart the worker."""
        from catchment.storage import open_storage

        cursors = {done_name(request.run_id, request.step): RECEIVED}
        cursors.update({lost_name(request.run_id, step): why for step, why in notes.items()})
        try:
            storage = open_storage(self.storage_url)
            try:
                storage.set_cursors(cursors, time.time())
            finally:
                storage.close()
        except Exception as exc:  # the restart matters more than the notes
            _log.warning("could not note the restart of Dask worker %s: %s", address, exc)
        client = self._client
        if client is None:
            return
        with contextlib.suppress(Exception):
            client.cancel([future], force=True)
        try:
            status = client.restart_workers(
                [address], timeout=RESTART_SECONDS, raise_for_error=False
            ).get(address)
        except Exception as exc:
            status = f"{type(exc).__name__}: {exc}"
        if status == "OK":
            text, level = f"Dask worker {address} was restarted", "info"
        else:
            text, level = f"could not restart Dask worker {address}: {status}", "warning"
            _log.warning(text)
        event = Event.of(
            request.run_id, EventType.LOG, LogData(level=level, message=text), step_key=request.step
        )
        self._logs.put(msgspec.json.encode(event).decode())

    def _lost_scheduler(self, detail: str) -> ExecutionError:
        requests = list(self._futures.values())
        steps = ", ".join(sorted(r.step for r in requests)) or "none"
        run_id = requests[0].run_id if requests else "RUN_ID"
        return ExecutionError(
            f"lost the Dask scheduler ({detail}); steps still running: {steps}",
            where=self.address or "LocalCluster",
            hint="start the scheduler and workers again, then resume with "
            f"`catchment runs retry {run_id} --from-failure`",
        )

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._restarts:
            for thread in self._restarts:  # a worker restart is not abandoned half way
                thread.join(timeout=RESTART_SECONDS + 5)
            self._restarts.clear()
            self._show_logs()  # how it went
        self._forget_received()
        client, cluster = self._client, self._cluster
        self._client = self._cluster = None
        if client is not None:
            with contextlib.suppress(Exception):
                client.cancel(list(self._futures), force=True)
            with contextlib.suppress(Exception):
                client.unsubscribe_topic(self.topic)
            with contextlib.suppress(Exception):
                client.close(timeout=5)
        if cluster is not None:
            with contextlib.suppress(Exception):
                cluster.close(timeout=10)
        self._futures.clear()
        for name, level in self._log_levels.items():
            logging.getLogger(name).setLevel(level)

    def _forget_received(self) -> None:
        """Shrink the done cursors of received steps to a marker (their events are in the
        run's record now; the marker still stops a late duplicate from running)."""
        if not self._received:
            return
        import time

        from catchment.storage import open_storage

        with contextlib.suppress(Exception):
            storage = open_storage(self.storage_url)
            try:
                storage.set_cursors(
                    {done_name(run, step): RECEIVED for run, step in self._received}, time.time()
                )
            finally:
                storage.close()
        self._received.clear()

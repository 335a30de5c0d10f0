"""The engine: runs a plan's steps through an executor and records what happened.

It decides which steps may start (upstream steps done, upstream assets healthy), hands plain
``StepRequest``s to the executor, and records what happened. A step's ``step_started`` is
written when the step is still running ``START_FLUSH_SECONDS`` after it started (so the UI,
``runs show`` and other readers of the record store see it running); a step that ends sooner
has its start written in ONE transaction with its end (``step_started`` ...
``step_finished``), which keeps the per-step cost of trivial steps at one commit. The
outputs of a step are always written together with its ``step_finished``. Life-cycle hooks
hear about runs, steps, materializations and checks.
"""

from __future__ import annotations

import contextlib
import heapq
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol
from uuid import uuid4

import msgspec

from catchment.events import (
    Event,
    EventData,
    EventType,
    LogData,
    RunFinishedData,
    RunStartedData,
    SkippedData,
    StepFinishedData,
    StepStartedData,
)
from catchment.execution.plan import Plan, Step
from catchment.execution.pools import PoolGate
from catchment.execution.step import CANCELED, StepRequest, StepRuntime
from catchment.hookspecs import RunInfo
from catchment.keys import AssetKey, CheckKey
from catchment.storage.base import HOSTNAME, RunRecord, RunStatus, Storage

if TYPE_CHECKING:
    from catchment.execution.executors import Executor

HEARTBEAT_SECONDS = 15.0
START_FLUSH_SECONDS = 0.1  # a step running this long has its step_started written (within 2x)

EventCallback = Callable[[Event], None]


class HookRelay(Protocol):
    """The life-cycle hooks the engine calls (pluggy's relay, or anything alike)."""

    def __getattr__(self, name: str) -> Any: ...


@dataclass
class RunOutcome:
    """What the engine returns: the run id, its final status and every event, in order."""

    run_id: str
    status: RunStatus
    events: list[Event] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return self.status == "success"


class _Heartbeat:
    """Refresh the run's heartbeat from a daemon thread while long steps run."""

    def __init__(self, storage: Storage, run_id: str, every: float):
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._beat,
            args=(storage, run_id, every),
            daemon=True,
            name="catchment-heartbeat",
        )

    def _beat(self, storage: Storage, run_id: str, every: float) -> None:
        while not self._stop.wait(every):
            with contextlib.suppress(Exception):  # a missed heartbeat must not kill the run
                storage.heartbeat(run_id)

    def __enter__(self) -> _Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()


class _PendingStarts:
    """``step_started`` events not yet in the record store. A daemon thread wakes every
    ``delay`` seconds and writes those added at least ``delay`` ago (so a start is written
    within two delays); the engine takes the others back to write them with the step's end
    (``take``). Adding and taking cost a dict operation (no wake-up per step); the lock is
    held while writing, so a start is never written after its step's end."""

    def __init__(self, storage: Storage, delay: float):
        self._storage = storage
        self._delay = delay
        self._lock = threading.Lock()
        self._pending: dict[str, tuple[float, Event]] = {}  # step -> (added, event)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._flush, daemon=True, name="catchment-starts")

    def add(self, event: Event) -> None:
        with self._lock:
            self._pending[event.step_key or ""] = (time.monotonic(), event)

    def take(self, step: str) -> bool:
        """Forget ``step``'s start; True if it was not written yet (the caller writes it)."""
        with self._lock:
            return self._pending.pop(step, None) is not None

    def _flush(self) -> None:
        while not self._stop.wait(self._delay):
            with self._lock:
                due = time.monotonic() - self._delay
                events = [e for added, e in self._pending.values() if added <= due]
                if not events:
                    continue
                try:
                    self._storage.append_events(events)
                except Exception:  # left pending: written with the step's end instead
                    for event in events:
                        self._pending[event.step_key or ""] = (float("inf"), event)
                    continue
                for event in events:
                    del self._pending[event.step_key or ""]

    def __enter__(self) -> _PendingStarts:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop the thread; write the starts of steps that never ended (a canceled run)."""
        self._stop.set()
        self._thread.join(timeout=5)
        with self._lock:
            left = [e for _, e in self._pending.values()]
            self._pending.clear()
        if left:
            with contextlib.suppress(Exception):
                self._storage.append_events(left)


def _as_canceled(events: list[Event]) -> list[Event]:
    """A step that ended after Ctrl-C: its failures were caused by the interrupt (a tool that
    swallowed it reports "could not parse" or a failed node), so they become "canceled";
    what it did build stays recorded."""
    out: list[Event] = []
    for event in events:
        if event.type is EventType.STEP_FAILED:
            continue
        if event.type is EventType.ASSET_FAILED:
            event = Event(
                run_id=event.run_id,
                type=EventType.ASSET_SKIPPED,
                step_key=event.step_key,
                asset_key=event.asset_key,
                data={"reason": CANCELED, "error": event.data.get("message")},
            )
        out.append(event)
    return out


class _CancelOnInterrupt:
    """While a run is on the main thread: note every SIGINT (Ctrl-C) in ``canceled``, then
    raise ``KeyboardInterrupt`` as Python does. A tool that swallows the interrupt (dbt
    catches it and reports a failure) cannot hide it: the engine sees the flag."""

    def __init__(self, canceled: threading.Event):
        self.canceled = canceled
        self._previous: Any = None
        self._installed = False

    def _handler(self, signum: int, frame: Any) -> None:
        self.canceled.set()
        previous = self._previous
        if callable(previous) and previous is not signal.default_int_handler:
            previous(signum, frame)
            return
        raise KeyboardInterrupt

    def __enter__(self) -> _CancelOnInterrupt:
        if threading.current_thread() is threading.main_thread():
            with contextlib.suppress(ValueError, TypeError):
                self._previous = signal.signal(signal.SIGINT, self._handler)
                self._installed = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self._installed:
            signal.signal(signal.SIGINT, self._previous)


def _guarded(listener: EventCallback) -> EventCallback:
    """Wrap a display listener so that its failure (a closed pipe, a broken terminal) never
    stops the run: the first error is logged, and the listener is not called again."""
    broken = False

    def call(event: Event) -> None:
        nonlocal broken
        if broken:
            return
        try:
            listener(event)
        except Exception as exc:
            broken = True
            logging.getLogger("catchment.engine").warning(
                "the run display failed (%s: %s); the run goes on and is recorded as usual",
                type(exc).__name__,
                exc,
            )

    return call


class Engine:
    """Run one plan: schedule steps, record events, call hooks, compute the final status."""

    def __init__(
        self,
        plan: Plan,
        runtime: StepRuntime,
        storage: Storage,
        executor: Executor,
        *,
        hooks: HookRelay | None = None,
        on_event: EventCallback | None = None,
        stop_on_failed_checks: bool = True,
        run_id: str | None = None,
        parent_run_id: str | None = None,
        tags: dict[str, str] | None = None,
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        start_flush_seconds: float = START_FLUSH_SECONDS,
    ):
        self.plan = plan
        self.runtime = runtime
        self.graph = runtime.graph
        self.storage = storage
        self.executor = executor
        self.hooks = hooks
        self.on_event = _guarded(on_event) if on_event is not None else None
        self.stop_on_failed_checks = stop_on_failed_checks
        self.run_id = run_id or uuid4().hex
        self.parent_run_id = parent_run_id
        self.tags = dict(tags or {})
        self.heartbeat_seconds = heartbeat_seconds
        self._starts = _PendingStarts(storage, start_flush_seconds)
        self.events: list[Event] = []
        # asset -> "success" | "failed" | "skipped" | "check_failed"
        self.state: dict[AssetKey, str] = {}
        self.blocked_by: dict[AssetKey, str] = {}
        self.versions: dict[AssetKey, str | None] = {}
        self.info = RunInfo(
            run_id=self.run_id,
            selection=plan.selection,
            asset_keys=tuple(str(k) for k in plan.asset_keys),
            partition_keys=plan.partition_keys,
            project_root=str(runtime.project_root),
            tags=self.tags,
        )
        self._blocking = {
            c.id
            for k in plan.asset_keys
            for c in self.graph.checks_for(k)
            if c.blocking and c.severity == "error"
        }
        self._check_failed = False
        self._step_failed = False  # e.g. a check's code raised: no asset failed, the run did
        self.canceled = threading.Event()  # set on Ctrl-C; the run ends as canceled
        self.pools = PoolGate(storage, self.run_id, runtime)
        self.pool_poll = 0.5  # seconds between claims while every runnable step waits

    # -- recording ----------------------------------------------------------------------------

    def _event(
        self,
        type: EventType,
        payload: EventData,
        *,
        step_key: str | None = None,
        asset_key: str | None = None,
    ) -> Event:
        return Event.of(self.run_id, type, payload, step_key=step_key, asset_key=asset_key)

    def _record(
        self,
        batch: list[Event],
        already_shown: Iterable[Event] = (),
        already_written: Iterable[Event] = (),
    ) -> None:
        """Append ``batch`` (but ``already_written``) in one transaction, then tell
        listeners and hooks."""
        written = {id(e) for e in already_written}
        self.storage.append_events([e for e in batch if id(e) not in written])
        self.events.extend(batch)
        shown = {id(e) for e in already_shown}
        for event in batch:
            if self.on_event is not None and id(event) not in shown:
                self.on_event(event)
            if self.hooks is not None:
                if event.type is EventType.MATERIALIZATION:
                    self.hooks.catchment_asset_materialized(run=self.info, event=event)
                elif event.type is EventType.CHECK_EVALUATED:
                    self.hooks.catchment_check_evaluated(run=self.info, event=event)
                elif event.type is EventType.ASSET_FAILED:
                    self._optional_hook("catchment_asset_failed", event=event)

    def _optional_hook(self, name: str, **kwargs: Any) -> None:
        """Call a hook added after API 1.0 when the relay has it (a hand-written relay in a
        test or an embedder may not)."""
        call = getattr(self.hooks, name, None) if self.hooks is not None else None
        if call is not None:
            call(run=self.info, **kwargs)

    # -- the run ------------------------------------------------------------------------------

    def run(self) -> RunOutcome:
        """Execute the plan to the end and return its outcome (never raises for step
        failures; re-raises KeyboardInterrupt after recording the run as canceled)."""
        plan = self.plan
        if self.executor.streams_logs and self.on_event is not None:
            self.runtime.live = self.on_event
        self.executor.open(self.runtime, plan)
        self.storage.create_run(
            RunRecord(
                run_id=self.run_id,
                pid=os.getpid(),
                host=HOSTNAME,
                parent_run_id=self.parent_run_id,
                selection=plan.selection,
                asset_keys=self.info.asset_keys,
                check_ids=plan.check_ids,
                partition_keys=plan.partition_keys,
                tags=self.tags,
            )
        )
        self._record(
            [
                self._event(
                    EventType.RUN_STARTED,
                    RunStartedData(
                        selection=plan.selection,
                        asset_keys=list(self.info.asset_keys),
                        steps=len(plan.steps),
                        partition_keys=list(plan.partition_keys),
                        parent_run_id=self.parent_run_id,
                        pid=os.getpid(),
                        host=HOSTNAME,
                    ),
                )
            ]
        )
        self._load_versions()
        if self.hooks is not None:
            self.hooks.catchment_run_started(run=self.info)
        status: RunStatus = "failure"
        try:
            with (
                _CancelOnInterrupt(self.canceled),
                _Heartbeat(self.storage, self.run_id, self.heartbeat_seconds),
                self._starts,
                self.executor,
            ):
                self._schedule()
            status = self._final_status()
            if self.canceled.is_set():
                raise KeyboardInterrupt
        except KeyboardInterrupt:
            status = "canceled"
            raise
        finally:
            with contextlib.suppress(Exception):  # lapses with its lease if this fails
                self.pools.release_all()
            self._finish(status)
        return RunOutcome(run_id=self.run_id, status=status, events=self.events)

    def _finish(self, status: RunStatus) -> None:
        states = list(self.state.values())
        finished = RunFinishedData(
            status=status,
            success=states.count("success"),
            failed=states.count("failed"),
            skipped=states.count("skipped"),
            check_failed=states.count("check_failed"),
        )
        self._record([self._event(EventType.RUN_FINISHED, finished)])
        self.storage.update_run_status(self.run_id, status)
        if self.hooks is not None:
            self.hooks.catchment_run_finished(run=self.info, status=status)

    def _final_status(self) -> RunStatus:
        bad = any(s != "success" and s != "check_failed" for s in self.state.values())
        return "failure" if bad or self._check_failed or self._step_failed else "success"

    def _load_versions(self) -> None:
        """Data versions of upstreams outside the plan, read once from storage."""
        planned = set(self.plan.asset_keys)
        outside = {u for k in planned for u in self.runtime.inputs_of(k) if u not in planned}
        if outside:
            latest = self.storage.latest_materializations(outside)
            self.versions.update({k: m.data_version for k, m in latest.items()})

    def _schedule(self) -> None:
        steps = self.plan.steps
        index = {s.name: i for i, s in enumerate(steps)}
        waiting = {s.name: set(s.upstream_steps) for s in steps}
        downstream: dict[str, list[str]] = {s.name: [] for s in steps}
        for s in steps:
            for up in s.upstream_steps:
                downstream[up].append(s.name)
        ready = [index[s.name] for s in steps if not s.upstream_steps]
        heapq.heapify(ready)
        running: dict[str, Event] = {}
        capacity = max(1, self.executor.capacity)

        def done(name: str) -> None:
            for down in downstream[name]:
                waiting[down].discard(name)
                if not waiting[down]:
                    heapq.heappush(ready, index[down])

        told: set[str] = set()  # steps whose wait for a pool was recorded
        while ready or running:
            blocked: list[int] = []  # waiting for pool slots: back in line after this pass
            while ready and len(running) < capacity:
                i = heapq.heappop(ready)
                step = steps[i]
                why = self.pools.claim(step.name, self.graph.definitions[step.name])
                if why is not None:
                    blocked.append(i)
                    if step.name not in told:
                        told.add(step.name)
                        self._record_wait(step.name, why)
                    continue
                started = self._launch(step)
                if started is None:
                    self.pools.release(step.name)
                    done(step.name)
                else:
                    running[step.name] = started
            for i in blocked:
                heapq.heappush(ready, i)
            if running:
                name, produced = self.executor.next_completed()
                self._completed(running.pop(name), produced)
                self.pools.release(name)  # after the finish is recorded: never two at once
                done(name)
            elif blocked:
                self.runtime.sleep(self.pool_poll)
            if self.canceled.is_set():
                raise KeyboardInterrupt  # what finished is recorded; nothing new starts

    def _record_wait(self, step: str, why: str) -> None:
        """Record (once per step) why a step waits before it starts."""
        message = f"step {step} waits: {why}"
        self._record(
            [self._event(EventType.LOG, LogData(level="info", message=message), step_key=step)]
        )

    def _failures_per_partition(self, produced: list[Event]) -> list[Event]:
        """One ``asset_failed`` event per partition of the run for a partitioned asset (as
        materializations are recorded), so "did this partition's last attempt fail" is one
        indexed lookup."""
        parts = self.plan.partition_keys
        if not parts:
            return produced
        out: list[Event] = []
        for event in produced:
            key = event.asset_key
            spec = self.graph.specs.get(AssetKey(key)) if key else None
            if (
                event.type is not EventType.ASSET_FAILED
                or event.partition is not None
                or spec is None
                or spec.partitions is None
            ):
                out.append(event)
                continue
            for i, part in enumerate(parts):
                copy = event if i == 0 else msgspec.structs.replace(event, data=dict(event.data))
                copy.partition = part
                out.append(copy)
        return out

    def _blocked_reason(self, key: AssetKey) -> str | None:
        for up in self.runtime.inputs_of(key):
            state = self.state.get(up)
            if state in ("failed", "skipped"):
                return f"upstream {up} {state}"
            if state == "check_failed" and self.stop_on_failed_checks:
                return f"upstream {up} failed check {self.blocked_by[up]}"
        return None

    def _blocked_reasons(self, step: Step) -> dict[AssetKey, str | None]:
        """Why each asset of ``step`` cannot run, in graph order: an asset below one blocked
        in this same step is blocked too (a dbt model under a model whose loader failed),
        rather than handed to the tool to fail on a missing table."""
        reasons: dict[AssetKey, str | None] = {}
        roots: dict[AssetKey, str] = {}  # the first cause, so reasons do not nest
        for key in step.asset_keys:
            reason = self._blocked_reason(key)
            if reason is not None:
                roots[key] = reason
            else:
                inner = next((u for u in self.runtime.inputs_of(key) if u in roots), None)
                if inner is not None:
                    roots[key] = roots[inner]
                    reason = f"upstream {inner} skipped: {roots[inner]}"
            reasons[key] = reason
        return reasons

    def _launch(self, step: Step) -> Event | None:
        """Start ``step`` (returning its ``step_started`` event), or record it as skipped."""
        defn = self.graph.definitions[step.name]
        reasons = self._blocked_reasons(step)
        blocked = {k: r for k, r in reasons.items() if r is not None}
        keys = [k for k in step.asset_keys if k not in blocked]
        if blocked and not defn.can_subset:
            first = next(iter(blocked.values()))
            blocked = {k: reasons[k] or f"{first} (same compute)" for k in step.asset_keys}
            keys = []
        checks = [c for c in step.check_ids if CheckKey.parse(c).asset not in blocked]
        if step.is_check_only:
            checks = [
                c
                for c in checks
                if self.state.get(CheckKey.parse(c).asset, "success") != "failed"
                and self.state.get(CheckKey.parse(c).asset) != "skipped"
            ]
        skipped = [
            self._event(
                EventType.ASSET_SKIPPED, SkippedData(reason=r), step_key=step.name, asset_key=str(k)
            )
            for k, r in blocked.items()
        ]
        for k in blocked:
            self.state[k] = "skipped"
        if not keys and not checks:
            if skipped:
                self._record(skipped)
            return None
        started = self._event(
            EventType.STEP_STARTED,
            StepStartedData(asset_keys=[str(k) for k in keys], check_ids=checks),
            step_key=step.name,
        )
        if skipped:
            self._record(skipped)
        if self.on_event is not None:
            self.on_event(started)
        self._optional_hook("catchment_step_started", event=started, graph=self.graph)
        self._starts.add(started)
        versions = self.versions
        input_versions = {str(u): versions.get(u) for k in keys for u in self.runtime.inputs_of(k)}
        self.executor.submit(
            StepRequest(
                run_id=self.run_id,
                step=step.name,
                asset_keys=tuple(str(k) for k in keys),
                check_ids=tuple(checks),
                partition_keys=self.plan.partition_keys,
                input_versions=input_versions,
                timeout=self.runtime.timeout_for(defn),
            )
        )
        return started

    def _completed(self, started: Event, produced: list[Event]) -> None:
        produced = self._failures_per_partition(produced)
        if self.canceled.is_set():
            produced = _as_canceled(produced)
        failed = False
        for event in produced:
            key = AssetKey(event.asset_key) if event.asset_key else None
            if event.type is EventType.MATERIALIZATION and key is not None:
                self.state.setdefault(key, "success")
                if self.state[key] == "failed":
                    self.state[key] = "success"
                self.versions[key] = event.materialization.data_version
            elif event.type is EventType.ASSET_FAILED and key is not None:
                self.state[key] = "failed"
                failed = True
            elif event.type is EventType.ASSET_SKIPPED and key is not None:
                self.state[key] = "skipped"
            elif event.type is EventType.STEP_FAILED:
                failed = self._step_failed = True
            elif event.type is EventType.CHECK_EVALUATED and key is not None:
                check = event.check
                if check.passed or check.severity != "error":
                    continue
                self._check_failed = True
                check_id = CheckKey(key, check.check_name).to_string()
                if check_id in self._blocking and self.state.get(key) == "success":
                    self.state[key] = "check_failed"
                    self.blocked_by[key] = check_id
        finished = self._event(
            EventType.STEP_FINISHED,
            StepFinishedData(
                status="failure" if failed else "success",
                duration=round(time.time() - started.timestamp, 6),
                attempts=1 + sum(e.type is EventType.STEP_RETRY for e in produced),
            ),
            step_key=started.step_key,
        )
        live = self.executor.streams_logs and self.runtime.live is not None
        shown = produced if live else ()
        pending = self._starts.take(started.step_key or "")
        self._record(
            [started, *produced, finished],
            already_shown=[started, *(e for e in shown if e.type is EventType.LOG)],
            already_written=() if pending else [started],
        )

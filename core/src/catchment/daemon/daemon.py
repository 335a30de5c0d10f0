"""The daemon: one process per record store that evaluates sensors, schedules and automation
in ticks and starts the runs they ask for.

``Daemon.step()`` is one pass: renew the lease (a daemon without it only waits), notice new
materializations (push), launch runs left queued, and step every loop that is due. ``run``
repeats it every ``poll_interval`` seconds on its clock until told to stop. Everything it
must remember is in the record store (cursors, ticks, run keys, the lease), so a daemon
killed with SIGKILL and started again carries on where it stopped.
"""

from __future__ import annotations

import contextlib
import logging
import math
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from catchment.daemon.automation_loop import AutomationLoop, Evaluator
from catchment.daemon.clock import Clock, SystemClock
from catchment.daemon.evaluators import add_partitions as add_dynamic_keys
from catchment.daemon.evaluators import evaluate_conditions, has_conditions
from catchment.daemon.freshness_loop import FreshnessLoop
from catchment.daemon.lease import Lease
from catchment.daemon.loop import Loop
from catchment.daemon.push import PushWatcher
from catchment.daemon.queue_loop import QueueCoordinator
from catchment.daemon.schedule_loop import ScheduleLoop
from catchment.daemon.schedule_loop import cursor_name as schedule_cursor
from catchment.daemon.sensor_loop import AddPartitions, SensorLoop
from catchment.daemon.sensor_loop import cursor_name as sensor_cursor
from catchment.daemon.starter import RunStarter
from catchment.daemon.workspace import Workspace, load_workspace
from catchment.runs.launch import Launcher, SubprocessLauncher
from catchment.sensors.runner import SubprocessSensorRunner
from catchment.storage import Storage
from catchment.storage.control import TickRecord

log = logging.getLogger("catchment.daemon")


@dataclass(frozen=True)
class DaemonSettings:
    """How the daemon paces itself."""

    lease_ttl: float = 30.0
    """Seconds a lease lasts unless renewed; a standby takes over this long after a crash."""
    poll_interval: float = 0.25
    """Seconds between steps: how fast a materialization or a due loop is noticed."""
    catch_up: float = 24 * 3600.0
    """Cron ticks missed while no daemon ran are run this far back."""
    automation_interval: float = 30.0
    """Seconds between automation evaluations when nothing pushes one."""
    freshness_interval: float = 60.0
    """Seconds between freshness evaluations."""
    reload_every: float = 5.0
    """Seconds between checks whether the project file changed (then it is read again)."""
    tick_retention: float = 7 * 86400.0
    """Skipped ticks older than this are deleted."""


class Daemon:
    """Evaluates a project's sensors, schedules and automation; see the module docstring."""

    def __init__(
        self,
        project_path: Path | str | None,
        *,
        clock: Clock | None = None,
        storage: Storage | None = None,
        launcher: Launcher | None = None,
        sensor_runner: SubprocessSensorRunner | None = None,
        settings: DaemonSettings | None = None,
        load: Callable[[Path | str | None], Workspace] = load_workspace,
        evaluator: Evaluator | None = evaluate_conditions,
        add_partitions: AddPartitions | None = add_dynamic_keys,
        freshness: bool = True,
        holder: str | None = None,
    ):
        self.project_path = project_path
        self.clock = clock or SystemClock()
        self.settings = settings or DaemonSettings()
        self._load = load
        self.workspace = load(project_path)
        own = storage is None
        if storage is None:
            from catchment.execution.project import open_project_storage

            storage = open_project_storage(self.workspace.defaults)
        self.storage = storage
        self._own_storage = own
        root = self.workspace.root
        launcher = launcher or SubprocessLauncher(root)
        self.starter = RunStarter(storage, self.workspace.prepare)
        self.queue = QueueCoordinator(storage, launcher, self.workspace.defaults.queue.limits)
        self.queue_ticks: list[TickRecord] = []
        """The queue's ticks of the last step (recorded like every tick; kept apart from
        what ``step`` returns, which are the ticks of the loops that request runs)."""
        self.runner = sensor_runner or SubprocessSensorRunner(root)
        self.lease = Lease(storage, holder=holder, ttl=self.settings.lease_ttl)
        self.evaluator = evaluator
        self.add_partitions = add_partitions
        self.freshness = freshness
        self.loops: dict[tuple[str, str], Loop] = {}
        self.watcher: PushWatcher | None = None
        self._checked_at = -math.inf
        self._retry_at = -math.inf
        self._purged_at = -math.inf
        self.stop_event = threading.Event()

    # -- one pass ---------------------------------------------------------------------------
    def step(self) -> list[TickRecord]:
        """Renew the lease and do what is due; the ticks recorded."""
        now = self.clock.now()
        was_held = self.lease.held
        if not self.lease.renew(now):
            if was_held:
                log.warning("lost the daemon lease; waiting to take it back")
                self._close_loops()
            return []
        if not was_held or self.watcher is None:
            self._take_over(now)
        self._maybe_reload(now, due=self._tick_due(now))
        assert self.watcher is not None
        marks = self.watcher.poll()
        if marks:
            changed = {m.asset_key for m in marks}
            for loop in self.loops.values():
                if isinstance(loop, AutomationLoop) or (
                    isinstance(loop, SensorLoop) and loop.watched_asset in changed
                ):
                    loop.wake(now)
        ticks = []
        for loop in list(self.loops.values()):
            if loop.due_at() <= now:
                try:
                    ticks.extend(loop.step(now))
                except Exception:  # a loop's own bug must not stop the others
                    log.exception("the %s loop %s failed", loop.kind, loop.name)
        try:  # after the loops: what they just requested starts in this step
            self.queue_ticks = self.queue.step(now)
        except Exception:
            log.exception("the run queue failed")
        self._maybe_purge(now)
        return ticks

    def busy(self) -> bool:
        """Whether a sensor's subprocess is still running."""
        return any(isinstance(x, SensorLoop) and x.running for x in self.loops.values())

    def settle(self) -> list[TickRecord]:
        """One step, then more until every sensor it started has finished or timed out
        (``catchment daemon --once``; on the real clock a hung sensor's timeout ends it)."""
        ticks = self.step()
        while self.busy():
            self.clock.sleep(0.02, self.stop_event)
            ticks.extend(self.step())
        return ticks

    def next_due(self) -> float:
        """The earliest time a loop is due."""
        return min((loop.due_at() for loop in self.loops.values()), default=math.inf)

    def run(self, on_tick: Callable[[TickRecord], None] | None = None) -> None:
        """Step until ``stop()``; then release the lease (a standby takes over at once)."""
        try:
            while not self.stop_event.is_set():
                for tick in self.step():
                    if on_tick is not None:
                        on_tick(tick)
                self.clock.sleep(self.settings.poll_interval, self.stop_event)
        finally:
            self.close()

    def stop(self) -> None:
        """Ask ``run`` to return after the current step."""
        self.stop_event.set()

    def close(self) -> None:
        """Stop running sensors, release the lease, close the store if it is ours."""
        self._close_loops()
        with contextlib.suppress(Exception):
            self.lease.release()
        if self._own_storage:
            self.storage.close()

    # -- taking over and reloading ------------------------------------------------------------
    def _take_over(self, now: float) -> None:
        interrupted = self.storage.interrupt_ticks(now)
        if interrupted:
            log.info("%d tick(s) of a previous daemon were interrupted", interrupted)
        self.watcher = PushWatcher(self.storage)
        self._build_loops(self.workspace)
        log.info("holding the daemon lease as %s", self.lease.holder)

    def _tick_due(self, now: float) -> bool:
        """Whether a loop begins a tick in this step (a running sensor's polls do not)."""
        return any(
            loop.due_at() <= now and not (isinstance(loop, SensorLoop) and loop.running)
            for loop in self.loops.values()
        )

    def _maybe_reload(self, now: float, due: bool = False) -> None:
        """Read the project again when it changed: checked every ``reload_every`` seconds
        and before any tick (``due``), so a tick never evaluates a stale snapshot (a project
        that failed to load is tried again every ``reload_every`` seconds only)."""
        if now - self._checked_at < self.settings.reload_every and (
            not due or now < self._retry_at
        ):
            return
        self._checked_at = now
        if not self.workspace.changed():
            return
        try:
            workspace = self._load(self.project_path)
        except Exception as exc:
            self._retry_at = now + self.settings.reload_every
            log.error("the project changed but does not load (%s); keeping the old one", exc)
            self.workspace = Workspace(**{**self.workspace.__dict__, "stamp": (), "snapshot": None})
            return
        log.info("the project changed: reloading its schedules, sensors and graph")
        self.workspace = workspace
        self.queue.limits = workspace.defaults.queue.limits
        self.starter.prepare = workspace.prepare
        self._build_loops(workspace)

    def _build_loops(self, workspace: Workspace) -> None:
        """(Re)create the loops of ``workspace``, reading every cursor and last tick in two
        queries; a sensor still running is killed and evaluated again."""
        from catchment.automation.freshness import freshness_policies

        self._close_loops()
        cursors = self.storage.get_cursors()
        latest = self.storage.latest_ticks()
        loops: dict[tuple[str, str], Loop] = {}
        graph = workspace.graph
        for schedule in workspace.schedules:
            if not schedule.enabled:
                continue
            try:
                loops[("schedule", schedule.name)] = ScheduleLoop(
                    schedule,
                    graph,
                    self.storage,
                    self.starter,
                    catch_up=self.settings.catch_up,
                    cursor=cursors.get(schedule_cursor(schedule.name)),
                )
            except Exception as exc:
                log.error("schedule %s is not evaluated: %s", schedule.name, exc)
        for sensor in workspace.sensors:
            if not sensor.enabled:
                continue
            last = latest.get(("sensor", sensor.name))
            loops[("sensor", sensor.name)] = SensorLoop(
                sensor,
                graph,
                self.storage,
                self.starter,
                self.runner,
                cursor=cursors.get(sensor_cursor(sensor.name)),
                last_tick_at=last.started_at if last is not None else None,
                add_partitions=self.add_partitions,
            )
        if graph is not None and self.freshness and freshness_policies(graph):
            loops[("freshness", "policies")] = FreshnessLoop(
                graph,
                self.storage,
                hooks=workspace.hooks,
                interval=self.settings.freshness_interval,
            )
        if graph is not None and self.evaluator is not None and has_conditions(graph):
            loops[("automation", "conditions")] = AutomationLoop(
                graph,
                self.storage,
                self.starter,
                self.evaluator,
                interval=self.settings.automation_interval,
                cursors=cursors,
            )
        self.loops = loops

    def _close_loops(self) -> None:
        for loop in self.loops.values():
            with contextlib.suppress(Exception):
                loop.close()
        self.loops = {}

    def _maybe_purge(self, now: float) -> None:
        if now - self._purged_at < 3600:
            return
        self._purged_at = now
        self.storage.purge_ticks(now - self.settings.tick_retention)

    @property
    def loop_names(self) -> Sequence[tuple[str, str]]:
        """(kind, name) of the loops this daemon runs."""
        return list(self.loops)

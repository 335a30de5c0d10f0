"""The queue coordinator: the daemon's one path from ``queued`` to a launched process.

Each step: runs whose process died are marked (abandoned, or canceled when a cancel was
asked), ``dequeue`` moves the runs the limits allow to ``starting`` (highest priority, then
oldest) in one locked transaction, and each is launched. A run still ``starting`` after
``STARTING_TIMEOUT`` (the daemon died between deciding and launching) is launched again;
the claim in ``catchment runs execute`` lets only one process run it. Every start, relaunch
and change in why runs wait is recorded as a ``queue`` tick with its reasons.
"""

from __future__ import annotations

import logging
from typing import Any

import msgspec
from catchment.daemon.loop import begin_tick, finish_tick
from catchment.runs.launch import Launcher
from catchment.storage import Storage
from catchment.storage.control import TickRecord, TickStatus
from catchment.storage.queue import STARTING_TIMEOUT, Decision, QueueLimits

log = logging.getLogger("catchment.daemon")


class QueueCoordinator:
    """Start queued runs under ``limits`` through ``launcher``; see the module docstring."""

    kind = "queue"
    name = "runs"

    def __init__(
        self,
        storage: Storage,
        launcher: Launcher,
        limits: QueueLimits | None = None,
        *,
        starting_timeout: float = STARTING_TIMEOUT,
    ):
        self.storage = storage
        self.launcher = launcher
        self.limits = limits or QueueLimits()
        self.starting_timeout = starting_timeout
        self._waits: dict[str, str] = {}

    def step(self, now: float) -> list[TickRecord]:
        """One pass; the tick recorded when something was decided or a wait reason changed."""
        decisions: list[Decision] = []
        for run_id in self.storage.finish_canceling(now):
            decisions.append(Decision(run_id=run_id, action="cancel", reason="process stopped"))
        self.storage.mark_abandoned_runs()
        for run in self.storage.stale_starting(now, self.starting_timeout):
            reason = f"not claimed {self.starting_timeout:.0f} s after its launch"
            decisions.append(Decision(run_id=run.run_id, action="relaunch", reason=reason))
            self._launch(run)
        result = self.storage.dequeue(self.limits, now)
        for run in result.started:
            self._launch(run)
        decisions.extend(result.decisions)
        waits = {d.run_id: d.reason for d in result.decisions if d.action == "wait"}
        acted = [d for d in decisions if d.action != "wait"]
        if not acted and waits == self._waits:
            return []
        self._waits = waits
        tick = begin_tick(self.storage, self.kind, self.name, now)
        body: dict[str, Any] = {
            "decisions": [msgspec.to_builtins(d) for d in decisions],
            "running": result.running,
            "waiting": len(waits),
        }
        run_ids = tuple(d.run_id for d in acted if d.action in ("start", "relaunch"))
        status: TickStatus = "success" if acted else "skipped"
        return [finish_tick(self.storage, tick, now, status, body, run_ids)]

    def _launch(self, run: Any) -> None:
        try:
            self.launcher.launch(run)
        except OSError as exc:  # left starting: relaunched after the starting timeout
            log.error("could not launch run %s: %s", run.run_id, exc)

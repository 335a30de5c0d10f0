"""Submitting run requests and launching the runs they create: the one path every daemon loop
uses to start runs (the run queue will sit between submission and launch)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import msgspec
from catchment.runs.launch import Launcher
from catchment.runs.request import RunRequest
from catchment.runs.submit import queued_record
from catchment.storage import RunRecord, Storage

log = logging.getLogger("catchment.daemon")

RELAUNCH_AFTER = 60.0
"""A run still queued this long after its launch gets another process (the claim stops a
second one from running it twice)."""


@dataclass
class Started:
    """One request's fate: the run that carries it, and whether this submission created it."""

    request: RunRequest
    run_id: str
    created: bool

    def to_dict(self) -> dict[str, Any]:
        """The request as plain data, with ``run_id`` and ``created`` (for tick bodies)."""
        out: dict[str, Any] = msgspec.to_builtins(self.request)
        out["run_id"] = self.run_id
        out["created"] = self.created
        return out


class RunStarter:
    """Submit requests (de-duplicated by run key) and launch the runs they create; launch
    runs left queued (by a daemon that died, or by anyone who only queued them)."""

    def __init__(self, storage: Storage, launcher: Launcher):
        self.storage = storage
        self.launcher = launcher
        self.launched: dict[str, float] = {}

    def start(self, requests: list[RunRequest], now: float) -> list[Started]:
        """Submit every request, then launch the runs that are new."""
        out = []
        for request in requests:
            record = queued_record(request, now)
            submitted = self.storage.submit_run(record, request.run_key)
            out.append(Started(request, submitted.run_id, submitted.created))
            if submitted.created:
                self._launch(record, now)
        return out

    def launch_queued(self, now: float) -> list[str]:
        """Launch queued runs no process has claimed (never launched by this daemon, or
        launched more than ``RELAUNCH_AFTER`` seconds ago); their ids."""
        out = []
        for run in self.storage.queued_runs():
            last = self.launched.get(run.run_id)
            if last is None or now - last >= RELAUNCH_AFTER:
                self._launch(run, now)
                out.append(run.run_id)
        return out

    def _launch(self, run: RunRecord, now: float) -> None:
        self.launched[run.run_id] = now
        try:
            self.launcher.launch(run)
        except OSError as exc:  # left queued: the next step launches it again
            log.error("could not launch run %s: %s", run.run_id, exc)
        if len(self.launched) > 10_000:  # forget the oldest launches
            for run_id in sorted(self.launched, key=self.launched.__getitem__)[:5_000]:
                del self.launched[run_id]

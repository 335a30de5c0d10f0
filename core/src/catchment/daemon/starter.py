"""Submitting run requests: the one path every daemon loop uses to ask for runs (the queue
coordinator then launches them under the run limits)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from catchment.runs.request import RunRequest
from catchment.runs.submit import queued_record
from catchment.storage import Storage


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
    """Submit requests (de-duplicated by run key) as queued runs; the queue coordinator
    (``catchment.daemon.queue_loop``) starts them under the limits. ``prepare``, when set,
    is applied to each request first (a workspace's adds its ``team`` and ``project`` tags)."""

    def __init__(self, storage: Storage, prepare: Callable[[RunRequest], RunRequest] | None = None):
        self.storage = storage
        self.prepare = prepare

    def start(self, requests: list[RunRequest], now: float) -> list[Started]:
        """Submit every request as a queued run."""
        out = []
        for request in requests:
            if self.prepare is not None:
                request = self.prepare(request)
            record = queued_record(request, now)
            submitted = self.storage.submit_run(record, request.run_key)
            out.append(Started(request, submitted.run_id, submitted.created))
        return out

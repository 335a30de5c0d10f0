"""``submit_run``: turn a ``RunRequest`` into a ``queued`` run in the record store."""

from __future__ import annotations

import time
from uuid import uuid4

from catchment.runs.request import RunRequest
from catchment.runs.retry import RESUME_TAG
from catchment.storage import RunRecord, Storage
from catchment.storage.control import SubmittedRun

RUN_KEY_TAG = "run_key"
ORIGIN_TAG = "origin"


def queued_record(request: RunRequest, now: float | None = None) -> RunRecord:
    """The ``queued`` run that carries ``request`` (its origin and run key become tags)."""
    tags = dict(request.tags)
    tags[ORIGIN_TAG] = request.origin
    if request.run_key is not None:
        tags[RUN_KEY_TAG] = request.run_key
    if request.priority:
        tags["priority"] = str(request.priority)
    if request.reason:
        tags["reason"] = request.reason[:200]
    if request.resumes is not None:
        tags[RESUME_TAG] = request.resumes
    return RunRecord(
        run_id=uuid4().hex,
        status="queued",
        created_at=time.time() if now is None else now,
        selection=request.selection,
        asset_keys=request.asset_keys,
        partition_keys=request.partition_keys,
        check_ids=request.check_ids,
        tags=tags,
        parent_run_id=request.resumes,
    )


def submit_run(storage: Storage, request: RunRequest, now: float | None = None) -> SubmittedRun:
    """Record ``request`` as a queued run, in one transaction with its run key: a key that
    was submitted before records nothing and returns the run that took it."""
    return storage.submit_run(queued_record(request, now), request.run_key)

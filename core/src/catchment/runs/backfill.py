"""Backfills: a selection over a partition range, recorded, split into queued runs.

``create_backfill`` plans the selection once over the range (validating the partitions) and
records the backfill; ``submit_backfill`` queues one run per chunk (``per-partition``,
``single-run`` or ``chunks:N``), each with the run key ``backfill:ID:CHUNK[:rN]`` in ONE
transaction, at a lower priority by default so a backfill never starves scheduled runs.
Submitting again is how a backfill resumes: a chunk whose newest run succeeded, or is still
queued or running, is left alone; a chunk whose run failed or was abandoned (its process was
killed) gets a new run that resumes it: the assets the earlier attempts materialized are not
built again (``runs.retry.done_before``). Each run carries the whole selection for its
partitions, so a downstream partition starts as soon as its upstream partitions in that run
succeeded.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from uuid import uuid4

from catchment.errors import CatchmentError
from catchment.runs.request import RunRequest
from catchment.runs.submit import queued_record
from catchment.storage.base import ACTIVE_RUN_STATUSES
from catchment.storage.queue import BACKFILL_TAG, BackfillRecord

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.storage import RunRecord, Storage

DEFAULT_PRIORITY = -10
"""Backfills start after runs of the default priority (0) unless told otherwise."""

_POLICY = re.compile(r"^(per-partition|single-run|chunks:[1-9][0-9]*)$")
_DONE = ("success",)
_LIVE = ACTIVE_RUN_STATUSES


def create_backfill(
    graph: AssetGraph,
    selection: str | None,
    partitions: str,
    *,
    policy: str = "per-partition",
    priority: int = DEFAULT_PRIORITY,
    tags: Mapping[str, str] | None = None,
    now: float | None = None,
) -> BackfillRecord:
    """A new backfill of ``selection`` over ``partitions`` (``START...END`` or keys joined
    by commas), planned once to validate it; not yet stored."""
    from catchment.execution.plan import build_plan

    if not _POLICY.match(policy):
        raise CatchmentError(
            f"unknown backfill policy {policy!r}",
            where="--policy",
            hint="per-partition, single-run or chunks:N (N partitions per run)",
        )
    parts: str | list[str] = partitions if "..." in partitions else partitions.split(",")
    plan = build_plan(graph, selection, partition=parts)
    if not plan.steps:
        raise CatchmentError("the selection plans no steps", where="--select")
    if not plan.partition_keys:
        raise CatchmentError(
            "the selected assets are not partitioned",
            where="--select",
            hint="a backfill runs partitioned assets over a range; use `catchment materialize`",
        )
    when = time.time() if now is None else now
    return BackfillRecord(
        backfill_id=uuid4().hex[:12],
        created_at=when,
        updated_at=when,
        selection=selection,
        partitions=plan.partition_keys,
        policy=policy,
        priority=priority,
        tags=dict(tags or {}),
    )


@dataclass
class Progress:
    """Where a backfill stands: chunks by the status of their newest run."""

    backfill: BackfillRecord
    chunks: int
    by_status: dict[str, int] = field(default_factory=dict)
    partitions_done: int = 0
    runs: dict[int, RunRecord] = field(default_factory=dict)  # chunk -> newest run

    @property
    def done(self) -> int:
        """Chunks whose newest run succeeded."""
        return self.by_status.get("success", 0)

    @property
    def status(self) -> str:
        """The backfill's status now (a canceled one stays canceled)."""
        if self.backfill.status in ("canceled", "canceling"):
            live = sum(self.by_status.get(s, 0) for s in _LIVE)
            return "canceling" if live else "canceled"
        if self.done == self.chunks:
            return "completed"
        if any(self.by_status.get(s, 0) for s in _LIVE):
            return "running"
        if sum(self.by_status.values()) < self.chunks:
            return "requested"
        return "failed"

    def bar(self, width: int = 30) -> str:
        """``[#######.......] 5/14 chunks``."""
        filled = int(width * self.done / self.chunks) if self.chunks else width
        return f"[{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.chunks} runs"

    def to_dict(self) -> dict[str, object]:
        """Plain data for ``--json``."""
        b = self.backfill
        return {
            "backfill_id": b.backfill_id,
            "status": self.status,
            "selection": b.selection,
            "policy": b.policy,
            "priority": b.priority,
            "partitions": len(b.partitions),
            "first_partition": b.partitions[0] if b.partitions else None,
            "last_partition": b.partitions[-1] if b.partitions else None,
            "runs_total": self.chunks,
            "runs_by_status": self.by_status,
            "partitions_done": self.partitions_done,
            "created_at": b.created_at,
        }


def _chunk_of(run_key: str) -> tuple[int, int]:
    """``backfill:ID:CHUNK[:rN]`` -> (chunk, attempt)."""
    parts = run_key.split(":")
    attempt = int(parts[3][1:]) if len(parts) > 3 else 0
    return int(parts[2]), attempt


def progress(storage: Storage, backfill: BackfillRecord) -> Progress:
    """The backfill's progress, from its runs (one query)."""
    chunks = backfill.chunks()
    newest: dict[int, tuple[int, RunRecord]] = {}
    for key, run in storage.backfill_runs(backfill.backfill_id).items():
        chunk, attempt = _chunk_of(key)
        if chunk not in newest or attempt > newest[chunk][0]:
            newest[chunk] = (attempt, run)
    out = Progress(backfill=backfill, chunks=len(chunks))
    for chunk, (_, run) in sorted(newest.items()):
        out.runs[chunk] = run
        out.by_status[run.status] = out.by_status.get(run.status, 0) + 1
        if run.status in _DONE:
            out.partitions_done += len(chunks[chunk])
    return out


def submit_backfill(storage: Storage, backfill: BackfillRecord, now: float | None = None) -> int:
    """Queue a run for every chunk that has none, or whose newest run failed or was
    abandoned (a retry); how many runs were queued. Idempotent: run keys de-duplicate."""
    if backfill.status in ("canceled", "canceling"):
        return 0
    when = time.time() if now is None else now
    state = progress(storage, backfill)
    attempts: dict[int, int] = {}
    for key in storage.backfill_runs(backfill.backfill_id):
        chunk, attempt = _chunk_of(key)
        attempts[chunk] = max(attempts.get(chunk, 0), attempt)
    tags = {**backfill.tags, BACKFILL_TAG: backfill.backfill_id}
    batch = []
    chunks = backfill.chunks()
    for index, parts in enumerate(chunks):
        run = state.runs.get(index)
        if run is not None and (run.status in _DONE or run.status in _LIVE):
            continue
        key = backfill.run_key(index)
        if run is not None:  # failed, abandoned or canceled alone: retry it
            key = f"{key}:r{attempts.get(index, 0) + 1}"
        request = RunRequest(
            selection=backfill.selection,
            partition_keys=parts,
            tags=tags,
            priority=backfill.priority,
            run_key=key,
            origin=f"backfill:{backfill.backfill_id}",
            reason=f"backfill {backfill.backfill_id} chunk {index + 1}/{len(chunks)}",
            resumes=run.run_id if run is not None else None,
        )
        batch.append((queued_record(request, when + index * 1e-6), key))
    created = sum(s.created for s in storage.submit_runs(batch)) if batch else 0
    backfill.submitted = len(chunks)
    backfill.updated_at = when
    storage.update_backfill(backfill)
    return created


def cancel_backfill(
    storage: Storage, backfill: BackfillRecord, now: float | None = None
) -> list[tuple[RunRecord, str]]:
    """Cancel the backfill and every run of it that has not ended; the (run, new status)
    pairs (running ones become ``canceling``: their process is told to stop)."""
    when = time.time() if now is None else now
    backfill.status = "canceling"
    backfill.updated_at = when
    storage.update_backfill(backfill)
    out = []
    for run in storage.backfill_runs(backfill.backfill_id).values():
        if run.status in _LIVE:
            status = storage.cancel_run(run.run_id, when, reason="backfill canceled")
            if status is not None:
                out.append((run, status))
    backfill.status = "canceled"
    storage.update_backfill(backfill)
    return out

"""The control plane's records: daemon ticks, sensor cursors, run-key de-duplication, leases.

These are what a long-running process must not keep in memory: a daemon killed with SIGKILL
and started again reads them back and neither repeats nor loses work. ``ControlStore`` is the
part of the ``Storage`` protocol that serves them; ``catchment.storage.control_sql`` is its SQL.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol

import msgspec

TickStatus = Literal["started", "success", "skipped", "failure", "interrupted"]
"""``started`` while a tick runs (``interrupted`` if its process died), then ``success`` (it
requested runs), ``skipped`` (nothing to do) or ``failure`` (with its error)."""


class TickRecord(msgspec.Struct, kw_only=True):
    """One evaluation of one daemon loop (a sensor, a schedule, automation, freshness)."""

    tick_id: int = 0
    kind: str
    name: str
    started_at: float
    finished_at: float | None = None
    status: TickStatus = "started"
    error: str | None = None
    body: dict[str, Any] = msgspec.field(default_factory=dict)
    run_ids: tuple[str, ...] = ()


class LeaseRecord(msgspec.Struct, frozen=True, kw_only=True):
    """Who holds a named lease, since when, and until when unless renewed."""

    name: str
    holder: str
    acquired_at: float
    expires_at: float


class SubmittedRun(msgspec.Struct, frozen=True, kw_only=True):
    """What ``submit_run`` did: the run that carries the request, and whether it is new
    (False: the run key was already taken, ``run_id`` is the run that took it)."""

    run_id: str
    created: bool


class AssetEventMark(msgspec.Struct, frozen=True, kw_only=True):
    """The newest event of one type for one asset partition after a given ``seq``."""

    asset_key: str
    partition: str | None
    type: str
    seq: int


class ControlStore(Protocol):
    """The control-plane half of the record store."""

    # -- runs that wait for a process ---------------------------------------------------------
    def submit_run(self, run: Any, run_key: str | None = None) -> SubmittedRun:
        """Insert ``run`` (a ``RunRecord`` with status ``queued``) and, in the SAME
        transaction, claim ``run_key``: a key already claimed inserts nothing and returns
        the run that claimed it, so a key is launched exactly once."""
        ...

    def submit_runs(self, runs: Sequence[tuple[Any, str | None]]) -> list[SubmittedRun]:
        """``submit_run`` for each ``(run, run_key)`` in ONE transaction."""
        ...

    def claim_retry(self, parent_run_id: str, run: Any) -> str | None:
        """Make ``run`` (a ``RunRecord``: the retry, with this process's pid and host) the one
        retry of ``parent_run_id`` and record it as ``started``, in ONE transaction. Returns
        None when claimed, else the id of the retry that holds the parent (still queued or
        running). A holder that ended (or whose process died: abandoned) is taken over."""
        ...

    def claim_run(self, run_id: str, pid: int, host: str, now: float) -> bool:
        """Move a ``queued`` or ``starting`` run to ``started`` for this process (True), or
        leave it (False: another process claimed it first, or it is not waiting)."""
        ...

    def queued_runs(self, limit: int = 100) -> list[Any]:
        """Runs still ``queued`` (no process has claimed them), oldest first."""
        ...

    def run_ids_for_keys(self, run_keys: Iterable[str]) -> dict[str, str]:
        """run key -> the run that claimed it, for the keys that are claimed."""
        ...

    # -- ticks --------------------------------------------------------------------------------
    def start_tick(self, tick: TickRecord) -> int:
        """Record a tick that begins (status ``started``); returns its id."""
        ...

    def finish_tick(self, tick: TickRecord) -> None:
        """Record how the tick ``tick.tick_id`` ended (status, error, body, run ids)."""
        ...

    def list_ticks(
        self,
        kind: str | None = None,
        name: str | None = None,
        limit: int = 50,
        statuses: Sequence[str] | None = None,
    ) -> list[TickRecord]:
        """Ticks newest first, optionally of one kind / name / some statuses."""
        ...

    def latest_ticks(self, kind: str | None = None) -> dict[tuple[str, str], TickRecord]:
        """(kind, name) -> the newest tick of each loop (one query)."""
        ...

    def interrupt_ticks(self, now: float) -> int:
        """Mark ticks left ``started`` by a dead daemon ``interrupted``; how many."""
        ...

    def purge_ticks(self, before: float, statuses: Sequence[str] = ("skipped",)) -> int:
        """Delete ticks of ``statuses`` that started before ``before``; how many."""
        ...

    # -- cursors ------------------------------------------------------------------------------
    def get_cursors(self, names: Iterable[str] | None = None) -> dict[str, str]:
        """name -> value of the named cursors (all when ``names`` is None)."""
        ...

    def set_cursors(self, values: Mapping[str, str], now: float) -> None:
        """Write cursors in one transaction."""
        ...

    # -- leases -------------------------------------------------------------------------------
    def acquire_lease(self, name: str, holder: str, now: float, ttl: float) -> bool:
        """Take or renew lease ``name`` for ``holder`` until ``now + ttl``: True when it is
        free, lapsed or already ``holder``'s; False while someone else holds it."""
        ...

    def release_lease(self, name: str, holder: str) -> None:
        """Give the lease up (only if ``holder`` holds it), so a standby takes over at once."""
        ...

    def get_lease(self, name: str) -> LeaseRecord | None:
        """The lease's current record, lapsed or not."""
        ...

    # -- push ---------------------------------------------------------------------------------
    def asset_events_since(
        self, seq: int, types: Sequence[str] = ("materialization",)
    ) -> list[AssetEventMark]:
        """Per asset partition and type, the newest event of ``types`` with ``seq`` above
        ``seq`` (a range scan on the primary key)."""
        ...

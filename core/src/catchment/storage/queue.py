"""The run queue's records: queue entries, limits, dequeue decisions, pools and backfills.

Schema version 3. A queued run has a ``run_queue`` row (its priority, when it was queued,
when it was last launched, why it waits); ``dequeue`` moves runs ``queued`` -> ``starting``
in one locked transaction under the limits, so two daemons (or a daemon killed half-way)
never start more than the limits allow nor the same run twice. Pools are named slot limits
on steps across all runs: a claim is a lease row that a heartbeat renews and that lapses
when its run dies. Backfills are records whose runs carry the ``backfill`` tag.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal, Protocol

import msgspec

PRIORITY_TAG = "priority"
"""The run tag holding the run's integer priority (higher starts first)."""

BACKFILL_TAG = "backfill"
"""The run tag naming the backfill a run belongs to."""

ACTIVE_QUEUE_STATUSES = ("starting", "started", "canceling")
"""Run statuses that occupy a slot of the run limits."""

STARTING_TIMEOUT = 60.0
"""A run still ``starting`` this long after its launch is launched again (its process never
claimed it: the daemon died between the decision and the launch, or the launch failed)."""

POOL_LEASE_SECONDS = 60.0
"""How long a pool claim lasts without a heartbeat: a killed run's slots are free after it."""


class TagLimit(msgspec.Struct, frozen=True, kw_only=True):
    """At most ``limit`` runs at once among those tagged ``key`` (= ``value``; None: per
    distinct value of ``key``)."""

    key: str
    limit: int
    value: str | None = None

    def describe(self) -> str:
        """``team=finance`` or ``team=*`` (per value)."""
        return f"{self.key}={self.value if self.value is not None else '*'}"


class QueueLimits(msgspec.Struct, frozen=True, kw_only=True):
    """What the queue enforces: the most runs in progress at once (None: no limit) and
    limits per tag value."""

    max_concurrent_runs: int | None = None
    tag_limits: tuple[TagLimit, ...] = ()


def priority_of(tags: Mapping[str, str]) -> int:
    """A run's priority from its ``priority`` tag (0 when absent or not an integer)."""
    try:
        return int(tags.get(PRIORITY_TAG, "0"))
    except ValueError:
        return 0


def tag_limit_reason(
    tags: Mapping[str, str], limits: QueueLimits, counts: Mapping[tuple[str, str], int]
) -> str | None:
    """Why a run with ``tags`` cannot start under the tag limits given ``counts`` of runs in
    progress per (tag key, value), or None when every limit has room."""
    for rule in limits.tag_limits:
        value = tags.get(rule.key)
        if value is None or (rule.value is not None and value != rule.value):
            continue
        used = counts.get((rule.key, value), 0)
        if used >= rule.limit:
            return f"tag {rule.key}={value} full: {used}/{rule.limit}"
    return None


class QueueEntry(msgspec.Struct, frozen=True, kw_only=True):
    """One run in the queue: its place in line and why it waits."""

    run_id: str
    status: str
    priority: int
    enqueued_at: float
    launched_at: float | None = None
    wait_reason: str | None = None
    position: int | None = None  # 1 = next to start; None for runs already starting


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """One decision of the coordinator about one run, with its reason."""

    run_id: str
    action: Literal["start", "wait", "relaunch", "cancel"]
    reason: str


class DequeueResult(msgspec.Struct, kw_only=True):
    """What ``dequeue`` did: runs moved to ``starting`` (to launch now) and the rest."""

    started: list[Any] = msgspec.field(default_factory=list)  # RunRecords
    decisions: list[Decision] = msgspec.field(default_factory=list)
    running: int = 0  # runs in progress after the starts


class PoolClaim(msgspec.Struct, frozen=True, kw_only=True):
    """Slots of a pool held by one step of one run."""

    claim_id: str
    pool: str
    run_id: str
    step_key: str
    slots: int
    claimed_at: float
    expires_at: float
    pid: int | None = None
    host: str | None = None


class PoolInfo(msgspec.Struct, frozen=True, kw_only=True):
    """A pool: its limit (None: not set in the store), the slots in use and who holds them."""

    name: str
    limit: int | None
    used: int
    claims: tuple[PoolClaim, ...] = ()


class PoolGrant(msgspec.Struct, frozen=True, kw_only=True):
    """The answer to a slot claim: granted or not, with the usage it was decided on."""

    granted: bool
    pool: str
    used: int
    limit: int | None

    @property
    def reason(self) -> str:
        """``pool warehouse full: 4/4`` (or that it was granted)."""
        if self.granted:
            return f"pool {self.pool}: {self.used}/{self.limit if self.limit is not None else '∞'}"
        return f"pool {self.pool} full: {self.used}/{self.limit}"


BackfillStatus = Literal["requested", "completed", "failed", "canceling", "canceled"]


class BackfillRecord(msgspec.Struct, kw_only=True):
    """A backfill: a selection over partitions, split into runs by ``policy``."""

    backfill_id: str
    status: BackfillStatus = "requested"
    created_at: float
    updated_at: float
    selection: str | None = None
    partitions: tuple[str, ...] = ()
    policy: str = "per-partition"  # per-partition | single-run | chunks:N
    priority: int = -10
    tags: dict[str, str] = msgspec.field(default_factory=dict)
    submitted: int = 0  # chunks submitted as runs so far (the resume point)

    def chunks(self) -> list[tuple[str, ...]]:
        """The partition groups, one run each, in order."""
        parts = self.partitions
        if self.policy == "single-run" or not parts:
            return [parts]
        size = 1
        if self.policy.startswith("chunks:"):
            size = max(1, int(self.policy.split(":", 1)[1]))
        return [parts[i : i + size] for i in range(0, len(parts), size)]

    def run_key(self, index: int) -> str:
        """The run key of chunk ``index``: submitting it twice records one run."""
        return f"backfill:{self.backfill_id}:{index}"


class QueueStore(Protocol):
    """The run queue, pools and backfills half of the record store (``queue_sql``)."""

    def dequeue(self, limits: QueueLimits, now: float, scan: int = 1000) -> DequeueResult:
        """Start queued runs by priority then age under ``limits`` (one locked write)."""
        ...

    def stale_starting(self, now: float, after: float) -> list[Any]:
        """``starting`` runs launched more than ``after`` seconds ago and never claimed."""
        ...

    def queue_entries(self, limit: int = 1000) -> list[QueueEntry]:
        """Queued and starting runs in start order, with position and wait reason."""
        ...

    def cancel_run(self, run_id: str, now: float, reason: str = "canceled") -> str | None:
        """Cancel a run (queued/starting: canceled; started: canceling); the new status."""
        ...

    def finish_canceling(self, now: float) -> list[str]:
        """``canceling`` runs whose process is gone become ``canceled``."""
        ...

    def set_pool(self, name: str, slots: int, now: float | None = None) -> None:
        """Store pool ``name``'s slot limit."""
        ...

    def delete_pool(self, name: str) -> bool:
        """Forget pool ``name``'s stored limit."""
        ...

    def pool_limits(self) -> dict[str, int]:
        """Stored pool limits."""
        ...

    def pools(self, now: float | None = None) -> list[PoolInfo]:
        """Pools with their limit, live usage and claims."""
        ...

    def claim_pool_slots(
        self, claim: PoolClaim, default_limit: int | None, ttl: float
    ) -> PoolGrant:
        """Take slots of a pool if they fit (one locked write)."""
        ...

    def release_pool_slots(self, claim_ids: Iterable[str]) -> int:
        """Give slots back."""
        ...

    def renew_pool_claims(self, run_id: str, now: float) -> None:
        """Extend a run's claims by their lease time."""
        ...

    def create_backfill(self, backfill: BackfillRecord) -> None:
        """Record a new backfill."""
        ...

    def update_backfill(self, backfill: BackfillRecord) -> None:
        """Store a backfill's status and progress."""
        ...

    def get_backfill(self, backfill_id: str) -> BackfillRecord | None:
        """A backfill by id or unique prefix."""
        ...

    def list_backfills(self, limit: int = 50) -> list[BackfillRecord]:
        """Backfills, newest first."""
        ...

    def backfill_runs(self, backfill_id: str) -> dict[str, Any]:
        """run key -> run of a backfill's runs."""
        ...

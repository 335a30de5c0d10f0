"""Pool slots for the steps of one run: claimed in the record store before a step starts,
released when it ends (or when the run ends, however it ends).

A claim is a lease: the run's heartbeat renews it and it lapses ``pool_lease_seconds`` after
the run's process died, so a killed run never holds slots for long (on the same host a dead
process is noticed at the next claim). Every process that runs steps (``catchment
materialize``, ``runs execute``) goes through the same claims, daemon or not.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING

from catchment.errors import CatchmentError
from catchment.storage.base import HOSTNAME
from catchment.storage.queue import PoolClaim

if TYPE_CHECKING:
    from catchment.definitions import AssetsDefinition
    from catchment.execution.step import StepRuntime
    from catchment.storage import Storage


class PoolGate:
    """Claims and releases the pool slots of one run's steps."""

    def __init__(self, storage: Storage, run_id: str, runtime: StepRuntime):
        self.storage = storage
        self.run_id = run_id
        self.runtime_pools = runtime.pools
        self._limits: dict[str, int] | None = None
        self.ttl = runtime.pool_lease_seconds
        self.held: dict[str, str] = {}  # step -> claim id

    def claim(self, step: str, defn: AssetsDefinition) -> str | None:
        """Take the step's slots; None when it may start (or uses no pool), else why it
        waits (``pool warehouse full: 4/4``)."""
        if defn.pool is None or step in self.held:
            return None
        if self._limits is None:  # read once, at the first pooled step: the stored ones win
            self._limits = {**self.runtime_pools, **self.storage.pool_limits()}
        limit = self._limits.get(defn.pool)
        if limit is not None and defn.pool_slots > limit:
            raise CatchmentError(
                f"step {step} needs {defn.pool_slots} slots of pool {defn.pool}, which has {limit}",
                where=defn.source or step,
                hint="lower pool_slots or raise the pool's limit (pools: or `catchment pools set`)",
            )
        now = time.time()
        claim = PoolClaim(
            claim_id=f"{self.run_id}:{step}",
            pool=defn.pool,
            run_id=self.run_id,
            step_key=step,
            slots=defn.pool_slots,
            claimed_at=now,
            expires_at=now + self.ttl,
            pid=os.getpid(),
            host=HOSTNAME,
        )
        grant = self.storage.claim_pool_slots(claim, self.runtime_pools.get(defn.pool), self.ttl)
        if not grant.granted:
            return grant.reason
        self.held[step] = claim.claim_id
        return None

    def release(self, step: str) -> None:
        """Give the step's slots back (nothing when it held none)."""
        claim = self.held.pop(step, None)
        if claim is not None:
            self.storage.release_pool_slots([claim])

    def release_all(self) -> None:
        """Give back every slot still held (the run is ending)."""
        claims, self.held = list(self.held.values()), {}
        if claims:
            self.storage.release_pool_slots(claims)

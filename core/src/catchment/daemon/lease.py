"""The daemon lease: of all daemons on one record store, the one holding it acts.

The holder renews it on every step; a standby tries to take it on every step and succeeds once
the holder's lease has lapsed (it died, hung or lost the store) or was released (it stopped
cleanly). Acquisition is one conditional upsert, so two daemons can never both hold it.
"""

from __future__ import annotations

import os
import time
import uuid

from catchment.storage import Storage
from catchment.storage.base import HOSTNAME
from catchment.storage.control import LeaseRecord

DAEMON_LEASE = "daemon"
DEFAULT_TTL = 30.0


def daemon_lease(storage: Storage, now: float | None = None) -> tuple[LeaseRecord | None, bool]:
    """The record store's daemon lease (None when no daemon ever held it) and whether a
    daemon holds it at ``now`` (default: the current time), i.e. its queue and loops act: the
    one liveness check of the UI (its automation page, and whether a queued run needs a
    process of its own)."""
    lease = storage.get_lease(DAEMON_LEASE)
    live = lease is not None and lease.expires_at > (time.time() if now is None else now)
    return lease, live


def holder_id() -> str:
    """A name for this process that no other process shares (host, pid, random)."""
    return f"{HOSTNAME}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Lease:
    """One named lease held (or wanted) by ``holder``."""

    def __init__(
        self,
        storage: Storage,
        *,
        name: str = DAEMON_LEASE,
        holder: str | None = None,
        ttl: float = DEFAULT_TTL,
    ):
        self.storage = storage
        self.name = name
        self.holder = holder or holder_id()
        self.ttl = ttl
        self.held = False

    def renew(self, now: float) -> bool:
        """Take or renew the lease; whether this process holds it now."""
        self.held = self.storage.acquire_lease(self.name, self.holder, now, self.ttl)
        return self.held

    def release(self) -> None:
        """Give the lease up so a standby takes over at once."""
        if self.held:
            self.storage.release_lease(self.name, self.holder)
            self.held = False

"""Push: notice materializations (and check results) recorded by any process, fast and cheap.

Every daemon step reads ``max(seq)`` of the events table (one primary-key lookup); only when
it moved are the new asset events read (a range scan above the last seen ``seq``). Loops that
react to them (automation, asset sensors) are woken at once instead of waiting for their
interval, so a run that depends on a materialization starts one step after it, not one tick
interval (a chain of eager assets goes in one run: only the materialization that starts it
pays this step).
"""

from __future__ import annotations

from catchment.storage import Storage
from catchment.storage.control import AssetEventMark

WATCHED_TYPES = ("materialization", "check_evaluated", "asset_observed")


class PushWatcher:
    """Reports asset events recorded since the previous ``poll``."""

    def __init__(self, storage: Storage, *, since: int | None = None):
        self.storage = storage
        self.seen = storage.latest_event_seq() if since is None else since

    def poll(self) -> list[AssetEventMark]:
        """New asset events (newest per asset partition and type), oldest first."""
        top = self.storage.latest_event_seq()
        if top <= self.seen:
            return []
        marks = [
            m for m in self.storage.asset_events_since(self.seen, WATCHED_TYPES) if m.seq <= top
        ]
        self.seen = top
        return marks

"""The daemon's clock: real time in production, a fake one that tests move by hand.

Every loop takes ``now`` from the clock it is given, and the daemon waits with
``clock.sleep``, so a test drives days of cron ticks, lease expiries and sensor timeouts
without sleeping.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """Tells the time (epoch seconds) and waits."""

    def now(self) -> float:
        """The current time."""
        ...

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> None:
        """Wait ``seconds`` (or until ``wake`` is set)."""
        ...


class SystemClock:
    """Wall-clock time."""

    def now(self) -> float:
        return time.time()

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> None:
        if wake is not None:
            wake.wait(max(0.0, seconds))
        else:
            time.sleep(max(0.0, seconds))


class FakeClock:
    """A clock that only moves when told to; ``sleep`` advances it instantly."""

    def __init__(self, start: float = 1_750_000_000.0):
        self.time = start

    def now(self) -> float:
        return self.time

    def advance(self, seconds: float) -> float:
        """Move the time forward; returns the new time."""
        self.time += seconds
        return self.time

    def sleep(self, seconds: float, wake: threading.Event | None = None) -> None:
        self.time += max(0.0, seconds)

"""What every daemon loop is: a kind and a name, a time it is next due, and ``step(now)``,
which starts, continues or finishes a tick and returns the tick once it is recorded."""

from __future__ import annotations

import traceback
from typing import Any, Protocol

import msgspec
from catchment.errors import CatchmentError
from catchment.storage import Storage
from catchment.storage.control import TickRecord, TickStatus


class Loop(Protocol):
    """One thing the daemon evaluates over and over (a sensor, a schedule, automation)."""

    kind: str
    name: str

    def due_at(self) -> float:
        """When the loop next wants a step (epoch seconds)."""
        ...

    def step(self, now: float) -> list[TickRecord]:
        """Do what is due at ``now``; the ticks it recorded."""
        ...

    def wake(self, now: float) -> None:
        """Be due at ``now`` (something it reacts to happened)."""
        ...

    def close(self) -> None:
        """Stop what is running (the daemon is stopping or the loop was removed)."""
        ...


def begin_tick(storage: Storage, kind: str, name: str, now: float) -> TickRecord:
    """Record the start of a tick (status ``started`` until finished)."""
    tick = TickRecord(kind=kind, name=name, started_at=now)
    storage.start_tick(tick)
    return tick


def finish_tick(
    storage: Storage,
    tick: TickRecord,
    now: float,
    status: TickStatus,
    body: dict[str, Any] | None = None,
    run_ids: tuple[str, ...] = (),
    error: str | None = None,
) -> TickRecord:
    """Record how the tick ended."""
    tick.finished_at = now
    tick.status = status
    # as it is stored (plain JSON), so what a loop returns and what `catchment ticks` shows agree
    tick.body = msgspec.json.decode(msgspec.json.encode(body or {}))
    tick.run_ids = run_ids
    tick.error = error
    storage.finish_tick(tick)
    return tick


def error_text(exc: BaseException) -> str:
    """One line for a tick's error: catchment's own message, or the exception and where."""
    if isinstance(exc, CatchmentError):
        return str(exc)
    frames = traceback.extract_tb(exc.__traceback__)
    where = f" (at {frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return f"{type(exc).__name__}: {exc}{where}"

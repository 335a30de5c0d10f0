"""The run page's live event log as server-sent events: new events of one run read from the
record store by sequence number every half second, one SSE message each, and an ``end``
message once the run has ended, i.e. left ``ACTIVE_RUN_STATUSES`` (the browser then closes
the stream). Bounded: a stream lasts at most ``MAX_STREAM_SECONDS`` (the browser reconnects
from the last ``id`` it saw) and sends a comment every ``KEEPALIVE_SECONDS`` so proxies keep
it open."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

import msgspec

from catchment.storage.base import ACTIVE_RUN_STATUSES
from catchment.ui.views import event_row

if TYPE_CHECKING:
    from catchment.storage import Storage

POLL_SECONDS = 0.5
KEEPALIVE_SECONDS = 15.0
MAX_STREAM_SECONDS = 600.0
MAX_BATCH = 2000


def message(event: str, data: object, id: int | None = None) -> str:
    """One SSE message (``data`` as one line of JSON)."""
    head = f"id: {id}\n" if id is not None else ""
    return f"{head}event: {event}\ndata: {msgspec.json.encode(data).decode()}\n\n"


async def run_events(
    storage: Storage,
    run_id: str,
    after: int,
    disconnected: Callable[[], Awaitable[bool]],
    *,
    poll: float = POLL_SECONDS,
    limit: float = MAX_STREAM_SECONDS,
) -> AsyncIterator[str]:
    """The SSE messages of ``run_id``'s events with ``seq`` above ``after``, until the run has
    ended (then ``end`` with its status), the client went away, or ``limit`` seconds passed.

    The status is read BEFORE the events each round, so every event recorded before the run
    ended is sent before ``end``. Store reads run in a worker thread (never block the loop).
    """
    from starlette.concurrency import run_in_threadpool

    started = last_sent = time.monotonic()
    while True:
        record = await run_in_threadpool(storage.get_run, run_id)
        status = record.status if record is not None else "unknown"
        events = await run_in_threadpool(storage.events_for_run, run_id, None, after)
        for e in events[:MAX_BATCH]:
            after = e.seq or after
            yield message("log", event_row(e), id=after)
        if events:
            last_sent = time.monotonic()
        if len(events) > MAX_BATCH:
            continue  # more to send at once, before any wait
        if status not in ACTIVE_RUN_STATUSES:  # every state before the end streams
            yield message("end", {"status": status, "last_seq": after})
            return
        now = time.monotonic()
        if now - started >= limit or await disconnected():
            return
        if now - last_sent >= KEEPALIVE_SECONDS:
            last_sent = now
            yield ": keepalive\n\n"
        await asyncio.sleep(poll)

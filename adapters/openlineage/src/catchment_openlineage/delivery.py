"""Delivery of events off the run's thread: a failing or slow receiver never fails or stalls a run.

Events go into a queue that one daemon thread sends through the OpenLineage client's
transport. The first failure is logged once (secrets redacted) and the receiver is treated as
down for ``cooldown`` seconds, during which events are dropped and counted; at the end of a run
``flush`` waits at most ``flush_timeout`` seconds for what is queued, then lets it go.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["Delivery", "redact"]

log = logging.getLogger("catchment.openlineage")

_SECRET_QUERY = re.compile(r"((?:api[_-]?key|token|secret|password|auth)=)[^&\s]+", re.I)
_BEARER = re.compile(r"(Bearer\s+)\S+", re.I)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` through ``catchment.redact`` (URL and DSN passwords, each of ``secrets``), then
    with API-key query parameters and bearer tokens replaced by ``***`` as well."""
    from catchment.secrets import redact as redact_secrets

    text = redact_secrets(text, secrets=secrets)
    text = _SECRET_QUERY.sub(r"\1***", text)
    return _BEARER.sub(r"\1***", text)


class Delivery:
    """Send events with ``send`` (never blocks); ``flush`` at the end of a run (bounded)."""

    def __init__(
        self,
        emit: Callable[[Any], object],
        *,
        target: str,
        secrets: Iterable[str] = (),
        flush_timeout: float = 10.0,
        cooldown: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._emit = emit
        self.target = target
        self._secrets = tuple(secrets)
        self.flush_timeout = flush_timeout
        self.cooldown = cooldown
        self._clock = clock
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._warned = False
        self.sent = 0
        self.dropped = 0

    def send(self, event: Any) -> None:
        """Queue ``event`` (dropped and counted while the receiver is down)."""
        if self._clock() < self._down_until:
            self.dropped += 1
            return
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._work, daemon=True, name="catchment-openlineage"
                )
                self._thread.start()
        self._queue.put(event)

    def _work(self) -> None:
        while True:
            event = self._queue.get()
            try:
                if self._clock() < self._down_until:
                    self.dropped += 1
                else:
                    self._deliver(event)
            finally:
                self._queue.task_done()

    def _deliver(self, event: Any) -> None:
        try:
            self._emit(event)
            self.sent += 1
        except Exception as exc:  # any transport error: logged once, never raised
            self.dropped += 1
            self._down_until = self._clock() + self.cooldown
            if not self._warned:
                self._warned = True
                log.warning(
                    "OpenLineage: could not deliver events to %s (%s); the run goes on, events "
                    "are dropped for %.0f s and further failures are not logged",
                    redact(self.target, self._secrets),
                    redact(f"{type(exc).__name__}: {exc}", self._secrets),
                    self.cooldown,
                )

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until the queue is empty, at most ``timeout`` (default ``flush_timeout``)
        seconds; True when everything queued was handled."""
        limit = self.flush_timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        while self._queue.unfinished_tasks:
            left = deadline - time.monotonic()
            if left <= 0:
                log.debug("OpenLineage: %d events still queued after %.1f s", self.pending, limit)
                return False
            time.sleep(min(0.01, left))
        return True

    @property
    def pending(self) -> int:
        """Events queued and not yet handled."""
        return self._queue.unfinished_tasks

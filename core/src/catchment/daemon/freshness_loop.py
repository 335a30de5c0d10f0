"""The freshness loop: every interval, judge each asset with a freshness policy and record a
failed ``freshness`` check when one becomes overdue (a passed one when it recovers), under the
tick's synthetic run id ``tick-<id>``, telling the plugins' hooks so they can alert."""

from __future__ import annotations

import math
from typing import Any

from catchment.daemon.loop import begin_tick, error_text, finish_tick
from catchment.graph import AssetGraph
from catchment.storage import Storage
from catchment.storage.control import TickRecord, TickStatus

DEFAULT_INTERVAL = 60.0


class FreshnessLoop:
    """Evaluates freshness policies."""

    kind = "freshness"
    name = "policies"

    def __init__(
        self,
        graph: AssetGraph,
        storage: Storage,
        *,
        hooks: Any = None,
        interval: float = DEFAULT_INTERVAL,
    ):
        self.graph = graph
        self.storage = storage
        self.hooks = hooks
        self.interval = interval
        self._due = -math.inf

    def due_at(self) -> float:
        return self._due

    def wake(self, now: float) -> None:
        self._due = min(self._due, now)

    def close(self) -> None:
        """Nothing runs between steps."""

    def step(self, now: float) -> list[TickRecord]:
        if now < self._due:
            return []
        self._due = now + self.interval
        from catchment.automation.freshness import evaluate_freshness, record_freshness

        tick = begin_tick(self.storage, self.kind, self.name, now)
        try:
            result = evaluate_freshness(self.graph, self.storage, now)
            written = record_freshness(
                self.storage, result, run_id=f"tick-{tick.tick_id}", hooks=self.hooks
            )
        except Exception as exc:
            return [finish_tick(self.storage, tick, now, "failure", {}, error=error_text(exc))]
        body = result.to_body()
        body.pop("events", None)
        body["recorded"] = [{"asset": e.asset_key, "passed": e.data.get("passed")} for e in written]
        overdue = len(result.overdue)
        if overdue:
            body["reason"] = f"{overdue} asset(s) overdue"
        status: TickStatus = "success" if written else "skipped"
        return [finish_tick(self.storage, tick, now, status, body)]

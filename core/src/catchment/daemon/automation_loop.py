"""The automation loop: evaluate every asset's automation condition and start what is due.

The evaluation itself is the automation package's (``catchment.automation``); this loop gives
it the graph, the record store, the time and its previous state, submits the runs it asks
for and records the tick with its per asset / partition decisions. It ticks every
``interval`` and, pushed, as soon as a materialization is recorded; pushed evaluations are
spaced by at least as long as the last one took (and ``min_gap``), so a burst of
materializations cannot keep the daemon evaluating. Requests get run keys that name the
evaluation, so an evaluation repeated after a crash starts nothing twice.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from catchment.daemon.loop import begin_tick, error_text, finish_tick
from catchment.daemon.starter import RunStarter
from catchment.graph import AssetGraph
from catchment.runs.request import RunRequest
from catchment.storage import Storage
from catchment.storage.control import TickRecord

STATE_CURSOR = "automation"
COUNT_CURSOR = "automation:evaluations"
DEFAULT_INTERVAL = 30.0
MIN_GAP = 0.05


@dataclass
class Evaluation:
    """What one automation evaluation decided: runs to request, the tick body (decisions and
    reasons per asset / partition) and the state the next evaluation needs."""

    requests: list[RunRequest]
    body: dict[str, Any] = field(default_factory=dict)
    state: str | None = None


Evaluator = Callable[[AssetGraph, Storage, float, str | None], Evaluation]
"""``evaluate(graph, storage, now, previous_state) -> Evaluation``."""


def _key(n: int, request: RunRequest) -> str:
    what = msgspec.json.encode([request.asset_keys, request.selection, request.partition_keys])
    return f"automation:{n}:{hashlib.sha1(what).hexdigest()[:12]}"


class AutomationLoop:
    """Evaluates automation conditions over the whole graph."""

    kind = "automation"

    def __init__(
        self,
        graph: AssetGraph,
        storage: Storage,
        starter: RunStarter,
        evaluator: Evaluator,
        *,
        interval: float = DEFAULT_INTERVAL,
        min_gap: float = MIN_GAP,
        name: str = "conditions",
        cursors: dict[str, str] | None = None,
    ):
        self.graph = graph
        self.storage = storage
        self.starter = starter
        self.evaluator = evaluator
        self.interval = interval
        self.min_gap = min_gap
        self.name = name
        cursors = cursors or {}
        self.state = cursors.get(STATE_CURSOR)
        self.count = int(cursors.get(COUNT_CURSOR, "0"))
        self.last: float = -math.inf
        self.took = 0.0
        self._due = -math.inf

    def due_at(self) -> float:
        return self._due

    def wake(self, now: float) -> None:
        self._due = min(self._due, max(now, self.last + max(self.min_gap, self.took)))

    def close(self) -> None:
        """Nothing runs between steps."""

    def step(self, now: float) -> list[TickRecord]:
        if now < self._due:
            return []
        started = time.perf_counter()
        try:
            return [self._evaluate(now)]
        finally:
            self.took = time.perf_counter() - started

    def _evaluate(self, now: float) -> TickRecord:
        self.last = now
        self._due = now + self.interval
        n = self.count + 1
        tick = begin_tick(self.storage, self.kind, self.name, now)
        try:
            evaluation = self.evaluator(self.graph, self.storage, now, self.state)
            requests = [
                r if r.run_key else msgspec.structs.replace(r, run_key=_key(n, r))
                for r in evaluation.requests
            ]
            started = self.starter.start(requests, now)
        except Exception as exc:
            return finish_tick(self.storage, tick, now, "failure", {}, error=error_text(exc))
        self.count = n
        self.state = evaluation.state
        cursors = {COUNT_CURSOR: str(n)}
        if evaluation.state is not None:
            cursors[STATE_CURSOR] = evaluation.state
        self.storage.set_cursors(cursors, now)
        body = dict(evaluation.body)
        body["evaluation"] = n
        body["requests"] = [s.to_dict() for s in started]
        new = tuple(s.run_id for s in started if s.created)
        return finish_tick(self.storage, tick, now, "success" if new else "skipped", body, new)

"""A schedule's loop: at each cron tick, submit the runs the schedule asks for.

The cursor (``schedule:NAME``) is the last cron tick handled. After a restart every tick in
``(cursor, now]`` is handled, as far back as the catch-up window reaches; older ones are
counted in the tick body as missed. Each tick's run key names the tick, so a tick handled
twice (the daemon died between submitting and moving the cursor) starts one run.
"""

from __future__ import annotations

import math
from datetime import datetime

from catchment.daemon.loop import begin_tick, error_text, finish_tick
from catchment.daemon.starter import RunStarter
from catchment.graph import AssetGraph
from catchment.schedules import ScheduleDefinition
from catchment.storage import Storage
from catchment.storage.control import TickRecord

MAX_TICKS_PER_STEP = 100


def cursor_name(name: str) -> str:
    """The cursor a schedule keeps its last handled tick in."""
    return f"schedule:{name}"


class ScheduleLoop:
    """Evaluates one schedule."""

    kind = "schedule"

    def __init__(
        self,
        schedule: ScheduleDefinition,
        graph: AssetGraph | None,
        storage: Storage,
        starter: RunStarter,
        *,
        catch_up: float,
        cursor: str | None = None,
    ):
        self.schedule = schedule
        self.name = schedule.name
        self.graph = graph
        self.storage = storage
        self.starter = starter
        self.catch_up = catch_up
        self.cron = schedule.cron_schedule()
        self.last: float | None = float(cursor) if cursor else None
        self._due = -math.inf

    def due_at(self) -> float:
        return self._due

    def wake(self, now: float) -> None:
        self._due = min(self._due, now)

    def close(self) -> None:
        """Nothing runs between steps."""

    def _next_due(self, after: float) -> float:
        return float(self.cron.next_after(after).timestamp())

    def step(self, now: float) -> list[TickRecord]:
        if self.last is None:  # first sight: start from now, do not replay history
            self.last = now
            self.storage.set_cursors({cursor_name(self.name): repr(now)}, now)
        start = max(self.last, now - self.catch_up)
        ticks = list(self.cron.ticks_between(start, now, limit=MAX_TICKS_PER_STEP))
        recorded: list[TickRecord] = []
        missed = 0
        if start > self.last:
            missed = sum(1 for _ in self.cron.ticks_between(self.last, start, limit=100_000))
            self.last = start
        if missed and not ticks:  # every tick in the gap was too old: say so once
            tick = begin_tick(self.storage, self.kind, self.name, now)
            reason = f"{missed} tick(s) older than the catch-up window"
            recorded.append(
                finish_tick(
                    self.storage, tick, now, "skipped", {"missed": missed, "reason": reason}
                )
            )
            self.storage.set_cursors({cursor_name(self.name): repr(self.last)}, now)
        for moment in ticks:
            recorded.append(self._tick(moment, now, missed))
            missed = 0
            self.last = moment.timestamp()
            self.storage.set_cursors({cursor_name(self.name): repr(self.last)}, now)
        self._due = self._next_due(max(self.last, now))
        return recorded

    def _tick(self, moment: datetime, now: float, missed: int) -> TickRecord:
        tick = begin_tick(self.storage, self.kind, self.name, now)
        body: dict[str, object] = {"tick_time": moment.isoformat(), "cron": self.schedule.cron}
        if missed:
            body["missed"] = missed
        try:
            if self.graph is None:
                raise RuntimeError("the project's asset graph did not build")
            requests = self.schedule.requests_for_tick(moment, self.graph)
            started = self.starter.start(requests, now)
        except Exception as exc:
            return finish_tick(self.storage, tick, now, "failure", body, error=error_text(exc))
        body["requests"] = [s.to_dict() for s in started]
        new = tuple(s.run_id for s in started if s.created)
        if not started:
            body["reason"] = "the selection has no partitions to run at this tick"
        elif not new:
            body["reason"] = "already requested (run key taken)"
        return finish_tick(self.storage, tick, now, "success" if new else "skipped", body, new)

"""A sensor's loop: every interval, evaluate the sensor and submit the runs it requests.

``python`` and ``files`` sensors run in a subprocess (``catchment.sensors.runner``) that the
loop polls on every daemon step, so a slow sensor blocks nothing and one past its timeout is
killed. ``asset`` sensors only read the record store and are evaluated in the daemon. A
sensor that raises, hangs or returns garbage gives a failed tick with the error; its cursor
stays where it was.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import msgspec
from catchment.daemon.loop import begin_tick, error_text, finish_tick
from catchment.daemon.starter import RunStarter
from catchment.graph import AssetGraph
from catchment.runs.request import RunRequest
from catchment.sensors.definition import SensorContext, SensorDefinition, SensorResult
from catchment.sensors.runner import SensorOutcome, SensorProcess, SubprocessSensorRunner
from catchment.storage import Storage
from catchment.storage.control import TickRecord, TickStatus

FILES_FUNCTION = "catchment.sensors.files:files_sensor"

AddPartitions = Callable[[Storage, str, Sequence[str], float, AssetGraph | None], Any]
"""Adds keys to a dynamic partition set of the graph (the automation package's API)."""


def cursor_name(name: str) -> str:
    """The cursor a sensor keeps between ticks."""
    return f"sensor:{name}"


def partition_format(graph: AssetGraph | None, sensor: SensorDefinition) -> str | None:
    """The key format of the first time-partitioned asset the sensor targets."""
    from catchment.partitions import TimeWindowPartitions
    from catchment.schedules import selected

    if graph is None:
        return None
    for key in selected(graph, sensor.selection, sensor.asset_keys):
        partitions = graph.specs[key].partitions
        if isinstance(partitions, TimeWindowPartitions):
            return partitions.fmt
    return None


class SensorLoop:
    """Evaluates one sensor."""

    kind = "sensor"

    def __init__(
        self,
        sensor: SensorDefinition,
        graph: AssetGraph | None,
        storage: Storage,
        starter: RunStarter | None,
        runner: SubprocessSensorRunner,
        *,
        cursor: str | None = None,
        last_tick_at: float | None = None,
        add_partitions: AddPartitions | None = None,
    ):
        self.sensor = sensor
        self.name = sensor.name
        self.graph = graph
        self.storage = storage
        self.starter = starter
        self.runner = runner
        self.cursor = cursor
        self.last_tick_at = last_tick_at
        self.add_partitions = add_partitions
        self.running: tuple[SensorProcess, TickRecord] | None = None
        self._due = -math.inf if last_tick_at is None else last_tick_at + sensor.interval

    @property
    def watched_asset(self) -> str | None:
        """The asset an ``asset`` sensor reacts to."""
        asset = self.sensor.config.get("asset") if self.sensor.type == "asset" else None
        return str(asset) if asset else None

    def due_at(self) -> float:
        return -math.inf if self.running is not None else self._due

    def wake(self, now: float) -> None:
        self._due = min(self._due, now)

    def close(self) -> None:
        if self.running is not None:
            self.running[0].kill()
            self.running = None

    def step(self, now: float) -> list[TickRecord]:
        if self.running is not None:
            process, tick = self.running
            outcome = process.poll(now)
            if outcome is None:
                return []
            self.running = None
            return [self._finish(tick, outcome, now)]
        if now < self._due:
            return []
        self._due = now + self.sensor.interval
        self.last_tick_at = now
        tick = begin_tick(self.storage, self.kind, self.name, now)
        begun = self._begin(now)
        if isinstance(begun, SensorOutcome):
            return [self._finish(tick, begun, now)]
        self.running = (begun, tick)
        return self.step(now)  # a sensor that already finished is handled at once

    def _begin(self, now: float) -> SensorProcess | SensorOutcome:
        """Start an evaluation: a running process, or the outcome when there is none to run
        (an ``asset`` sensor, or one that could not start)."""
        if self.sensor.type == "asset":
            try:
                return SensorOutcome(result=self._asset_result(now))
            except Exception as exc:
                return SensorOutcome(error=error_text(exc))
        try:
            config = dict(self.sensor.config)
            function = self.sensor.function or ""
            if self.sensor.type == "files":
                function = FILES_FUNCTION
                config.setdefault("partition_format", partition_format(self.graph, self.sensor))
            context = SensorContext(
                sensor_name=self.name,
                cursor=self.cursor,
                now=now,
                last_tick_at=self.last_tick_at,
                project_root=str(self.runner.project_root),
                config=config,
            )
            return self.runner.start(function, context, now, self.sensor.timeout)
        except Exception as exc:
            return SensorOutcome(error=error_text(exc))

    def evaluate(self, now: float) -> SensorOutcome:
        """One evaluation, waited for (what ``catchment sensors preview`` shows): nothing is
        submitted or stored; requests are completed as the daemon would complete them."""
        started = time.monotonic()
        begun = self._begin(now)
        while isinstance(begun, SensorProcess):
            outcome = begun.poll(now + (time.monotonic() - started))
            if outcome is None:
                time.sleep(0.05)
                continue
            begun = outcome
        if begun.result is not None:
            begun.result.run_requests = [self._complete(r) for r in begun.result.run_requests]
        return begun

    # -- results ----------------------------------------------------------------------------
    def _finish(self, tick: TickRecord, outcome: SensorOutcome, now: float) -> TickRecord:
        body: dict[str, Any] = {"cursor_before": self.cursor}
        if outcome.output.strip():
            body["output"] = outcome.output[-2000:]
        result = outcome.result
        if result is None:
            return finish_tick(self.storage, tick, now, "failure", body, error=outcome.error)
        try:
            if self.starter is None:
                raise RuntimeError("this sensor loop only previews")
            # new partition keys first: a run for one of them may start at once
            added = self._add_partitions(result.dynamic_partitions, now)
            requests = [self._complete(r) for r in result.run_requests]
            started = self.starter.start(requests, now)
        except Exception as exc:
            return finish_tick(self.storage, tick, now, "failure", body, error=error_text(exc))
        if result.cursor is not None and result.cursor != self.cursor:
            self.storage.set_cursors({cursor_name(self.name): result.cursor}, now)
            self.cursor = result.cursor
        body["cursor"] = self.cursor
        body["requests"] = [s.to_dict() for s in started]
        if added:
            body["dynamic_partitions"] = added
        new = tuple(s.run_id for s in started if s.created)
        if result.skip_reason:
            body["reason"] = result.skip_reason
        elif started and not new:
            body["reason"] = "already requested (run keys taken)"
        status: TickStatus = "success" if new or added else "skipped"
        return finish_tick(self.storage, tick, now, status, body, new)

    def _complete(self, request: RunRequest) -> RunRequest:
        """The request with the sensor's target, tags, origin and a namespaced run key."""
        changes: dict[str, Any] = {"origin": f"sensor:{self.name}"}
        if not request.asset_keys and not request.selection:
            changes["asset_keys"] = self.sensor.asset_keys
            changes["selection"] = self.sensor.selection
        if request.run_key is not None:
            changes["run_key"] = f"sensor:{self.name}:{request.run_key}"
        changes["tags"] = {**self.sensor.tags, **request.tags, "sensor": self.name}
        return msgspec.structs.replace(request, **changes)

    def _add_partitions(self, sets: dict[str, list[str]], now: float) -> dict[str, list[str]]:
        if not sets:
            return {}
        if self.add_partitions is None:
            raise RuntimeError("this catchment has no dynamic partitions store")
        for set_name, keys in sets.items():
            self.add_partitions(self.storage, set_name, keys, now, self.graph)
        return sets

    def _asset_result(self, now: float) -> SensorResult:
        """An ``asset`` sensor: a run for each new materialization (or failed check) of the
        watched asset since the cursor (the event ``seq`` it saw last)."""
        from catchment.keys import AssetKey

        asset = AssetKey.parse(self.watched_asset or "").to_string()
        top = self.storage.latest_event_seq()
        if self.cursor is None:  # first tick: react to what happens from now on
            return SensorResult(cursor=str(top), skip_reason="started watching " + asset)
        since = int(self.cursor)
        on = self.sensor.config.get("event") or "materialization"
        if on == "check_failed":
            checks = self.storage.check_history(AssetKey.parse(asset), limit=100)
            seqs = [c.seq for c in checks if since < c.seq <= top and not c.passed]
            partitions: set[str] = {c.partition for c in checks if c.seq in seqs and c.partition}
        else:
            marks = [
                m
                for m in self.storage.asset_events_since(since, ("materialization",))
                if m.asset_key == asset and m.seq <= top
            ]
            seqs = [m.seq for m in marks]
            partitions = {m.partition for m in marks if m.partition}
        if not seqs:
            return SensorResult(cursor=str(top), skip_reason=f"no new {on} of {asset}")
        what = "failed check" if on == "check_failed" else "materialization"
        request = RunRequest(
            partition_keys=tuple(sorted(partitions)) if self._targets_partitioned() else (),
            run_key=str(max(seqs)),
            reason=f"new {what} of {asset} (event {max(seqs)})",
        )
        return SensorResult(run_requests=[request], cursor=str(top))

    def _targets_partitioned(self) -> bool:
        from catchment.schedules import selected

        if self.graph is None:
            return False
        keys = selected(self.graph, self.sensor.selection, self.sensor.asset_keys)
        return any(self.graph.specs[k].partitions is not None for k in keys)

"""The emitter: turns the life-cycle hooks of runs into OpenLineage events and hands them to
delivery. One per process; runs are tracked by id until they finish."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catchment.columns import asset_sql
from catchment.hookspecs import RunInfo
from catchment.keys import AssetKey

from catchment_openlineage.columns import lineage_of
from catchment_openlineage.config import Settings, make_client, secrets, settings
from catchment_openlineage.delivery import Delivery, redact
from catchment_openlineage.events import AssetEvents, AssetGraph

__all__ = ["Emitter", "emitter", "finish_run", "for_run", "start_run"]

log = logging.getLogger("catchment.openlineage")


@dataclass
class _RunState:
    """What one catchment run has emitted: the OpenLineage run id of each started asset."""

    events: AssetEvents | None = None
    started: dict[str, str] = field(default_factory=dict)
    ended: set[str] = field(default_factory=set)


class Emitter:
    """Events for the runs of this process, sent through one ``Delivery``."""

    def __init__(self, config: Settings, delivery: Delivery):
        self.config = config
        self.delivery = delivery
        self.runs: dict[str, _RunState] = {}

    @staticmethod
    def project_name(run: RunInfo) -> str:
        """The parent job's name: the project folder's name."""
        return Path(run.project_root).name if run.project_root else "catchment"

    def run_started(self, run: RunInfo) -> None:
        """Remember the run (its graph comes with its first step)."""
        self.runs[run.run_id] = _RunState()

    def _events(self, run: RunInfo, graph: AssetGraph) -> AssetEvents:
        state = self.runs.setdefault(run.run_id, _RunState())
        if state.events is None:
            state.events = AssetEvents(
                graph, run.run_id, namespace=self.config.namespace, project=self.project_name(run)
            )
            self.delivery.send(state.events.parent("START"))
        return state.events

    def step_started(self, run: RunInfo, event: Any, graph: AssetGraph) -> None:
        """START for each asset of the step."""
        from openlineage.client.uuid import generate_new_uuid

        events = self._events(run, graph)
        state = self.runs[run.run_id]
        for key in event.data.get("asset_keys") or ():
            run_id = str(generate_new_uuid())
            state.started[key] = run_id
            spec = graph.specs.get(AssetKey(key))
            sql = asset_sql(spec) if spec is not None else None
            self.delivery.send(
                events.asset("START", AssetKey(key), run_id, timestamp=event.timestamp, sql=sql)
            )

    def asset_materialized(self, run: RunInfo, event: Any) -> None:
        """COMPLETE with schema, row count and column lineage."""
        state = self.runs.get(run.run_id)
        if state is None or state.events is None or not event.asset_key:
            return
        key = AssetKey(event.asset_key)
        data = event.materialization
        spec = state.events.graph.specs.get(key)
        lineage = lineage_of(spec, data.metadata) if spec is not None else None
        sql = asset_sql(spec, data.metadata) if spec is not None else None
        run_id = self._run_id(state, event.asset_key, event.timestamp)
        self.delivery.send(
            state.events.asset(
                "COMPLETE",
                key,
                run_id,
                timestamp=event.timestamp,
                metadata=data.metadata,
                table_text=data.table,
                lineage=lineage,
                sql=sql,
            )
        )
        state.ended.add(event.asset_key)

    def asset_failed(self, run: RunInfo, event: Any) -> None:
        """FAIL with the error message facet."""
        state = self.runs.get(run.run_id)
        if state is None or state.events is None or not event.asset_key:
            return
        failure = event.failure
        message = failure.message or failure.error_class or "failed"
        if failure.error_class and failure.error_class not in message:
            message = f"{failure.error_class}: {message}"
        run_id = self._run_id(state, event.asset_key, event.timestamp)
        self.delivery.send(
            state.events.asset(
                "FAIL",
                AssetKey(event.asset_key),
                run_id,
                timestamp=event.timestamp,
                error=redact(message, secrets()),
            )
        )
        state.ended.add(event.asset_key)

    def _run_id(self, state: _RunState, key: str, timestamp: float) -> str:
        """The asset's OpenLineage run id; a second result for one asset (another partition)
        gets a run of its own, started first."""
        from openlineage.client.uuid import generate_new_uuid

        run_id = state.started.get(key)
        if run_id is not None and key not in state.ended:
            return run_id
        run_id = str(generate_new_uuid())
        state.started[key] = run_id
        state.ended.discard(key)
        assert state.events is not None
        self.delivery.send(state.events.asset("START", AssetKey(key), run_id, timestamp=timestamp))
        return run_id

    def run_finished(self, run: RunInfo, status: str) -> None:
        """ABORT for assets that started and never ended, then the run's own end; waits a
        bounded time for delivery."""
        state = self.runs.pop(run.run_id, None)
        if state is None or state.events is None:
            return
        for key, run_id in state.started.items():
            if key not in state.ended:
                self.delivery.send(state.events.asset("ABORT", AssetKey(key), run_id))
        final = {"success": "COMPLETE", "failure": "FAIL"}.get(status, "ABORT")
        self.delivery.send(state.events.parent(final))
        self.delivery.flush()


_EMITTER: Emitter | None = None
_KEY: tuple[Any, ...] | None = None
_ACTIVE: dict[str, Emitter] = {}


def for_run(run: RunInfo) -> Emitter | None:
    """The emitter a started run uses (chosen once, when it started)."""
    return _ACTIVE.get(run.run_id)


def start_run(run: RunInfo) -> None:
    """Choose the emitter of ``run`` (None: not configured, nothing happens for it)."""
    chosen = emitter(run)
    if chosen is not None:
        _ACTIVE[run.run_id] = chosen
        chosen.run_started(run)


def finish_run(run: RunInfo, status: str) -> None:
    """End ``run``: its remaining events, then forget it."""
    chosen = _ACTIVE.pop(run.run_id, None)
    if chosen is not None:
        chosen.run_finished(run, status)


def emitter(run: RunInfo) -> Emitter | None:
    """The process's emitter for the configuration in force, or None when OpenLineage is not
    configured (then nothing is imported or sent). Built again when the configuration
    changes (tests, embedders)."""
    global _EMITTER, _KEY
    config = settings(run.project_root)
    if config is None:
        return None
    key = (config, os.environ.get("OPENLINEAGE_API_KEY"), os.environ.get("OPENLINEAGE_ENDPOINT"))
    if _EMITTER is None or key != _KEY:
        try:
            client = make_client(config)
        except Exception as exc:  # a bad openlineage.yml must not fail the run
            log.warning(
                "OpenLineage: cannot set up the client from %s (%s); no events are sent",
                redact(config.target, secrets()),
                redact(f"{type(exc).__name__}: {exc}", secrets()),
            )
            return None
        delivery = Delivery(
            client.emit,
            target=config.target,
            secrets=secrets(),
            flush_timeout=config.flush_timeout,
        )
        _EMITTER, _KEY = Emitter(config, delivery), key
    return _EMITTER

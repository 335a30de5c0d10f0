"""``ExecutionResult``: the outcome of a run, its events, and the values it materialized."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from catchment.errors import ExecutionError
from catchment.events import Event, EventType
from catchment.execution.context import io_manager_for, upstream_partitions
from catchment.execution.plan import Plan
from catchment.io import InputContext, IOManager
from catchment.keys import AssetKey, CoercibleToKey
from catchment.results import CheckResult

if TYPE_CHECKING:
    from catchment.graph import AssetGraph


@dataclass
class ExecutionResult:
    """The outcome of a run: its events, and the values of what it materialized."""

    run_id: str
    success: bool
    status: str
    events: list[Event]
    plan: Plan
    graph: AssetGraph = field(repr=False)
    io_managers: Mapping[str, IOManager] = field(repr=False, default_factory=dict)

    @property
    def materializations(self) -> list[Event]:
        """The ``materialization`` events, in order."""
        return [e for e in self.events if e.type is EventType.MATERIALIZATION]

    @property
    def check_results(self) -> list[CheckResult]:
        """Every check evaluation of the run, as ``CheckResult``."""
        checks = [
            (e.asset_key, e.check) for e in self.events if e.type is EventType.CHECK_EVALUATED
        ]
        return [
            CheckResult(
                asset_key=AssetKey(key or ""),
                check_name=check.check_name,
                passed=check.passed,
                severity=check.severity,
                description=check.description,
                metadata=check.metadata,
            )
            for key, check in checks
        ]

    @property
    def failures(self) -> list[Event]:
        """``asset_failed`` and ``step_failed`` events."""
        kinds = (EventType.ASSET_FAILED, EventType.STEP_FAILED)
        return [e for e in self.events if e.type in kinds]

    @property
    def materialized_keys(self) -> list[AssetKey]:
        """The keys materialized, each once, in the order they were."""
        return list(dict.fromkeys(AssetKey(e.asset_key or "") for e in self.materializations))

    def status_of(self, key: CoercibleToKey) -> str:
        """``success``, ``failed``, ``skipped`` or ``not run`` for one asset of this run."""
        name = AssetKey.parse(key).to_string()
        status = "not run"
        for e in self.events:
            if e.asset_key != name:
                continue
            if e.type is EventType.MATERIALIZATION:
                status = "success"
            elif e.type is EventType.ASSET_FAILED:
                status = "failed"
            elif e.type is EventType.ASSET_SKIPPED:
                status = "skipped"
        return status

    def output_for(self, key: CoercibleToKey, partition: str | None = None) -> Any:
        """Load ``key``'s value through its IO manager (``partition`` for one partition)."""
        k = AssetKey.parse(key)
        spec = self.graph.specs.get(k)
        if spec is None:
            raise ExecutionError(f"no asset {k} in this run's graph", where=f"run {self.run_id}")
        parts = (partition,) if partition else self.plan.partition_keys
        context = InputContext(
            key=k, spec=spec, partition_keys=upstream_partitions(self.graph, None, spec, parts)
        )
        return io_manager_for(spec, self.io_managers, f"run {self.run_id}").load_input(context)

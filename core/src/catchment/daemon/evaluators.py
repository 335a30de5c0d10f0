"""The automation package's evaluations as the daemon's loops call them: conditions
(``catchment.automation.evaluator.evaluate``) and dynamic partition keys from sensors
(``catchment.dynamic.add_dynamic_partitions``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from catchment.daemon.automation_loop import Evaluation

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.storage import Storage


def evaluate_conditions(
    graph: AssetGraph, storage: Storage, now: float, state: str | None
) -> Evaluation:
    """One automation evaluation; its state is kept as JSON in the ``automation`` cursor and
    its result (decisions, operand values, state) is the tick's body."""
    import msgspec
    from catchment.automation.evaluator import evaluate
    from catchment.automation.result import AutomationState

    previous = msgspec.json.decode(state, type=AutomationState) if state else None
    result = evaluate(graph, storage, now, previous)
    return Evaluation(
        requests=list(result.run_requests),
        body=result.to_body(),
        state=msgspec.json.encode(result.state).decode(),
    )


def has_conditions(graph: AssetGraph) -> bool:
    """Whether any asset of ``graph`` has an automation condition."""
    return any(getattr(spec, "automation", None) is not None for spec in graph.specs.values())


def add_partitions(
    storage: Storage, set_name: str, keys: Sequence[str], now: float, graph: AssetGraph | None
) -> Any:
    """Add a sensor's new keys to a dynamic partition set (one the graph uses)."""
    from catchment.dynamic import add_dynamic_partitions

    return add_dynamic_partitions(storage, set_name, keys, graph=graph, now=now)

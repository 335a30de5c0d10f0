"""Explaining a decision: an asset partition's condition tree with every node's value.

From a recorded evaluation (the daemon's last automation tick) the values come from the
record alone: it holds, per asset, the partitions each operand and each ``.since()`` /
``.newly_true()`` node was true for, and ``&``, ``|``, ``~`` follow from those. Evaluated now
(no tick recorded yet), each true operand also says what made it true.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import msgspec

from catchment.automation.conditions import (
    AutomationCondition,
    Prebuilt,
    node_value,
)
from catchment.automation.expression import parse_condition
from catchment.automation.result import UNPARTITIONED, EvaluationResult
from catchment.errors import CatchmentError
from catchment.execution.subjects import Subjects
from catchment.keys import AssetKey

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.storage import Storage

__all__ = ["ExplainedNode", "Explanation", "explain_result", "latest_evaluation", "render"]

TICK_KIND = "automation"
"""The kind of the daemon's automation ticks, whose body is ``EvaluationResult.to_body()``."""


class ExplainedNode(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One node of the tree: where it is, what it is, and its value."""

    path: str
    depth: int
    label: str
    value: bool
    leaf: bool = False
    summary: str = ""
    detail: str = ""


class Explanation(msgspec.Struct, kw_only=True, omit_defaults=True):
    """An asset partition's condition at one evaluation, node by node."""

    asset: str
    partition: str | None = None
    condition: str
    evaluated_at: float
    source: str
    requested: bool = False
    reason: str = ""
    tick_id: int | None = None
    nodes: list[ExplainedNode] = msgspec.field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready builtins."""
        out: dict[str, Any] = msgspec.to_builtins(self)
        return out


def latest_evaluation(storage: Storage) -> tuple[int, EvaluationResult] | None:
    """The daemon's newest recorded automation evaluation (tick id, result), if any: a
    store without ticks (no daemon yet) or a failed tick gives None."""
    list_ticks = getattr(storage, "list_ticks", None)
    if list_ticks is None:
        return None
    for tick in list_ticks(kind=TICK_KIND, limit=5):
        body = getattr(tick, "body", None)
        if body and "state" in body:
            try:
                return int(tick.tick_id), EvaluationResult.from_body(body)
            except (msgspec.ValidationError, TypeError):
                continue
    return None


def explain_result(
    graph: AssetGraph,
    result: EvaluationResult,
    key: AssetKey,
    partition: str | None = None,
    *,
    source: str = "tick",
    tick_id: int | None = None,
    detail: Callable[[AutomationCondition, tuple[AssetKey, str | None]], str] | None = None,
) -> Explanation:
    """``key``'s condition tree with each node's value for ``partition`` (default: the
    newest partition in scope at the evaluation) as ``result`` recorded it."""
    name = key.to_string()
    recorded = result.values.get(name, {})
    condition = _condition(graph, result, key, recorded.get("c"))
    partition = _partition(graph, result, key, partition)
    part = UNPARTITIONED if partition is None else partition
    true_at: dict[str, list[str]] = recorded.get("n", {})
    decision = next(
        (d for d in result.decisions if d.asset == name and d.partition == partition), None
    )

    def is_true(path: str) -> bool:
        return part in true_at.get(path, ())

    nodes: list[ExplainedNode] = []
    for path, node in condition.walk():
        value = node_value(node, path, is_true)
        why = ""
        if detail is not None and value and not node.children:
            why = detail(node, (key, partition))
        nodes.append(
            ExplainedNode(
                path=path,
                depth=path.count("."),
                label=_label(node),
                value=value,
                leaf=not node.children,
                summary=node.summary,
                detail=why,
            )
        )
    return Explanation(
        asset=name,
        partition=partition,
        condition=str(condition),
        evaluated_at=result.evaluated_at,
        source=source,
        requested=decision is not None,
        reason=decision.reason if decision is not None else "",
        tick_id=tick_id,
        nodes=nodes,
    )


def _condition(
    graph: AssetGraph, result: EvaluationResult, key: AssetKey, cid: str | None
) -> AutomationCondition:
    """The condition the evaluation used: the recorded expression, else the asset's own."""
    if cid is not None and cid in result.conditions:
        return parse_condition(result.conditions[cid])
    spec = graph.specs.get(key)
    if spec is None or spec.automation is None:
        raise CatchmentError(
            f"asset {key} has no automation condition",
            hint="run `catchment automation list` to see the assets that have one",
        )
    return spec.automation


def _partition(
    graph: AssetGraph, result: EvaluationResult, key: AssetKey, partition: str | None
) -> str | None:
    spec = graph.specs[key]
    if spec.partitions is None:
        if partition is not None:
            raise CatchmentError(f"asset {key} is not partitioned", where="--partition")
        return None
    domain = Subjects(graph, datetime.fromtimestamp(result.evaluated_at, UTC)).domain(key)
    if partition is None:
        if not domain:
            raise CatchmentError(
                f"asset {key} had no partition in scope at that evaluation",
                where="--partition",
                hint="pass --partition KEY",
            )
        return domain[-1]
    if partition not in domain:
        shown = ", ".join(str(p) for p in domain[-5:]) or "none"
        raise CatchmentError(
            f"partition {partition!r} of {key} was not in scope at that evaluation",
            where="--partition",
            hint=f"partitions in scope then: {shown} (see partition_scope)",
        )
    return partition


def _label(node: AutomationCondition) -> str:
    return str(node) if isinstance(node, Prebuilt) else node.label()


def render(explanation: Explanation) -> str:
    """The explanation as an indented tree, ``✓``/``✗`` per node, for a terminal."""
    when = datetime.fromtimestamp(explanation.evaluated_at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    subject = explanation.asset + (f" [{explanation.partition}]" if explanation.partition else "")
    source = (
        f"tick {explanation.tick_id}" if explanation.tick_id is not None else explanation.source
    )
    verdict = "requested" if explanation.requested else "not requested"
    lines = [f"{subject}: {verdict} (evaluated {when}, {source})"]
    if explanation.reason:
        lines.append(f"  reason: {explanation.reason}")
    for node in explanation.nodes:
        mark = "✓" if node.value else "✗"
        text = f"{'  ' * (node.depth + 1)}{mark} {node.label}"
        if node.detail:
            text += f"  — {node.detail}"
        elif node.leaf and node.summary:
            text += f"  ({node.summary})"
        lines.append(text)
    return "\n".join(lines)

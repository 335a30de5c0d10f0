"""What an automation evaluation returns and remembers: decisions, run requests, the state
the next evaluation needs, and the record of every operand's value (for ``explain``).

All plain msgspec structs: the daemon stores ``EvaluationResult.to_body()`` as its tick body
and hands ``AutomationState.from_body(body)`` to the next evaluation, so memory survives a
restart (kill -9 included) exactly as recorded.
"""

from __future__ import annotations

from typing import Any

import msgspec

from catchment.runs.request import RunRequest

__all__ = ["AutomationState", "Decision", "EvaluationResult"]

UNPARTITIONED = ""
"""How state and records write the partition of an unpartitioned asset (keys are never "")."""


class AutomationState(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What one evaluation leaves for the next.

    ``evaluated_at``: when it ran (POSIX seconds); ``cursor``: the newest event ``seq`` it
    saw (what "since the previous evaluation" means for ``newly_updated``); ``requested``:
    asset -> partitions it requested; ``memory``: for each ``.since()`` / ``.newly_true()``
    node, keyed ``asset\\tcondition-id\\tnode-path``, the partitions it was true for. Only
    non-empty entries are kept, so the state stays small when nothing is pending.
    """

    evaluated_at: float | None = None
    cursor: int | None = None
    requested: dict[str, list[str]] = msgspec.field(default_factory=dict)
    memory: dict[str, list[str]] = msgspec.field(default_factory=dict)

    @classmethod
    def from_body(cls, body: dict[str, Any] | None) -> AutomationState | None:
        """The state stored in a tick body by :meth:`EvaluationResult.to_body` (None when the
        body holds none, e.g. the tick failed before evaluating)."""
        if not body or not isinstance(body.get("state"), dict):
            return None
        return msgspec.convert(body["state"], cls)


class Decision(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One asset partition the evaluation requested, and why."""

    asset: str
    partition: str | None = None
    condition: str = ""
    reason: str = ""


class EvaluationResult(msgspec.Struct, kw_only=True):
    """One evaluation: what to run, why, what it saw, and the state to keep.

    ``values`` records, per asset, the partitions each operand (and each stateful node) was
    true for: ``{asset: {"c": condition-id, "n": {node-path: [partitions]}}}``; assets with
    nothing true are left out. ``conditions`` maps condition ids to their expressions, so
    ``explain`` rebuilds any asset's tree with its values from this record alone.
    """

    evaluated_at: float
    state: AutomationState
    run_requests: list[RunRequest] = msgspec.field(default_factory=list)
    decisions: list[Decision] = msgspec.field(default_factory=list)
    conditions: dict[str, str] = msgspec.field(default_factory=dict)
    values: dict[str, dict[str, Any]] = msgspec.field(default_factory=dict)
    assets: int = 0
    subjects: int = 0
    queries: int = 0
    duration: float = 0.0
    problems: dict[str, str] = msgspec.field(default_factory=dict)

    @property
    def requested(self) -> bool:
        """Whether anything is to run."""
        return bool(self.run_requests)

    def to_body(self) -> dict[str, Any]:
        """The result as JSON-ready builtins: what the daemon keeps as the tick's body."""
        body: dict[str, Any] = msgspec.to_builtins(self)
        return body

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> EvaluationResult:
        """A result back from :meth:`to_body`."""
        return msgspec.convert(body, cls)

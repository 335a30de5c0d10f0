"""Execution: plan a selection into steps, run them through an executor, record the events.

``materialize`` (Python API), ``run_project`` / ``run`` (CLI), ``build_plan``,
``reconcile`` (missing / stale / fresh per asset) and the executors.
"""

from __future__ import annotations

from catchment.execution.api import ExecutionResult, materialize, run, run_project
from catchment.execution.executors import Executor, InProcessExecutor, MultiprocessExecutor
from catchment.execution.plan import Plan, Step, build_plan

__all__ = [
    "ExecutionResult",
    "Executor",
    "InProcessExecutor",
    "MultiprocessExecutor",
    "Plan",
    "Step",
    "build_plan",
    "materialize",
    "run",
    "run_project",
]

"""Execution: plan a selection into steps, run them through an executor, record the events.

``materialize`` (Python API), ``run_project`` (a loaded project, as the CLI runs it),
``build_plan``, ``reconcile`` (missing / stale / fresh per asset) and the executors.
"""

from __future__ import annotations

from catchment.execution.api import materialize
from catchment.execution.executors import Executor, InProcessExecutor, MultiprocessExecutor
from catchment.execution.plan import Plan, Step, build_plan
from catchment.execution.project import run_project
from catchment.execution.result import ExecutionResult

__all__ = [
    "ExecutionResult",
    "Executor",
    "InProcessExecutor",
    "MultiprocessExecutor",
    "Plan",
    "Step",
    "build_plan",
    "materialize",
    "run_project",
]

"""Execution: plan a selection into steps, run them through an executor, record the events.

``materialize`` (Python API), ``run_project`` (a loaded project, as the CLI runs it),
``build_plan``, ``reconcile`` (missing / stale / fresh per asset) and the executors. The names
load lazily, so reading records (``reconcile``, automation) imports no engine or pydantic.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catchment.lazy import lazy_exports

_EXPORTS: dict[str, str] = {
    "DaskExecutor": "catchment.execution.dask_executor",
    "ExecutionResult": "catchment.execution.result",
    "Executor": "catchment.execution.executors",
    "InProcessExecutor": "catchment.execution.executors",
    "MultiprocessExecutor": "catchment.execution.executors",
    "Plan": "catchment.execution.plan",
    "Step": "catchment.execution.plan",
    "build_plan": "catchment.execution.plan",
    "materialize": "catchment.execution.api",
    "run_project": "catchment.execution.project",
}

__all__ = [
    "DaskExecutor",
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

__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)

if TYPE_CHECKING:
    from catchment.execution.api import materialize
    from catchment.execution.dask_executor import DaskExecutor
    from catchment.execution.executors import Executor, InProcessExecutor, MultiprocessExecutor
    from catchment.execution.plan import Plan, Step, build_plan
    from catchment.execution.project import run_project
    from catchment.execution.result import ExecutionResult

"""Which executor a run uses: ``--executor`` on the command line, else ``defaults.executor``
in ``catchment.yaml``, else in-process (or ``--workers N`` processes).

``--executor`` takes ``inprocess``, ``multiprocess``, ``dask`` (a local cluster) or
``dask:tcp://host:8786`` (a running scheduler). The dask executor is imported only here,
when chosen, so ``import catchment`` never imports Dask.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from catchment.errors import ConfigError
from catchment.execution.executors import (
    Executor,
    InProcessExecutor,
    MultiprocessExecutor,
    executor_for,
)

if TYPE_CHECKING:
    from catchment.project import Project

EXECUTOR_TYPES = ("inprocess", "multiprocess", "dask")


def parse_executor_option(value: str) -> dict[str, Any]:
    """``dask:tcp://h:8786`` -> ``{"type": "dask", "address": "tcp://h:8786"}``."""
    kind, _, address = value.partition(":")
    kind = kind.strip().lower()
    if kind not in EXECUTOR_TYPES or (address and kind != "dask"):
        raise ConfigError(
            f"unknown executor {value!r}",
            where="--executor",
            hint="use inprocess, multiprocess, dask or dask:tcp://HOST:8786",
        )
    return {"type": kind, "address": address or None}


def executor_for_project(
    project: Project, option: str | None = None, workers: int | None = None
) -> Executor:
    """The executor for a run of ``project``: ``option`` (``--executor``), else the project's
    ``defaults.executor``, else ``executor_for(workers)``."""
    settings: Mapping[str, Any] = (
        parse_executor_option(option) if option else (project.defaults.executor or {})
    )
    kind = settings.get("type")
    count = settings.get("workers") or (workers if workers and workers > 1 else None)
    if kind == "inprocess":
        return InProcessExecutor()
    if kind == "multiprocess":
        return MultiprocessExecutor(count or 2)
    if kind == "dask":
        from catchment.execution.dask_executor import DaskExecutor

        return DaskExecutor.for_project(
            project,
            address=settings.get("address"),
            workers=count,
            start_method=settings.get("start_method"),
        )
    return executor_for(workers)

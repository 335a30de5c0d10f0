"""Which executor a run uses: ``--executor`` on the command line, else ``defaults.executor``
in ``catchment.yaml``, else in-process (or ``--workers N`` processes).

``--executor`` takes ``inprocess``, ``multiprocess``, ``dask`` (a local cluster) or
``dask:tcp://host:8786`` (a running scheduler), then optionally ``,kill_grace_seconds=N`` (as
the file's key of that name). The dask executor is
imported only here, when chosen, so ``import catchment`` never imports Dask.
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
from catchment.timeouts import KILL_GRACE_SECONDS, parse_kill_grace

if TYPE_CHECKING:
    from catchment.project import Project

EXECUTOR_TYPES = ("inprocess", "multiprocess", "dask")
OPTION_HINT = (
    "use inprocess, multiprocess, dask or dask:tcp://HOST:8786, then optionally "
    ",kill_grace_seconds=SECONDS (e.g. multiprocess,kill_grace_seconds=30)"
)


def parse_executor_option(value: str) -> dict[str, Any]:
    """``dask:tcp://h:8786,kill_grace_seconds=30`` -> ``{"type": "dask", "address":
    "tcp://h:8786", "kill_grace_seconds": 30.0}`` (the last key only when given)."""
    head, *pairs = value.split(",")
    kind, _, address = head.partition(":")
    kind = kind.strip().lower()
    if kind not in EXECUTOR_TYPES or (address and kind != "dask"):
        raise ConfigError(f"unknown executor {value!r}", where="--executor", hint=OPTION_HINT)
    settings: dict[str, Any] = {"type": kind, "address": address or None}
    for pair in pairs:
        key, equals, raw = pair.partition("=")
        if key.strip() != "kill_grace_seconds" or not equals:
            raise ConfigError(
                f"unknown executor setting {pair!r} in {value!r}",
                where="--executor",
                hint=OPTION_HINT,
            )
        settings["kill_grace_seconds"] = parse_kill_grace(raw, where="--executor")
    return settings


def executor_for_project(
    project: Project, option: str | None = None, workers: int | None = None
) -> Executor:
    """The executor for a run of ``project``: ``option`` (``--executor``), else the project's
    ``defaults.executor``, else ``executor_for(workers)``. Settings are validated where they
    are read (the option here, the file by the project loader)."""
    settings: Mapping[str, Any] = (
        parse_executor_option(option) if option else (project.defaults.executor or {})
    )
    kind = settings.get("type")
    count = settings.get("workers") or (workers if workers and workers > 1 else None)
    grace = settings.get("kill_grace_seconds")
    kill_grace = KILL_GRACE_SECONDS if grace is None else float(grace)
    if kind == "inprocess":
        return InProcessExecutor(kill_grace=kill_grace)
    if kind == "multiprocess":
        return MultiprocessExecutor(count or 2, kill_grace=kill_grace)
    if kind == "dask":
        from catchment.execution.dask_executor import DaskExecutor

        return DaskExecutor.for_project(
            project,
            address=settings.get("address"),
            workers=count,
            start_method=settings.get("start_method"),
            kill_grace=kill_grace,
        )
    return executor_for(workers)

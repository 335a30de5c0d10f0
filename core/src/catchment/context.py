"""The context a compute receives: what to build, with which resources, where to log."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from catchment.keys import AssetKey
from catchment.specs import AssetSpec, CheckSpec

__all__ = ["Log", "StepContext"]


@runtime_checkable
class Log(Protocol):
    """Log lines become ``log`` events of the run (and go to the terminal)."""

    def debug(self, msg: str, *args: Any) -> None:
        """Log ``msg % args`` at debug level (likewise ``info``, ``warning``, ``error``)."""
        ...

    def info(self, msg: str, *args: Any) -> None: ...
    def warning(self, msg: str, *args: Any) -> None: ...
    def error(self, msg: str, *args: Any) -> None: ...


@runtime_checkable
class StepContext(Protocol):
    """Everything a compute may use while materializing its selected assets.

    Adapters rely on exactly these members; the engine provides them.
    """

    @property
    def run_id(self) -> str:
        """The id of the run this step belongs to."""
        ...

    @property
    def step_key(self) -> str:
        """The definition name this step runs (unique in the graph)."""
        ...

    @property
    def selected_keys(self) -> frozenset[AssetKey]:
        """The subset of the definition's assets to materialize in this step."""
        ...

    @property
    def selected_checks(self) -> frozenset[str]:
        """``CheckSpec.id`` of the checks to evaluate in this step."""
        ...

    @property
    def partition_key(self) -> str | None:
        """The single partition being run, or None."""
        ...

    @property
    def partition_keys(self) -> tuple[str, ...]:
        """All partitions of this run (a range), empty when unpartitioned."""
        ...

    @property
    def resources(self) -> Mapping[str, Any]:
        """The definition's required resources, opened (what ``setup()`` returned)."""
        ...

    @property
    def log(self) -> Log:
        """Lines logged here become ``log`` events of the run."""
        ...

    @property
    def project_root(self) -> Path:
        """The project folder (relative paths in attributes resolve against it)."""
        ...

    @property
    def warehouse(self) -> Path:
        """The project's default DuckDB warehouse file."""
        ...

    @property
    def attempt(self) -> int:
        """0 on the first try, then 1, 2... on retries."""
        ...

    @property
    def deadline(self) -> float | None:
        """When this attempt must end (a ``time.monotonic()`` instant), or None: hand it to
        :class:`catchment.toolprocess.ToolProcess` so a tool is killed in time."""
        ...

    @property
    def timeout(self) -> float | None:
        """The step's time limit in seconds (what ``deadline`` was computed from), or None."""
        ...

    def spec(self, key: AssetKey) -> AssetSpec:
        """The spec of any asset of the graph (an ``ExecutionError`` if unknown)."""
        ...

    def check_spec(self, check_id: str) -> CheckSpec:
        """The check with this ``CheckSpec.id`` (``asset/key:name``)."""
        ...

    def load_input(self, key: AssetKey) -> Any:
        """Load an upstream asset's value through its IO manager."""
        ...

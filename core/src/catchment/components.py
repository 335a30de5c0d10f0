"""Component types: the YAML ``type:`` names adapters serve, and what they build.

A component in ``catchment.yaml`` is ``type`` + ``name`` + ``attributes``. The adapter that
registered the type validates the attributes with its pydantic model and builds definitions.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

    from catchment.definitions import AssetsDefinition
    from catchment.storage.queue import QueueLimits

__all__ = ["ComponentContext", "ComponentType", "ProjectDefaults"]


@dataclass(frozen=True)
class QueueSettings:
    """The project's ``queue:`` and ``pools:`` sections: run limits and pool slot limits."""

    limits: QueueLimits = field(default_factory=lambda: _no_limits())
    pools: dict[str, int] = field(default_factory=dict)
    pool_lease_seconds: float = 60.0


def _no_limits() -> QueueLimits:
    from catchment.storage.queue import QueueLimits

    return QueueLimits()


@dataclass(frozen=True)
class ProjectDefaults:
    """Project-wide settings components may use (the embedded defaults unless configured)."""

    root: Path
    warehouse: Path
    storage_url: str
    timeout: float | None = None  # seconds per step attempt, unless a component sets its own
    queue: QueueSettings = field(default_factory=lambda: QueueSettings())
    executor: Mapping[str, Any] | None = None  # ``defaults.executor``: {type, address, workers}
    storage_problem: str | None = None  # why the configured run store cannot be used

    @classmethod
    def for_root(cls, root: Path) -> ProjectDefaults:
        """The defaults of a project in ``root``: ``warehouse.duckdb`` and
        ``.catchment/runs.db`` there."""
        root = root.resolve()
        return cls(
            root=root,
            warehouse=root / "warehouse.duckdb",
            storage_url=f"sqlite:///{root / '.catchment' / 'runs.db'}",
        )


@dataclass(frozen=True)
class ComponentContext:
    """What a component type's ``build`` receives besides its validated attributes."""

    name: str
    project: ProjectDefaults
    source: str = ""
    resources: Mapping[str, Any] = field(default_factory=dict)

    @property
    def root(self) -> Path:
        """The project folder."""
        return self.project.root

    def path(self, value: str | Path) -> Path:
        """Resolve a path attribute relative to the project folder."""
        p = Path(value).expanduser()
        return p if p.is_absolute() else (self.project.root / p).resolve()


@dataclass(frozen=True)
class ComponentType:
    """A component type an adapter serves.

    ``attributes`` is the pydantic model validating the YAML ``attributes:`` block;
    ``build(attributes, context)`` returns the definitions. ``build`` should not run the tool,
    only read what it needs to declare assets (discovery is side-effect free).
    """

    name: str
    attributes: type[BaseModel]
    build: Callable[[Any, ComponentContext], Sequence[AssetsDefinition]]
    description: str = ""
    adapter: str = ""

"""``ReadOnlyProject``: what commands that only read a project's graph get, from a snapshot or
from a fresh load, without importing the loader (pydantic, YAML) or any adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catchment.problems import Problem

if TYPE_CHECKING:
    from catchment.components import ProjectDefaults
    from catchment.definitions import AssetsDefinition
    from catchment.graph import AssetGraph
    from catchment.project import Project
    from catchment.schedules import ScheduleDefinition
    from catchment.sensors import SensorDefinition
    from catchment.snapshot.paths import Stamp

__all__ = ["ReadOnlyProblem", "ReadOnlyProject"]


ReadOnlyProblem = Problem
"""The loader's ``Problem`` (``catchment.problems``, which imports no pydantic); the old name."""


@dataclass
class ReadOnlyProject:
    """A project's definitions and graph for reading, with its schedules and sensors (their
    definitions), adapters (as ``catchment plugins --json`` shows them) and resource names: no
    loaded adapter, resource or IO manager, and (from a snapshot) definitions whose computes
    cannot run."""

    root: Path
    file: Path
    name: str
    defaults: ProjectDefaults
    definitions: tuple[AssetsDefinition, ...] = ()
    graph: AssetGraph | None = None
    problems: list[ReadOnlyProblem] = field(default_factory=list)
    components: dict[str, str] = field(default_factory=dict)
    from_snapshot: bool = False
    stamp: Stamp | None = None  # the key of its snapshot (None: not cached)
    schedules: tuple[ScheduleDefinition, ...] = ()
    sensors: tuple[SensorDefinition, ...] = ()
    adapters: tuple[dict[str, Any], ...] = ()
    resources: tuple[str, ...] = ()

    @classmethod
    def of(cls, project: Project) -> ReadOnlyProject:
        """The read-only view of a loaded project."""
        return cls(
            root=project.root,
            file=project.file,
            name=project.name,
            defaults=project.defaults,
            definitions=project.definitions,
            graph=project.graph,
            problems=list(project.problems),
            components=dict(project.components),
            schedules=tuple(project.schedules),
            sensors=tuple(project.sensors),
            adapters=tuple(r.to_dict() for r in project.registry.adapters),
            resources=tuple(sorted(project.resources)),
        )

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems

    def require_graph(self) -> AssetGraph:
        """The graph, or a ``GraphError`` listing why it cannot be used (as
        ``Project.require_graph``)."""
        from catchment.errors import GraphError

        graph_problems = [p for p in self.problems if p.kind == "graph"]
        if self.graph is None or graph_problems:
            raise GraphError(
                [f"{p.where}: {p.message}" for p in graph_problems] or ["the graph was not built"],
                hint="run `catchment check` to see every problem",
            )
        return self.graph

    def to_dict(self) -> dict[str, Any]:
        """A summary (name, root, counts) for tools."""
        return {"name": self.name, "root": str(self.root), "problems": len(self.problems)}

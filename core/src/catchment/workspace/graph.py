"""One graph across a workspace's projects, linked by table identity.

Every loaded project's definitions go into one ``AssetGraph`` (the core's build: a table
written by project A and read by project B becomes an edge). Definitions are renamed
``PROJECT:NAME`` (two projects may both call a component ``assets``) and carry their project
and team in their metadata, which ``project:`` and ``team:`` selections read.

Asset keys are not namespaced: a key means one asset across the workspace. When two projects
define the same key (or write the same table), the project listed first keeps it and the
other project's definition is left out and reported, with both project names.

Cross-project edges can be governed by ``policy.cross_project.require_tag``: an asset may read
an asset of another project only when that asset has the tag (e.g. ``public``); each other
cross-project edge is a ``policy`` problem, which stops the acting commands. With
``policy.cross_project.hooks: true`` the plugins installed with the control plane (the
platform team's, never a project's) get ``catchment_graph_built`` on the merged graph too,
and their reasons are ``policy`` problems as well.

External sources (tables read but written by no loaded asset) that a project which failed to
load may write are *unknown*, not missing: ``unknown`` maps their keys to those projects.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import msgspec

from catchment.snapshot.view import ReadOnlyProblem

if TYPE_CHECKING:
    from catchment.definitions import AssetsDefinition
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey
    from catchment.plugins import PluginRegistry
    from catchment.tables import TableRef
    from catchment.workspace.loading import LoadedProject
    from catchment.workspace.model import Workspace

__all__ = ["PROJECT_META", "TEAM_META", "WorkspaceGraph", "build_workspace_graph"]

PROJECT_META = "workspace/project"
TEAM_META = "workspace/team"


@dataclass
class WorkspaceGraph:
    """The merged graph of a workspace and what is wrong with it."""

    workspace: Workspace
    projects: list[LoadedProject]
    graph: AssetGraph | None
    project_of: dict[AssetKey, str] = field(default_factory=dict)
    problems: list[ReadOnlyProblem] = field(default_factory=list)
    cross_edges: list[tuple[AssetKey, AssetKey]] = field(default_factory=list)
    unknown: dict[AssetKey, tuple[str, ...]] = field(default_factory=dict)

    @property
    def failed(self) -> list[LoadedProject]:
        """The projects that did not load."""
        return [p for p in self.projects if not p.ok]

    @property
    def troubled(self) -> list[str]:
        """The names of the projects that did not load or loaded with problems."""
        return [p.entry.name for p in self.projects if p.project is None or p.project.problems]

    @property
    def blocking(self) -> list[ReadOnlyProblem]:
        """Problems that stop acting commands (collisions, policy, a graph that does not
        build); a project that failed to load is reported but the rest still runs."""
        return [p for p in self.problems if p.kind in ("collision", "policy", "workspace")]

    def require_graph(self) -> AssetGraph:
        """The graph, or a ``GraphError`` naming why there is none."""
        from catchment.errors import GraphError

        if self.graph is None:
            raise GraphError(
                [f"{p.where}: {p.message}" for p in self.problems if p.kind == "workspace"]
                or ["no project of the workspace loaded"],
                hint="run `catchment check` in the workspace folder to see every problem",
            )
        return self.graph


def _tagged(d: AssetsDefinition, project: str, team: str | None) -> AssetsDefinition:
    meta = {**d.metadata, PROJECT_META: project}
    if team is not None:
        meta[TEAM_META] = team
    return msgspec.structs.replace(d, name=f"{project}:{d.name}", metadata=meta)


def _collect(
    loaded: Iterable[LoadedProject], problems: list[ReadOnlyProblem]
) -> tuple[list[AssetsDefinition], dict[AssetKey, str]]:
    """Every loaded definition, tagged with its project; collisions left out and reported."""
    defs: list[AssetsDefinition] = []
    key_owner: dict[AssetKey, str] = {}
    table_owner: dict[TableRef, tuple[str, AssetKey]] = {}
    for lp in loaded:
        if lp.project is None:
            continue
        name = lp.entry.name
        for d in lp.project.definitions:
            clash = _clash(d, name, key_owner, table_owner)
            if clash is not None:
                problems.append(
                    ReadOnlyProblem(
                        "collision",
                        f"{lp.entry.where} ({name})",
                        f"definition {d.name!r} left out: {clash}",
                        "asset keys and written tables are one namespace across the workspace; "
                        "rename the asset (key_prefix) in one of the projects",
                    )
                )
                continue
            for s in d.specs:
                key_owner[s.key] = name
                if s.table is not None:
                    table_owner[s.table] = (name, s.key)
            defs.append(_tagged(d, name, lp.entry.team))
    return defs, key_owner


def _clash(
    d: AssetsDefinition,
    project: str,
    key_owner: dict[AssetKey, str],
    table_owner: dict[TableRef, tuple[str, AssetKey]],
) -> str | None:
    for s in d.specs:
        other = key_owner.get(s.key)
        if other is not None and other != project:
            return f"asset {s.key} is also defined by project {other!r}"
        if s.table is not None and s.table in table_owner:
            other, key = table_owner[s.table]
            if other != project:
                return f"table {s.table} is also written by asset {key} of project {other!r}"
    return None


def _unknown(ws_graph: WorkspaceGraph) -> dict[AssetKey, tuple[str, ...]]:
    """External sources of the merged graph that a failed project may write: those its last
    snapshot says it writes, or every one when it has no snapshot yet."""
    graph = ws_graph.graph
    failed = ws_graph.failed
    if graph is None or not failed:
        return {}
    out: dict[AssetKey, list[str]] = {}
    for i in graph.external_ids:
        key = graph.keys_by_id[i]
        table = graph.specs[key].table
        for lp in failed:
            if lp.previous is not None:
                writes = {s.table for d in lp.previous.definitions for s in d.specs}
                if table not in writes:
                    continue
            out.setdefault(key, []).append(lp.entry.name)
    return {k: tuple(v) for k, v in out.items()}


def _policy(ws_graph: WorkspaceGraph) -> None:
    graph = ws_graph.graph
    tag = ws_graph.workspace.policy.require_tag
    if graph is None:
        return
    project_of = ws_graph.project_of
    keys = graph.keys_by_id
    for i in graph.order_ids:
        down = keys[i]
        mine = project_of.get(down)
        if mine is None:
            continue
        for j in graph.upstream_of_id(i):
            up = keys[j]
            theirs = project_of.get(up)
            if theirs is None or theirs == mine:
                continue
            ws_graph.cross_edges.append((up, down))
            if tag is not None and tag not in graph.specs[up].tags:
                ws_graph.problems.append(
                    ReadOnlyProblem(
                        "policy",
                        f"{ws_graph.workspace.file.name}: policy.cross_project",
                        f"asset {down} (project {mine}) reads asset {up} of project {theirs}, "
                        f"which is not tagged {tag!r}",
                        f"tag {up} `{tag}` in project {theirs} if other projects may read it, "
                        f"or stop reading it from {mine}",
                    )
                )


def _hooks(ws_graph: WorkspaceGraph, registry: PluginRegistry | None) -> None:
    """``policy.cross_project.hooks``: the control plane's plugins judge the merged graph."""
    graph = ws_graph.graph
    if graph is None or not ws_graph.workspace.policy.hooks:
        return
    if registry is None:
        from catchment.plugins import get_registry

        registry = get_registry()
    for adapter, reason in registry.graph_rejections(graph):
        ws_graph.problems.append(
            ReadOnlyProblem(
                "policy",
                f"adapter {adapter}",
                reason,
                "a policy (catchment_graph_built) rejected the workspace's graph",
            )
        )


def build_workspace_graph(
    ws: Workspace, loaded: list[LoadedProject], registry: PluginRegistry | None = None
) -> WorkspaceGraph:
    """Merge the loaded projects into one graph (see the module's docstring); ``registry``:
    the plugins asked when ``policy.cross_project.hooks`` (default: the installed ones)."""
    from catchment.errors import GraphError
    from catchment.graph import AssetGraph

    problems: list[ReadOnlyProblem] = []
    for lp in loaded:
        if lp.project is None:
            problems.append(
                ReadOnlyProblem(
                    "project",
                    f"{lp.entry.where} ({lp.entry.name})",
                    f"project {lp.entry.name} did not load: {lp.error}",
                    "fix it and run `catchment check`; the other projects load and run",
                )
            )
            continue
        for p in lp.project.problems:
            problems.append(
                ReadOnlyProblem(p.kind, f"{lp.entry.name}: {p.where}", p.message, p.hint)
            )
    defs, owner = _collect(loaded, problems)
    try:
        graph: AssetGraph | None = AssetGraph.build(defs)
    except GraphError as exc:
        graph = None
        problems.extend(ReadOnlyProblem("workspace", ws.file.name, m) for m in exc.problems)
    result = WorkspaceGraph(ws, loaded, graph, owner, problems)
    _policy(result)
    _hooks(result, registry)
    result.unknown = _unknown(result)
    return result

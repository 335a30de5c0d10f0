"""The ``team`` and ``project`` tags of a workspace's runs, which the queue's tag limits read.

When the workspace names teams (``projects[].team``), every queued workspace run is tagged,
from the merged graph, with the teams and projects owning its assets, and every project run
with its own project's: ``tag_limits: [{key: team, limit: 1}]`` then gives each team one
slot. A tag has one value, so a run whose assets belong to several teams is tagged with them
all, sorted and joined by ``+`` (``team=finance+marketing``): a value of its own, which a
``{key: team, limit: N}`` rule limits as a team of its own, and ``{key: team, value:
finance+marketing, ...}`` names. These tags replace a ``team`` or ``project`` tag given with
``--tag`` (a run cannot leave its team's limit).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey
    from catchment.runs.request import RunRequest
    from catchment.workspace.model import Workspace

__all__ = ["JOIN", "owner_tags", "project_tags", "tag_request"]

JOIN = "+"
"""Joins the teams (and projects) of a run spanning several."""


def owner_tags(graph: AssetGraph, keys: Iterable[AssetKey]) -> dict[str, str]:
    """``team`` and ``project`` of the assets ``keys`` of a workspace's merged graph (their
    definitions carry them as metadata); nothing when none of their projects names a team."""
    from catchment.workspace.graph import PROJECT_META, TEAM_META

    teams: set[str] = set()
    projects: set[str] = set()
    for key in keys:
        defn = graph.definition_of(key)
        if defn is None:
            continue
        project = defn.metadata.get(PROJECT_META)
        team = defn.metadata.get(TEAM_META)
        if isinstance(project, str):
            projects.add(project)
        if isinstance(team, str):
            teams.add(team)
    if not teams:
        return {}
    return {"team": JOIN.join(sorted(teams)), "project": JOIN.join(sorted(projects))}


def project_tags(workspace: Workspace, project: str) -> dict[str, str]:
    """``team`` and ``project`` of one project's run (nothing when the workspace names no
    team; no ``team`` when this project names none)."""
    if not workspace.teams:
        return {}
    team = workspace.project(project).team
    return {"project": project, **({"team": team} if team is not None else {})}


def tag_request(graph: AssetGraph, request: RunRequest) -> RunRequest:
    """``request`` with the ``team`` and ``project`` tags of the assets it asks for (its keys
    and selection, resolved on the merged ``graph``); unchanged when they name no team or the
    selection does not resolve (the run then fails with the reason when it starts)."""
    import msgspec

    from catchment.errors import CatchmentError
    from catchment.keys import AssetKey

    keys = [AssetKey.parse(k) for k in request.asset_keys]
    try:
        if request.selection or not keys:
            keys.extend(graph.select(request.selection))
    except CatchmentError:
        return request
    tags = owner_tags(graph, keys)
    if not tags:
        return request
    return msgspec.structs.replace(request, tags={**request.tags, **tags})

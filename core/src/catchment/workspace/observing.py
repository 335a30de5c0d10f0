"""Observing a workspace's warehouses: each project's assets by its own code, in its own
environment.

The keys to observe (the selection and everything upstream of it in the merged graph) are
given to the project that owns them; an external source no project writes goes to the first
project (in the workspace file's order) with an asset reading it. Each project with something
to observe gets one ``python -m catchment.workspace.worker`` (``action: observe``) in its
environment, in parallel: it observes with the project's own observers, records what is new
in the shared store (as ``catchment observe`` on the project would) and prints its
observations, which are judged here on the merged graph. A project whose environment fails
to observe is reported with the reason, and its assets are judged from the records; the
others are observed. A plan may reuse the previous observations for ``ttl`` seconds when
nothing was recorded since (``.catchment/workspace/observed.json``), starting no process.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from catchment.observation import Observation

if TYPE_CHECKING:
    from catchment.execution.drift import Observed
    from catchment.keys import AssetKey
    from catchment.storage import Storage
    from catchment.workspace.graph import WorkspaceGraph

__all__ = ["WorkspaceObserved", "assignments", "observe_workspace"]

CACHE_NAME = "observed.json"
"""The workspace's observation cache, in its cache folder (``.catchment/workspace``)."""


@dataclass
class WorkspaceObserved:
    """What observing a workspace found: the ``Observed`` reconciliation reads, and why the
    keys of each project that could not observe were not observed."""

    observed: Observed
    not_observed: dict[AssetKey, str] = field(default_factory=dict)


def assignments(wsg: WorkspaceGraph, keys: Iterable[AssetKey]) -> dict[str, list[AssetKey]]:
    """Project name -> the keys it observes: its own assets and declared sources, and each
    external source no project writes to the first project (workspace order) reading it.
    An external source that a project which did not load may write is left out (``plan``
    reports what reads it as unknown)."""
    graph = wsg.require_graph()
    order = {p.name: i for i, p in enumerate(wsg.workspace.projects)}
    out: dict[str, list[AssetKey]] = {}
    for key in keys:
        project = wsg.project_of.get(key)
        if project is None:
            if key in wsg.unknown:
                continue
            readers = {wsg.project_of[d] for d in graph.downstream(key) if d in wsg.project_of}
            if not readers:
                continue
            project = min(readers, key=lambda p: order.get(p, len(order)))
        out.setdefault(project, []).append(key)
    return out


def _observe_project(
    wsg: WorkspaceGraph, project: str, keys: list[AssetKey]
) -> dict[AssetKey, Observation] | str:
    """The observations of ``keys`` by ``project``'s worker, or why it could not observe."""
    import msgspec

    from catchment.keys import AssetKey
    from catchment.workspace.worker import ask

    entry = wsg.workspace.project(project)
    request = {
        "action": "observe",
        "project": str(entry.path),
        "storage": wsg.workspace.storage_url,
        "keys": [k.to_string() for k in keys],
    }
    answer = ask(entry, request, f"observing in its environment ({entry.environment})")
    if isinstance(answer, str):
        return " | ".join(line for line in answer.splitlines() if line.strip())
    try:
        found = answer["observations"]
        return {AssetKey.parse(k): msgspec.convert(v, Observation) for k, v in dict(found).items()}
    except (ValueError, KeyError, TypeError, msgspec.ValidationError) as exc:
        return f"its environment printed no readable observations ({exc})"


def observe_workspace(
    wsg: WorkspaceGraph,
    storage: Storage,
    selection: str | None,
    *,
    ttl: float,
) -> WorkspaceObserved:
    """Observe ``selection`` and its upstreams, each project's keys in its environment (see
    the module's docstring), or reuse observations younger than ``ttl`` seconds when nothing
    was recorded since; return what reconciliation needs and what could not be observed."""
    from catchment.execution.drift import Observed
    from catchment.execution.observe import load_history
    from catchment.execution.observing import _read_cache, _write_cache, observed_keys

    graph = wsg.require_graph()
    keys = observed_keys(graph, selection)
    history = load_history(storage)  # the baseline: what was recorded before now
    own = [k for k in keys if not graph.is_external(k)]
    latest = {k: r.seq for k, r in storage.latest_materializations(own).items()} if own else {}
    cache = wsg.workspace.cache_dir / CACHE_NAME
    cached = _read_cache(cache, storage.latest_event_seq(), ttl, time.time())
    wanted = {k.to_string() for k in keys if k not in wsg.unknown}
    if cached is not None and wanted <= cached.keys():
        found = {k: cached[k.to_string()] for k in keys if k.to_string() in cached}
        return WorkspaceObserved(Observed(graph, found, history, latest))
    todo = assignments(wsg, keys)
    observations: dict[AssetKey, Observation] = {}
    not_observed: dict[AssetKey, str] = {}
    if todo:
        workers = min(len(todo), max(2, os.cpu_count() or 2))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            answers = list(pool.map(lambda item: _observe_project(wsg, *item), todo.items()))
        for (project, project_keys), answer in zip(todo.items(), answers, strict=True):
            if isinstance(answer, str):
                why = f"not observed: project {project} could not observe ({answer})"
                not_observed.update(dict.fromkeys(project_keys, why))
            else:
                observations.update(answer)
    if not not_observed:
        _write_cache(cache, storage.latest_event_seq(), observations)
    return WorkspaceObserved(Observed(graph, observations, history, latest), not_observed)

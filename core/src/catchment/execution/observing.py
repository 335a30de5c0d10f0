"""Observation for commands: observe what a selection needs, record it, reuse it briefly.

``plan``, ``apply`` and ``catchment observe`` call :func:`observe_project`: it observes the
selected assets and everything upstream of them, records what changed as events and returns
the ``Observed`` view reconciliation reads. A cache file (``.catchment/observed.json``) with
a short time to live keeps repeated plans cheap; any event recorded since (a run, an
observation) invalidates it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from catchment.execution.drift import Observed
from catchment.execution.observe import load_history, observe, record
from catchment.keys import AssetKey
from catchment.observation import Observation, Observer

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.project.loader import Project
    from catchment.snapshot.view import ReadOnlyProject
    from catchment.storage.base import Storage

log = logging.getLogger("catchment.observe")

DEFAULT_TTL = 5.0
"""Seconds a plan may reuse the previous plan's observations (nothing recorded since)."""
CACHE_FILE = Path(".catchment") / "observed.json"


class _Cache(msgspec.Struct, kw_only=True):
    at: float
    seq: int
    observations: dict[str, Observation]


def observed_keys(graph: AssetGraph, selection: str | None) -> list[AssetKey]:
    """The selected assets and all their upstreams (external sources too), in graph order."""
    selected = graph.select(selection)
    return graph.toposort(selected | graph.ancestors(selected))


def _read_cache(path: Path, seq: int, ttl: float, now: float) -> dict[str, Observation] | None:
    if ttl <= 0 or not path.is_file():
        return None
    try:
        cache = msgspec.json.decode(path.read_bytes(), type=_Cache)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    if cache.seq != seq or not 0 <= now - cache.at < ttl:
        return None
    return cache.observations


def _write_cache(path: Path, seq: int, observations: Mapping[AssetKey, Observation]) -> None:
    cache = _Cache(
        at=time.time(), seq=seq, observations={k.to_string(): v for k, v in observations.items()}
    )
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(msgspec.json.encode(cache))
    except OSError:
        pass  # a cache that cannot be written only costs the next plan a query


def observe_with(
    project: Project,
    graph: AssetGraph,
    keys: Iterable[AssetKey],
    own_observers: Mapping[str, Sequence[Observer]] | None = None,
) -> dict[AssetKey, Observation]:
    """``observe`` ``keys`` of ``graph`` with ``project``'s IO managers and resources (and
    ``own_observers``: its definitions' observers, by definition name, when ``graph`` is a
    snapshot's, whose definitions carry none)."""
    return observe(
        graph,
        keys,
        io_managers=project.io_managers,
        resources=project.resources,
        root=project.root,
        own_observers=own_observers,
    )


def observe_project(
    project: Project,
    storage: Storage,
    selection: str | None = None,
    *,
    ttl: float = DEFAULT_TTL,
    graph: AssetGraph | None = None,
) -> Observed:
    """Observe ``selection`` and its upstreams (or reuse a fresh cache), record the changes,
    and return what reconciliation needs. ``graph`` (e.g. from the definitions snapshot)
    stands in for the project's: ``project`` then gives the resources, IO managers and the
    observers of the definitions it loaded (see :func:`load_observing`)."""
    carried = None
    if graph is None:
        graph = project.require_graph()
    else:
        carried = {d.name: d.observers for d in project.definitions}
    keys = observed_keys(graph, selection)
    cache_path = project.root / CACHE_FILE
    history = load_history(storage)
    cached = _read_cache(cache_path, storage.latest_event_seq(), ttl, time.time())
    wanted = {k.to_string() for k in keys}
    own = [k for k in keys if not graph.is_external(k)]
    latest = {k: r.seq for k, r in storage.latest_materializations(own).items()} if own else {}
    if cached is not None and wanted <= cached.keys():
        observations = {k: cached[k.to_string()] for k in keys}
        return Observed(graph, observations, history, latest)
    observations = observe_with(project, graph, keys, carried)
    # judge against the history as it was: the baseline is what was recorded before now
    before = {k: list(v) for k, v in history.items()}
    record(storage, graph, observations, history, latest)
    _write_cache(cache_path, storage.latest_event_seq(), observations)
    return Observed(graph, observations, before, latest)


def observe_materialized(project: Project, storage: Storage, run_id: str) -> None:
    """Record what a run's materializations look like in the warehouse: the baseline that
    later drift is measured against. Best effort: an observation problem never fails a run."""
    from catchment.events import EventType

    try:
        graph = project.require_graph()
        events = storage.events_for_run(run_id, [EventType.MATERIALIZATION])
        keys = {AssetKey.parse(e.asset_key) for e in events if e.asset_key}
        keys = {k for k in keys if k in graph}
        if not keys:
            return
        observations = observe_with(project, graph, keys)
        latest = storage.latest_materializations(keys)
        seqs = {k: r.seq for k, r in latest.items()}
        record(storage, graph, observations, load_history(storage), seqs)
    except Exception as exc:  # the next plan observes again
        log.debug("observing run %s failed: %s", run_id, exc)


def observe_sources(project: Project, storage: Storage, keys: Iterable[AssetKey]) -> None:
    """Record the external sources that ``keys`` read (declared ones and relations an
    observer can see), before a run reads them: a later change of a source is judged
    against the version the run consumed. Best effort: the next plan observes again."""
    try:
        graph = project.require_graph()
        sources = {u for k in keys if k in graph for u in graph.upstream(k) if graph.is_external(u)}
        if not sources:
            return
        observations = observe_with(project, graph, sources)
        if observations:
            record(storage, graph, observations, load_history(storage))
    except Exception as exc:  # the next plan observes again
        log.debug("observing the sources of a run failed: %s", exc)


def load_observing_project(
    snapshot_project: ReadOnlyProject, selection: str | None
) -> Project | None:
    """What observing ``selection`` needs besides the snapshot's graph: resources, IO
    managers and only the components whose definitions carry observers (their connections
    are not in the snapshot); no other component, so no tool or user code is imported. None
    when the snapshot does not say which definitions carry observers (an older one)."""
    graph = snapshot_project.require_graph()
    return load_observing_keys(snapshot_project, observed_keys(graph, selection))


def load_observing_keys(
    snapshot_project: ReadOnlyProject, keys: Iterable[AssetKey]
) -> Project | None:
    """``load_observing_project`` for exactly ``keys`` (a workspace's worker is told them)."""
    from catchment.project.loader import load_observing

    graph = snapshot_project.require_graph()
    components: set[str] = set()
    for key in keys:
        definition = graph.definition_of(key)
        if definition is None or not definition.observers:
            continue
        if any(not o.system for o in definition.observers) or not definition.component:
            return None
        components.add(definition.component)
    return load_observing(snapshot_project.file, components)

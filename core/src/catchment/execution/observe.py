"""Observe the assets of a graph in the warehouse, and keep the observations as events.

Relations are grouped by system and location and each group goes to ONE observer (one
catalog query per warehouse, not one per asset): an observer a definition carries (it knows the
connection) or a resource or IO manager offers (``observer()``), else one an adapter
registered for that system (``catchment_observers``). Assets
with no relation ask their IO manager's ``observe``. An observer that fails makes its assets
unknown with the cause; nothing here raises for a warehouse that cannot be reached. Assets
nothing can observe are left out (judged on the records alone, as before observation).

Observations are stored as ``asset_observed`` events of the pseudo run ``observations`` (no
run row; the run index makes them one range read), and only when something changed: the
history then shows when a table vanished or a source changed, and stays small.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from catchment.events import Event, EventType, ObservedData
from catchment.keys import AssetKey
from catchment.observation import Observation, Observer, unknown
from catchment.tables import TableRef

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.plugins import PluginRegistry
    from catchment.storage.base import Storage

log = logging.getLogger("catchment.observe")

OBSERVATIONS_RUN_ID = "observations"
"""The run id observation events are stored under (they belong to no run)."""

History = dict[AssetKey, list[tuple[int, Observation]]]
"""Recorded observations per asset, oldest first, with their event sequence numbers."""

_USERINFO = re.compile(r"(://[^:@/\s]*):[^@/\s]*@")
_SECRET = re.compile(r"(password|pwd|token|secret)=\S+", re.IGNORECASE)


def _cause(exc: BaseException) -> str:
    """The error as one line, with URL passwords and ``password=`` values masked."""
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()[0][:300]
    return _SECRET.sub(r"\1=***", _USERINFO.sub(r"\1:***@", text))


def observer_factories(registry: PluginRegistry | None = None) -> dict[str, Callable[[str], Any]]:
    """System -> observer factory, from every adapter's ``catchment_observers`` hook."""
    if registry is None:
        from catchment.plugins import get_registry

        registry = get_registry()
    out: dict[str, Callable[[str], Any]] = {}

    def register(system: str, factory: Callable[[str], Any]) -> None:
        out.setdefault(system, factory)

    registry.hook.call("catchment_observers", register=register)
    return out


def _run_observer(observer: Observer, tables: list[TableRef]) -> Mapping[TableRef, Observation]:
    try:
        found: object = observer.observe(tables)  # an adapter's answer: checked below
    except Exception as exc:  # an unreachable warehouse is "unknown", never a crash
        cause = _cause(exc)
        return {t: unknown(cause) for t in tables}
    if not isinstance(found, Mapping):
        cause = f"{type(observer).__name__}.observe returned {type(found).__name__}, not a mapping"
        return {t: unknown(cause) for t in tables}
    name = type(observer).__name__
    return {
        t: o if isinstance(o, Observation) else unknown(f"{name} returned {o!r}")
        for t, o in found.items()
    }


def observe(
    graph: AssetGraph,
    keys: Iterable[AssetKey] | None = None,
    *,
    io_managers: Mapping[str, Any] | None = None,
    resources: Mapping[str, Any] | None = None,
    factories: Mapping[str, Callable[[str], Any]] | None = None,
    root: Path | None = None,
    own_observers: Mapping[str, Sequence[Observer]] | None = None,
) -> dict[AssetKey, Observation]:
    """An observation of each of ``keys`` (default: every asset, external sources too).

    A declared source (``catchment.sources``) is observed the way it says (paths relative to
    ``root``, default the working directory). Observers come from the definitions, then from
    resources and IO managers that have an ``observer()`` method (they hold the connection),
    then from the adapters' factories. ``own_observers`` (definition name -> observers)
    stands in for what definitions carry when the graph comes from a snapshot."""
    wanted = list(graph.toposort(keys) if keys is not None else graph.toposort())
    if factories is None:
        factories = observer_factories()
    carried: Mapping[str, Sequence[Observer]] = own_observers or {}

    def observers_of(definition: Any) -> Sequence[Observer]:
        found: Sequence[Observer] | None = carried.get(definition.name)
        return definition.observers if found is None else found

    offered: dict[tuple[str, str], Observer] = {}
    for definition in graph.definitions.values():
        for carried_obs in observers_of(definition):
            offered.setdefault((carried_obs.system, carried_obs.location), carried_obs)
    for holder in [*(io_managers or {}).values(), *(resources or {}).values()]:
        make = getattr(holder, "observer", None)  # a resource or IO manager with a connection
        try:
            obs = make() if callable(make) else None
            where = (obs.system, obs.location) if obs is not None else None
        except Exception as exc:  # a broken resource leaves its relations to the records
            log.warning("%s.observer() failed: %s", type(holder).__name__, _cause(exc))
            continue
        if obs is not None and where is not None:
            offered.setdefault(where, obs)
    made: dict[tuple[str, str], Observer | None] = {}
    chosen: dict[tuple[int, str, str], Observer | None] = {}  # one choice per definition

    def choose(definition: Any, where: tuple[str, str]) -> Observer | None:
        own: Observer
        for own in observers_of(definition) if definition is not None else ():
            if (own.system, own.location) == where:
                return own  # the definition's own observer knows its objects best
        if where in offered:
            return offered[where]
        if where not in made:
            factory = factories.get(where[0]) if factories is not None else None
            made[where] = factory(where[1]) if factory is not None else None
        return made[where]

    def observer_for(key: AssetKey, ref: TableRef) -> Observer | None:
        definition = graph.definition_of(key)
        memo = (id(definition), ref.system, ref.location)
        if memo not in chosen:
            chosen[memo] = choose(definition, (ref.system, ref.location))
        return chosen[memo]

    groups: dict[int, tuple[Observer, list[tuple[AssetKey, TableRef]]]] = {}
    by_manager: dict[str, list[AssetKey]] = {}
    declared: list[tuple[AssetKey, Mapping[str, Any]]] = []
    for key in wanted:
        spec = graph.specs[key]
        how = spec.metadata.get("observe") if graph.is_external(key) else None
        if isinstance(how, Mapping):
            declared.append((key, how))
        elif spec.table is not None:
            observer = observer_for(key, spec.table)
            if observer is not None:  # else nothing can look: the records decide
                groups.setdefault(id(observer), (observer, []))[1].append((key, spec.table))
        elif not graph.is_external(key):
            by_manager.setdefault(spec.io_manager_key or "default", []).append(key)
    now = time.time()
    out: dict[AssetKey, Observation] = {}
    for observer, members in groups.values():
        found = _run_observer(observer, list(dict.fromkeys(ref for _, ref in members)))
        out.update((key, found[ref]) for key, ref in members if ref in found)
    out.update(_observe_declared(declared, root or Path.cwd(), resources or {}))
    for name, manager_keys in by_manager.items():
        manager = (io_managers or {}).get(name)
        hook = getattr(manager, "observe", None)
        if hook is None:
            continue  # the records are all there is to go by (e.g. the memory IO manager)
        try:
            out.update(hook(manager_keys))
        except Exception as exc:
            cause = _cause(exc)
            out.update((k, unknown(cause, now)) for k in manager_keys)
    return out


def _observe_declared(
    declared: list[tuple[AssetKey, Mapping[str, Any]]], root: Path, resources: Mapping[str, Any]
) -> dict[AssetKey, Observation]:
    """Each declared source observed its own way (a query, maybe on one of ``resources``, a
    glob, a function); one that fails is unknown with the cause."""
    if not declared:
        return {}
    from catchment.observers.sources import observe_source

    out: dict[AssetKey, Observation] = {}
    for key, how in declared:
        try:
            found: object = observe_source(how, root, resources)
        except Exception as exc:  # a bad query, an unreachable database, a raising function
            out[key] = unknown(_cause(exc))
            continue
        out[key] = found if isinstance(found, Observation) else unknown(f"observed {found!r}")
    return out


def load_history(storage: Storage) -> History:
    """Every recorded observation per asset, oldest first (one range read)."""
    history: History = {}
    for event in storage.events_for_run(OBSERVATIONS_RUN_ID, [EventType.ASSET_OBSERVED]):
        if event.asset_key is None or event.seq is None:
            continue
        data = event.observed
        obs = Observation(
            exists=data.exists,
            row_count=data.row_count,
            columns=data.columns,
            last_modified=data.last_modified,
            data_version=data.data_version,
            error=data.error,
            observed_at=data.observed_at,
        )
        history.setdefault(AssetKey.parse(event.asset_key), []).append((event.seq, obs))
    return history


def record(
    storage: Storage,
    graph: AssetGraph,
    observations: Mapping[AssetKey, Observation],
    history: History,
    materialized: Mapping[AssetKey, int] | None = None,
) -> list[Event]:
    """Store the observations that say something new: another state than the asset's last
    recorded one, or the first since its latest materialization (``materialized``: key ->
    that event's seq). ``history`` is updated in place; returns the events written."""
    events = []
    for key, obs in observations.items():
        past = history.get(key)
        last_seq, last = past[-1] if past else (0, None)
        if obs.same_state(last) and last_seq > (materialized or {}).get(key, 0):
            continue
        if not obs.known and last is not None and not last.known:
            continue  # still unknown: one record of it is enough
        table = graph.specs[key].table
        data = ObservedData(**msgspec.structs.asdict(obs), table=str(table) if table else None)
        events.append(
            Event.of(
                OBSERVATIONS_RUN_ID,
                EventType.ASSET_OBSERVED,
                data,
                asset_key=key.to_string(),
                timestamp=obs.observed_at,
            )
        )
    storage.append_events(events)
    for event in events:
        key = AssetKey.parse(event.asset_key or "")
        history.setdefault(key, []).append((event.seq or 0, observations[key]))
    return events

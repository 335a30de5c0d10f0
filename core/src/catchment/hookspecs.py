"""The plugin contract: every hook an adapter may implement, and the SDK it may import.

Adapters are modules named by an entry point in the group ``catchment.adapters``; they
implement these hooks with ``@hookimpl``. Hook signatures only ever gain arguments (pluggy lets
an implementation accept any subset of them); removing one is a new ``CORE_API_VERSION``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec
import pluggy

if TYPE_CHECKING:
    from catchment.components import ComponentType
    from catchment.events import Event
    from catchment.graph import AssetGraph
    from catchment.observation import Observer

__all__ = [
    "CORE_API_VERSION",
    "ENTRY_POINT_GROUP",
    "SDK_MODULES",
    "AdapterInfo",
    "RunInfo",
    "hookimpl",
]

PROJECT_NAME = "catchment"
ENTRY_POINT_GROUP = "catchment.adapters"
CORE_API_VERSION = "1.0"

SDK_MODULES = (
    "catchment",
    "catchment.atomic_write",
    "catchment.columns",
    "catchment.components",
    "catchment.context",
    "catchment.definitions",
    "catchment.errors",
    "catchment.extra_deps",
    "catchment.filestats",
    "catchment.frames",
    "catchment.hookspecs",
    "catchment.io",
    "catchment.keys",
    "catchment.lazy",
    "catchment.observation",
    "catchment.multi_partitions",
    "catchment.partitions",
    "catchment.pipes",
    "catchment.resources",
    "catchment.results",
    "catchment.run_rewrites",
    "catchment.secrets",
    "catchment.specs",
    "catchment.sql",
    "catchment.tables",
    "catchment.testing",
    "catchment.timeouts",
    "catchment.toolprocess",
)
"""The adapter SDK: the core modules an adapter may import, and of each only the names in its
``__all__``. Everything else is the core's own and may change within an API version."""

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)


class AdapterInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Who an adapter is and which core API versions it supports (a PEP 440 specifier)."""

    name: str
    version: str
    api: str = ">=1.0,<2"
    description: str = ""


class RunInfo(msgspec.Struct, frozen=True, kw_only=True):
    """What life-cycle hooks learn about a run."""

    run_id: str
    selection: str | None
    asset_keys: tuple[str, ...]
    partition_keys: tuple[str, ...] = ()
    project_root: str | None = None
    tags: dict[str, str] = msgspec.field(default_factory=dict)


@hookspec(firstresult=True)
def catchment_adapter_info() -> AdapterInfo:  # type: ignore[empty-body]
    """Return this adapter's name, version and the core API range it supports."""


@hookspec
def catchment_component_types(register: Callable[[ComponentType], None]) -> None:
    """Call ``register(ComponentType(...))`` for each YAML ``type:`` this adapter serves."""


@hookspec
def catchment_resource_types(register: Callable[[str, type[Any]], None]) -> None:
    """Call ``register(type_name, ResourceClass)`` for each resource type this adapter serves."""


@hookspec
def catchment_io_manager_types(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Call ``register(type_name, factory)``; ``factory(config: dict, defaults)`` returns an
    IO manager."""


@hookspec
def catchment_graph_built(graph: AssetGraph) -> list[str] | None:
    """Inspect the built graph. Return reasons to reject it (policy), or None to accept."""


@hookspec
def catchment_run_started(run: RunInfo) -> None:
    """A run is about to execute its first step."""


@hookspec
def catchment_step_started(run: RunInfo, event: Event, graph: AssetGraph) -> None:
    """A step was handed to the executor (``event``: its ``step_started`` event; ``graph``:
    the project's asset graph, whose specs name the tables the step reads and writes)."""


@hookspec
def catchment_asset_materialized(run: RunInfo, event: Event) -> None:
    """An asset was materialized (the event carries its metadata)."""


@hookspec
def catchment_asset_failed(run: RunInfo, event: Event) -> None:
    """An asset failed (``event``: its ``asset_failed`` event with the error)."""


@hookspec
def catchment_check_evaluated(run: RunInfo, event: Event) -> None:
    """A check produced a result."""


@hookspec
def catchment_run_finished(run: RunInfo, status: str) -> None:
    """The run ended with ``status`` (``success``, ``failure`` or ``canceled``)."""


@hookspec
def catchment_observers(register: Callable[[str, Callable[[str], Observer]], None]) -> None:
    """Call ``register(system, factory)`` for each table system this adapter can observe
    without credentials; ``factory(location)`` returns an ``Observer`` (see
    ``catchment.observation``). Observers that need a connection ride on the definitions
    (``AssetsDefinition.observers``)."""

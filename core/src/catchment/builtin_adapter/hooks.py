"""Plugin hooks of the built-in adapter (entry point ``catchment.adapters: builtin``).

Registered through the same entry point group and hooks as every other adapter, so the core
exercises its own plugin API. Light, like every adapter's hooks: pydantic and the component
type are imported when the registry asks for them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from catchment import __version__
from catchment.hookspecs import AdapterInfo, hookimpl

if TYPE_CHECKING:
    from catchment.components import ComponentType


@hookimpl
def catchment_adapter_info() -> AdapterInfo:
    """The built-in adapter ships with the core, so it supports exactly this API."""
    return AdapterInfo(
        name="builtin",
        version=__version__,
        description="Python modules of @asset functions; memory, filesystem and DuckDB IO managers",
    )


@hookimpl
def catchment_component_types(register: Callable[[ComponentType], None]) -> None:
    """Serve ``type: python``."""
    from catchment.builtin_adapter.component import COMPONENT_TYPE

    register(COMPONENT_TYPE)


@hookimpl
def catchment_io_manager_types(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Serve IO manager types ``memory``, ``filesystem`` and ``duckdb``."""
    from catchment.builtin_adapter.io_managers import (
        duckdb_io_manager,
        filesystem_io_manager,
        memory_io_manager,
    )

    register("memory", memory_io_manager)
    register("filesystem", filesystem_io_manager)
    register("duckdb", duckdb_io_manager)


@hookimpl
def catchment_observers(register: Callable[[str, Callable[[str], Any]], None]) -> None:
    """Observe DuckDB files and files/directories (neither needs credentials)."""
    from catchment.observers.duckdb import DuckDBObserver
    from catchment.observers.files import FileObserver

    register("duckdb", DuckDBObserver)
    register("file", FileObserver)


@hookimpl
def catchment_resource_types(register: Callable[[str, type[Any]], None]) -> None:
    """Serve resource type ``webhook_alerts`` (run and check failures to a webhook)."""
    from catchment.alerts import WebhookAlerts

    register("webhook_alerts", WebhookAlerts)

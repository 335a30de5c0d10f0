"""Plugin hooks: who this adapter is, and the ``snowflake`` component, resource and IO
manager types it serves."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from catchment.hookspecs import AdapterInfo, hookimpl

from catchment_snowflake import __version__

if TYPE_CHECKING:
    from catchment.components import ComponentType


@hookimpl
def catchment_adapter_info() -> AdapterInfo:
    """Name, version and supported core API range of the Snowflake adapter."""
    return AdapterInfo(
        name="snowflake",
        version=__version__,
        description="Snowflake resource, IO manager and managed objects as assets",
    )


@hookimpl
def catchment_component_types(register: Callable[[ComponentType], None]) -> None:
    """Register the ``snowflake`` component type (managed objects declared in YAML)."""
    from catchment_snowflake.component import COMPONENT_TYPE

    register(COMPONENT_TYPE)


@hookimpl
def catchment_resource_types(register: Callable[[str, type[Any]], None]) -> None:
    """Register ``type: snowflake`` resources."""
    from catchment_snowflake.resource import SnowflakeResource

    register("snowflake", SnowflakeResource)


@hookimpl
def catchment_io_manager_types(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register ``type: snowflake`` IO managers."""
    from catchment_snowflake.io_manager import make_io_manager

    register("snowflake", make_io_manager)

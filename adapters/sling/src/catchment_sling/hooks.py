"""Plugin hooks: who this adapter is and the ``sling`` component type it serves."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from catchment.hookspecs import AdapterInfo, hookimpl

from catchment_sling import __version__

if TYPE_CHECKING:
    from catchment.components import ComponentType


@hookimpl
def catchment_adapter_info() -> AdapterInfo:
    """Name, version and supported core API range of the Sling adapter."""
    return AdapterInfo(
        name="sling",
        version=__version__,
        description="Sling replication streams as assets",
    )


@hookimpl
def catchment_component_types(register: Callable[[ComponentType], None]) -> None:
    """Register the ``sling`` component type."""
    from catchment_sling.component import COMPONENT_TYPE

    register(COMPONENT_TYPE)

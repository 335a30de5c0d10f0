"""Plugin hooks: who this adapter is and the ``sling`` component type it serves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from catchment.hookspecs import AdapterInfo, hookimpl

from catchment_sling import __version__


@hookimpl
def catchment_adapter_info() -> AdapterInfo:
    """Name, version and supported core API range of the Sling adapter."""
    return AdapterInfo(
        name="sling",
        version=__version__,
        api=">=1.0,<2",
        description="Sling replication streams as assets",
    )


@hookimpl
def catchment_component_types(register: Callable[[Any], None]) -> None:
    """Register the ``sling`` component type."""
    from catchment_sling.component import SLING_COMPONENT

    register(SLING_COMPONENT)

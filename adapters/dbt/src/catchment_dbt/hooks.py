"""catchment plugin hooks of the dbt adapter (entry point ``catchment.adapters: dbt``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from catchment.hookspecs import AdapterInfo, hookimpl

from catchment_dbt import __version__

if TYPE_CHECKING:
    from catchment.components import ComponentType


@hookimpl
def catchment_adapter_info() -> AdapterInfo:
    """Name, version and supported core API range."""
    return AdapterInfo(
        name="dbt",
        version=__version__,
        description="dbt models, seeds, snapshots, sources and tests as assets and checks",
    )


@hookimpl
def catchment_component_types(register: Callable[[ComponentType], None]) -> None:
    """Register ``type: dbt``."""
    from catchment_dbt.component import COMPONENT_TYPE

    register(COMPONENT_TYPE)

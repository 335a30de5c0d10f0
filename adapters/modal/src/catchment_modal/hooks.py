"""The Modal adapter's plugin hooks: adapter info and the ``modal`` component type."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from catchment.hookspecs import AdapterInfo, hookimpl

from catchment_modal import __version__

if TYPE_CHECKING:
    from catchment.components import ComponentType


@hookimpl
def catchment_adapter_info() -> AdapterInfo:
    """Name, version and supported core API range of catchment-modal."""
    return AdapterInfo(
        name="modal",
        version=__version__,
        description="Functions of a Modal app as assets, run locally or on Modal over pipes",
    )


@hookimpl
def catchment_component_types(register: Callable[[ComponentType], None]) -> None:
    """Register the ``modal`` component type (imports modal only when a project uses it)."""
    from catchment_modal.component import COMPONENT_TYPE

    register(COMPONENT_TYPE)

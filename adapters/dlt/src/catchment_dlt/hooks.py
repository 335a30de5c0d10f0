"""Plugin hooks: who this adapter is and the ``dlt`` component type it serves.

Importing this module imports neither dlt nor pydantic; the component type is built when the
registry asks for it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from catchment.hookspecs import AdapterInfo, hookimpl

from catchment_dlt import __version__

if TYPE_CHECKING:
    from catchment.components import ComponentType


@hookimpl
def catchment_adapter_info() -> AdapterInfo:
    """Name, version and supported core API range of the dlt adapter."""
    return AdapterInfo(
        name="dlt",
        version=__version__,
        description="dlt sources and resources as assets",
    )


@hookimpl
def catchment_component_types(register: Callable[[ComponentType], None]) -> None:
    """Register the ``dlt`` component type."""
    from catchment_dlt.component import COMPONENT_TYPE

    register(COMPONENT_TYPE)

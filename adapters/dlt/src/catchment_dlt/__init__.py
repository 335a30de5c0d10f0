"""catchment-dlt: dlt resources as assets of a catchment graph.

``dlt_assets(source, ...)`` declares a source's resources (and the child tables dlt splits
nested lists into) as assets; the ``dlt`` component type does the same from YAML. Importing
this package does not import dlt.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catchment.lazy import lazy_exports

from catchment_dlt.telemetry import quiet_dlt as _quiet_dlt

__version__ = "0.1.0"
_quiet_dlt()  # telemetry off by default, before any project module builds a dlt source

_EXPORTS = {
    "dlt_assets": "catchment_dlt.assets",
    "ResourceOptions": "catchment_dlt.discovery",
    "DltAttributes": "catchment_dlt.attributes",
}

__all__ = ["DltAttributes", "ResourceOptions", "__version__", "dlt_assets"]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


if TYPE_CHECKING:
    from catchment_dlt.assets import dlt_assets
    from catchment_dlt.attributes import DltAttributes
    from catchment_dlt.discovery import ResourceOptions

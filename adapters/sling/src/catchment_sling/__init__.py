"""catchment-sling: every stream of a Sling replication as an asset of the catchment graph.

Public API (imported lazily, so ``import catchment_sling`` stays light): ``SlingAttributes``,
``build`` (the component's discovery), ``locate_sling``, ``locate_duckdb``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catchment.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    "SlingAttributes": "catchment_sling.attributes",
    "build": "catchment_sling.component",
    "locate_sling": "catchment_sling.binaries",
    "locate_duckdb": "catchment_sling.binaries",
}

__all__ = [
    "SlingAttributes",
    "__version__",
    "build",
    "locate_duckdb",
    "locate_sling",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


if TYPE_CHECKING:
    from catchment_sling.attributes import SlingAttributes
    from catchment_sling.binaries import locate_duckdb, locate_sling
    from catchment_sling.component import build

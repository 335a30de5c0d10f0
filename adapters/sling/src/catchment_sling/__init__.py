"""catchment-sling: every stream of a Sling replication as an asset of the catchment graph.

Public API (imported lazily, so ``import catchment_sling`` stays light): ``SlingAttributes``,
``build`` (the component's discovery), ``locate_sling``, ``locate_duckdb``.
"""

from __future__ import annotations

from typing import Any

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


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'catchment_sling' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

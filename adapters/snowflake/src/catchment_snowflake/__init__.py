"""catchment-snowflake: Snowflake as part of the catchment graph.

Public API (imported lazily, so ``import catchment_snowflake`` imports neither the connector
nor pandas): ``SnowflakeResource``, ``SnowflakeIOManager``, ``SnowflakeAttributes`` and the
managed object models, ``build`` (the ``snowflake`` component's discovery), ``query_tag``.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "SnowflakeResource": "catchment_snowflake.resource",
    "query_tag": "catchment_snowflake.resource",
    "SnowflakeIOManager": "catchment_snowflake.io_manager",
    "SnowflakeAttributes": "catchment_snowflake.attributes",
    "build": "catchment_snowflake.component",
    "TableObject": "catchment_snowflake.objects",
    "ViewObject": "catchment_snowflake.objects",
    "StageObject": "catchment_snowflake.objects",
    "FileFormatObject": "catchment_snowflake.objects",
    "ExternalTableObject": "catchment_snowflake.objects",
}

__all__ = [
    "ExternalTableObject",
    "FileFormatObject",
    "SnowflakeAttributes",
    "SnowflakeIOManager",
    "SnowflakeResource",
    "StageObject",
    "TableObject",
    "ViewObject",
    "__version__",
    "build",
    "query_tag",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'catchment_snowflake' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)

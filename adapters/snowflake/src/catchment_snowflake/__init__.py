"""catchment-snowflake: Snowflake as part of the catchment graph.

Public API (imported lazily, so ``import catchment_snowflake`` imports neither the connector
nor pandas): ``SnowflakeResource``, ``SnowflakeIOManager``, ``SnowflakeAttributes`` and the
managed object models, ``build`` (the ``snowflake`` component's discovery), ``query_tag``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catchment.lazy import lazy_exports

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


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


if TYPE_CHECKING:
    from catchment_snowflake.attributes import SnowflakeAttributes
    from catchment_snowflake.component import build
    from catchment_snowflake.io_manager import SnowflakeIOManager
    from catchment_snowflake.objects import (
        ExternalTableObject,
        FileFormatObject,
        StageObject,
        TableObject,
        ViewObject,
    )
    from catchment_snowflake.resource import SnowflakeResource, query_tag

"""catchment: one asset graph across every tool of a data platform.

The public API is imported lazily: ``import catchment`` loads no tool, no pydantic and no
dataframe library, so the CLI and plugins start fast. Names resolve on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catchment.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "AssetKey": "catchment.keys",
    "TableRef": "catchment.tables",
    "table": "catchment.tables",
    "duckdb_table": "catchment.tables",
    "file_table": "catchment.tables",
    "AssetSpec": "catchment.specs",
    "AssetDep": "catchment.specs",
    "CheckSpec": "catchment.specs",
    "RetryPolicy": "catchment.specs",
    "spec": "catchment.specs",
    "AssetsDefinition": "catchment.definitions",
    "asset": "catchment.definitions",
    "multi_asset": "catchment.definitions",
    "asset_check": "catchment.definitions",
    "Output": "catchment.results",
    "MaterializeResult": "catchment.results",
    "CheckResult": "catchment.results",
    "AssetFailure": "catchment.results",
    "AssetSkipped": "catchment.results",
    "StepContext": "catchment.context",
    "Event": "catchment.events",
    "EventType": "catchment.events",
    "Resource": "catchment.resources",
    "SecretStr": "catchment.resources",
    "env_secret": "catchment.resources",
    "IOManager": "catchment.io",
    "InputContext": "catchment.io",
    "OutputContext": "catchment.io",
    "MemoryIOManager": "catchment.io_managers",
    "FilesystemIOManager": "catchment.io_managers",
    "DuckDBIOManager": "catchment.io_managers",
    "PartitionsDefinition": "catchment.partitions",
    "StaticPartitions": "catchment.partitions",
    "TimeWindowPartitions": "catchment.partitions",
    "MultiPartitions": "catchment.multi_partitions",
    "PartitionMapping": "catchment.partitions",
    "IdentityMapping": "catchment.partitions",
    "AllPartitionsMapping": "catchment.partitions",
    "TimeWindowMapping": "catchment.partitions",
    "StaticMapping": "catchment.partitions",
    "ComponentType": "catchment.components",
    "ComponentContext": "catchment.components",
    "AssetGraph": "catchment.graph",
    "hookimpl": "catchment.hookspecs",
    "AdapterInfo": "catchment.hookspecs",
    "CatchmentError": "catchment.errors",
    "redact": "catchment.secrets",
    "materialize": "catchment.execution.api",
    "ExecutionResult": "catchment.execution.result",
    "load_project": "catchment.project",
    "external_source": "catchment.sources",
    "observable_source": "catchment.sources",
}

__all__ = [*_EXPORTS, "__version__"]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


if TYPE_CHECKING:
    from catchment.components import ComponentContext, ComponentType
    from catchment.context import StepContext
    from catchment.definitions import AssetsDefinition, asset, asset_check, multi_asset
    from catchment.errors import CatchmentError
    from catchment.events import Event, EventType
    from catchment.execution.api import materialize
    from catchment.execution.result import ExecutionResult
    from catchment.graph import AssetGraph
    from catchment.hookspecs import AdapterInfo, hookimpl
    from catchment.io import InputContext, IOManager, OutputContext
    from catchment.io_managers import DuckDBIOManager, FilesystemIOManager, MemoryIOManager
    from catchment.keys import AssetKey
    from catchment.multi_partitions import MultiPartitions
    from catchment.partitions import (
        AllPartitionsMapping,
        IdentityMapping,
        PartitionMapping,
        PartitionsDefinition,
        StaticMapping,
        StaticPartitions,
        TimeWindowMapping,
        TimeWindowPartitions,
    )
    from catchment.project import load_project
    from catchment.resources import Resource, SecretStr, env_secret
    from catchment.results import (
        AssetFailure,
        AssetSkipped,
        CheckResult,
        MaterializeResult,
        Output,
    )
    from catchment.secrets import redact
    from catchment.sources import external_source, observable_source
    from catchment.specs import AssetDep, AssetSpec, CheckSpec, RetryPolicy, spec
    from catchment.tables import TableRef, duckdb_table, file_table, table

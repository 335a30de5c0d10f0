"""The Spark adapter's plugin hooks: component type ``spark``, resource type ``spark`` and IO
manager type ``spark``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from catchment.hookspecs import AdapterInfo, hookimpl

from catchment_spark import __version__

if TYPE_CHECKING:
    from catchment.components import ComponentType


@hookimpl
def catchment_adapter_info() -> AdapterInfo:
    """Name, version and supported core API range of catchment-spark."""
    return AdapterInfo(
        name="spark",
        version=__version__,
        description="Spark DataFrame assets, a Spark IO manager and spark-submit script jobs",
    )


@hookimpl
def catchment_component_types(register: Callable[[ComponentType], None]) -> None:
    """Register the ``spark`` component type (script jobs declared in YAML)."""
    from catchment_spark.component import COMPONENT_TYPE

    register(COMPONENT_TYPE)


@hookimpl
def catchment_resource_types(register: Callable[[str, type[Any]], None]) -> None:
    """Register ``type: spark`` resources (a SparkSession, local or Spark Connect)."""
    from catchment_spark.resource import SparkResource

    register("spark", SparkResource)


@hookimpl
def catchment_io_manager_types(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register ``type: spark`` IO managers."""
    from catchment_spark.io_manager import make_io_manager

    register("spark", make_io_manager)

"""The Spark adapter's plugin hooks: component type ``spark``, resource type ``spark`` and IO
manager type ``spark``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from catchment.components import ComponentType, ProjectDefaults
from catchment.hookspecs import AdapterInfo, hookimpl
from pydantic import BaseModel, ConfigDict, Field

from catchment_spark import __version__


@hookimpl
def catchment_adapter_info() -> AdapterInfo:
    """Name, version and supported core API range of catchment-spark."""
    return AdapterInfo(
        name="spark",
        version=__version__,
        api=">=1.0,<2",
        description="Spark DataFrame assets, a Spark IO manager and spark-submit script jobs",
    )


@hookimpl
def catchment_component_types(register: Callable[[ComponentType], None]) -> None:
    """Register the ``spark`` component type (script jobs declared in YAML)."""
    from catchment_spark.component import SparkAttributes, build

    register(
        ComponentType(
            name="spark",
            attributes=SparkAttributes,
            build=build,
            description="PySpark scripts run with spark-submit, reporting over catchment pipes",
            adapter="spark",
        )
    )


@hookimpl
def catchment_resource_types(register: Callable[[str, type[Any]], None]) -> None:
    """Register ``type: spark`` resources (a SparkSession, local or Spark Connect)."""
    from catchment_spark.resource import SparkResource

    register("spark", SparkResource)


class SparkIOManagerConfig(BaseModel):
    """YAML config of ``type: spark`` IO managers."""

    model_config = ConfigDict(extra="forbid")

    base_dir: str = Field(
        default="data/spark", description="where parquet files go (project-relative)"
    )
    tables: bool = Field(default=False, description="store Spark tables instead of paths")
    database: str = Field(default="default", description="database of tables")
    format: Literal["parquet", "orc", "json", "csv"] = "parquet"
    resource_key: str = Field(default="spark", description="the SparkResource to use")


def make_io_manager(config: dict[str, Any], defaults: ProjectDefaults) -> Any:
    """Build a SparkIOManager from YAML config; ``base_dir`` resolves against the project."""
    from catchment_spark.io_manager import SparkIOManager

    c = SparkIOManagerConfig.model_validate(config)
    base = Path(c.base_dir).expanduser()
    return SparkIOManager(
        base if base.is_absolute() else defaults.root / base,
        tables=c.tables,
        database=c.database,
        format=c.format,
        resource_key=c.resource_key,
    )


@hookimpl
def catchment_io_manager_types(register: Callable[[str, Callable[..., Any]], None]) -> None:
    """Register ``type: spark`` IO managers."""
    register("spark", make_io_manager)

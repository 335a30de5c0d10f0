"""The YAML ``attributes:`` of a ``type: dlt`` component, validated by pydantic."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from catchment.extra_deps import ExtraDepsFields
from pydantic import BaseModel, ConfigDict, Field


class ResourceOverride(ExtraDepsFields):
    """Per-resource settings that replace what discovery derives (and extra ``deps`` /
    ``reads`` of its asset)."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    key: str | None = Field(
        None, description="asset key, e.g. raw/orders (default <dataset>/<table>)"
    )
    group: str | None = None
    owners: list[str] | None = None
    tags: dict[str, str] | None = None
    description: str | None = None
    child_tables: list[str] = Field(
        default_factory=list,
        description="child-table suffixes to declare before the first run, e.g. [items]",
    )


class PartitionsAttributes(BaseModel):
    """Time-window partitions; each maps to the incremental window of resources with a cursor."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    cadence: Literal["hourly", "daily", "weekly", "monthly"] = "daily"
    start: str | datetime
    end: str | datetime | None = None
    timezone: str = "UTC"


class DltAttributes(BaseModel):
    """Attributes of a dlt component: which source, which pipeline, where it loads."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    source: str = Field(
        description="module:function of a @dlt.source; module importable or a .py path "
        "relative to the project folder"
    )
    args: dict[str, Any] = Field(default_factory=dict, description="kwargs for the function")
    pipeline_name: str | None = Field(None, description="default: the component name")
    destination: str | None = Field(
        None,
        description="default: the project's DuckDB warehouse; or duckdb:///file.duckdb, "
        "a .duckdb path, or a dlt destination name",
    )
    destination_location: str | None = Field(
        None, description="for non-DuckDB destinations: host:port / account, for identity"
    )
    destination_database: str | None = None
    dataset_name: str | None = Field(None, description="default: the source name")
    resources: list[str] | None = Field(
        None, description="resources to load (default: all selected)"
    )
    group: str | None = None
    owners: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    overrides: dict[str, ResourceOverride] = Field(default_factory=dict)
    partitions: PartitionsAttributes | None = None

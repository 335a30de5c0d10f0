"""The YAML ``attributes:`` of a ``type: dbt`` component, validated by pydantic."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class DbtPartitions(BaseModel):
    """A time-window partitioning for incremental models; a run's window reaches dbt as vars."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    start: str = Field(description="first window start, e.g. 2024-01-01")
    end: str | None = Field(None, description="end of the last window (default: now)")
    cadence: Literal["hourly", "daily", "weekly", "monthly"] = "daily"
    timezone: str = "UTC"
    models: list[str] | None = Field(
        None, description="model names to partition (default: every incremental model)"
    )
    min_var: str = Field("min_date", description="var receiving the window start (inclusive)")
    max_var: str = Field("max_date", description="var receiving the window end (exclusive)")
    var_format: str | None = Field(None, description="strftime format of the var values")
    static_keys: list[str] | None = Field(
        None,
        description="a second, static dimension (e.g. regions): keys become <time>|<static>",
    )
    key_var: str = Field(
        "partition_key", description="var receiving the static key(s), comma-separated"
    )


class DbtAttributes(BaseModel):
    """Attributes of a ``type: dbt`` component in catchment.yaml."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    project_dir: str = Field(description="the dbt project folder (relative to catchment.yaml)")
    profiles_dir: str | None = Field(None, description="folder of profiles.yml (default: project)")
    profile: str | None = Field(None, description="profile name (default: dbt_project.yml's)")
    target: str | None = Field(None, description="profile target (default: the profile's)")
    select: str | list[str] | None = Field(None, description="dbt selection of nodes to include")
    exclude: str | list[str] | None = Field(None, description="dbt selection of nodes to leave out")
    vars: dict[str, Any] = Field(default_factory=dict, description="dbt vars for parse and runs")
    key_prefix: str | list[str] | None = Field(None, description="prefix of every asset key")
    group_from: Literal["folder", "dbt_group"] | None = Field(
        "folder", description="asset group: top-level folder, dbt group, or none"
    )
    partitions: DbtPartitions | None = None
    run_unit_tests: bool = Field(
        False, description="declare dbt unit tests as checks (they then run with their models)"
    )
    cache_dir: str | None = Field(
        None, description="manifest cache (default: .catchment/dbt/<component> in the project)"
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="environment defaults for dbt (the process env wins)"
    )

"""The YAML ``attributes:`` of a ``type: snowflake`` component, validated by pydantic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from catchment_snowflake.objects import ManagedObject


class SnowflakeAttributes(BaseModel):
    """``attributes:`` of a ``type: snowflake`` component."""

    model_config = ConfigDict(defer_build=True, extra="forbid", populate_by_name=True)

    connection: str = Field(default="snowflake", description="name of a `type: snowflake` resource")
    database: str | None = Field(default=None, description="default: the connection's")
    schema_: str | None = Field(
        default=None, alias="schema", description="default: the connection's"
    )
    state_table: str = Field(
        default="CATCHMENT_STATE",
        description="where applied definitions are recorded ([db.][schema.]name)",
    )
    key_prefix: list[str] = Field(default_factory=list, description="prefix of default keys")
    group: str | None = None
    owners: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    io_manager_key: str | None = Field(
        default=None, description="IO manager that loads tables/views for Python downstreams"
    )
    objects: list[ManagedObject] = Field(min_length=1, description="stages, tables, views...")

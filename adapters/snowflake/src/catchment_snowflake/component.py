"""The ``snowflake`` component type: a catchment.yaml entry -> one definition of its objects."""

from __future__ import annotations

from catchment.components import ComponentContext, ComponentType
from catchment.definitions import AssetsDefinition

from catchment_snowflake.attributes import SnowflakeAttributes


def build(attributes: SnowflakeAttributes, context: ComponentContext) -> list[AssetsDefinition]:
    """Declare one asset per managed object (reads YAML only, never connects)."""
    # Imported here: a load imports every installed adapter to register its types, and only
    # projects with a snowflake component need the machinery behind this one.
    from catchment_snowflake.assets import snowflake_definition

    return [snowflake_definition(attributes, context)]


COMPONENT_TYPE = ComponentType(
    name="snowflake",
    attributes=SnowflakeAttributes,
    build=build,
    description="Snowflake stages, file formats, tables, views and external tables, as assets "
    "applied with idempotent DDL",
    adapter="snowflake",
)

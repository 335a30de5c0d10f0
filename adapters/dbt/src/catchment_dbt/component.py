"""The ``dbt`` component type: a catchment.yaml entry -> one asset definition."""

from __future__ import annotations

from catchment.components import ComponentContext, ComponentType
from catchment.definitions import AssetsDefinition

from catchment_dbt.attributes import DbtAttributes


def build(attributes: DbtAttributes, context: ComponentContext) -> list[AssetsDefinition]:
    """Declare the dbt project's nodes as ONE subsettable definition (no model is run)."""
    # Imported here: a load imports every installed adapter to register its types, and only
    # projects with a dbt component need the machinery behind this one.
    from catchment_dbt.assets import dbt_definition

    return [dbt_definition(attributes, context)]


COMPONENT_TYPE = ComponentType(
    name="dbt",
    attributes=DbtAttributes,
    build=build,
    description="A dbt project: models/seeds/snapshots as assets, tests as checks",
    adapter="dbt",
)

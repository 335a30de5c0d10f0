"""The ``sling`` component type: a catchment.yaml entry -> one definition of its streams."""

from __future__ import annotations

from catchment.components import ComponentContext, ComponentType
from catchment.definitions import AssetsDefinition

from catchment_sling.attributes import SlingAttributes


def build(attributes: SlingAttributes, context: ComponentContext) -> list[AssetsDefinition]:
    """Discover the replication's streams and return one definition serving all of them."""
    # Imported here: a load imports every installed adapter to register its types, and only
    # projects with a sling component need the machinery behind this one.
    from catchment_sling.assets import sling_definition

    return [sling_definition(attributes, context)]


COMPONENT_TYPE = ComponentType(
    name="sling",
    attributes=SlingAttributes,
    build=build,
    description="Every stream of a Sling replication as an asset (runs the Sling binary).",
    adapter="sling",
)

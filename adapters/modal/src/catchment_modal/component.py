"""The ``modal`` component type: a catchment.yaml entry -> one definition per function."""

from __future__ import annotations

from catchment.components import ComponentContext, ComponentType
from catchment.definitions import AssetsDefinition

from catchment_modal.attributes import ModalAttributes


def build(attributes: ModalAttributes, context: ComponentContext) -> list[AssetsDefinition]:
    """Declare the app's asset functions without calling them (discovery is offline)."""
    # Imported here: a load imports every installed adapter to register its types, and only
    # projects with a modal component need the machinery behind this one.
    from catchment_modal.assets import modal_definitions

    return modal_definitions(attributes, context)


COMPONENT_TYPE = ComponentType(
    name="modal",
    attributes=ModalAttributes,
    build=build,
    description="Functions of a Modal app as assets (local: fn.local(); remote: deployed)",
    adapter="modal",
)

"""The ``python`` component type: every definition at the top level of a Python module."""

from __future__ import annotations

from catchment.builtin_adapter.attributes import PythonAttributes
from catchment.builtin_adapter.modules import import_project_module
from catchment.builtin_adapter.prefix import Renaming, with_prefix
from catchment.components import ComponentContext, ComponentType
from catchment.definitions import AssetsDefinition
from catchment.keys import AssetKey


def build(attributes: PythonAttributes, context: ComponentContext) -> list[AssetsDefinition]:
    """Import the module and collect every ``AssetsDefinition`` at its top level (assets,
    multi-assets and checks), in definition order."""
    module = import_project_module(attributes.module, context)
    found: list[AssetsDefinition] = []
    seen: set[int] = set()
    for value in vars(module).values():
        if isinstance(value, AssetsDefinition) and id(value) not in seen:
            seen.add(id(value))
            found.append(value)
    if attributes.key_prefix:
        prefix = (
            (attributes.key_prefix,)
            if isinstance(attributes.key_prefix, str)
            else tuple(attributes.key_prefix)
        )
        AssetKey(prefix)  # validates the segments
        own = frozenset(k for d in found for k in d.keys)
        names = Renaming(prefix, own)
        found = [with_prefix(d, names) for d in found]
    if attributes.group:
        group = attributes.group
        found = [d.map_specs(lambda s: s if s.group else s.replace(group=group)) for d in found]
    return [d if d.component else d.replace(component=context.name) for d in found]


# -- IO managers ----------------------------------------------------------------------------


COMPONENT_TYPE = ComponentType(
    name="python",
    attributes=PythonAttributes,
    build=build,
    description="a Python module of @asset / @multi_asset / @asset_check definitions",
)

"""The ``python`` component type: every definition at the top level of a Python module."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from catchment.builtin_adapter.attributes import PythonAttributes
from catchment.builtin_adapter.modules import import_project_module
from catchment.builtin_adapter.prefix import Renaming, with_prefix
from catchment.components import ComponentContext, ComponentType
from catchment.definitions import AssetsDefinition
from catchment.keys import AssetKey

CONTAINER_DEPTH = 3  # lists of lists of definitions, and no deeper


def build(attributes: PythonAttributes, context: ComponentContext) -> list[AssetsDefinition]:
    """Import the module and collect every ``AssetsDefinition`` at its top level (assets,
    multi-assets and checks), also inside top-level lists, tuples, sets and dict values
    (checks made in a loop), in definition order."""
    module = import_project_module(attributes.module, context)
    found: list[AssetsDefinition] = []
    seen: set[int] = set()
    for value in vars(module).values():
        for item in _definitions_in(value, CONTAINER_DEPTH):
            if id(item) not in seen:
                seen.add(id(item))
                found.append(item)
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


def _definitions_in(value: object, depth: int) -> Iterator[AssetsDefinition]:
    """``value`` if it is a definition, else the definitions held in it as a container."""
    if isinstance(value, AssetsDefinition):
        yield value
        return
    if depth <= 0 or isinstance(value, str | bytes):
        return
    items: Iterable[object]
    if isinstance(value, dict):
        items = value.values()
    elif isinstance(value, list | tuple | set | frozenset):
        items = value
    else:
        return
    for item in items:
        yield from _definitions_in(item, depth - 1)


# -- IO managers ----------------------------------------------------------------------------


COMPONENT_TYPE = ComponentType(
    name="python",
    attributes=PythonAttributes,
    build=build,
    description="a Python module of @asset / @multi_asset / @asset_check definitions",
)

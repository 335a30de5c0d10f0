"""The ``dlt`` component type: build asset definitions from a ``catchment.yaml`` entry."""

from __future__ import annotations

import inspect
from collections.abc import Sequence

from catchment.components import ComponentContext, ComponentType
from catchment.definitions import AssetsDefinition
from catchment.partitions import TimeWindowPartitions

from catchment_dlt.attributes import DltAttributes


def build(attributes: DltAttributes, context: ComponentContext) -> Sequence[AssetsDefinition]:
    """Import the source function, call it, and declare its resources as assets."""
    # Imported here: a load imports every installed adapter to register its types, and only
    # projects with a dlt component need the machinery behind this one.
    from catchment_dlt.assets import dlt_assets, fingerprint_of
    from catchment_dlt.discovery import ResourceOptions
    from catchment_dlt.loading import call_source, resolve_function
    from catchment_dlt.telemetry import quiet_dlt

    quiet_dlt()
    where = f"component {context.name}"
    fn = resolve_function(attributes.source, root=context.root, where=f"{where}: source")

    def make_source() -> object:
        return call_source(fn, attributes.args, ref=attributes.source, where=f"{where}: source")

    partitions = (
        TimeWindowPartitions(**attributes.partitions.model_dump(exclude_none=True))
        if attributes.partitions
        else None
    )
    try:
        code = inspect.getsource(inspect.getmodule(fn) or fn)
    except (OSError, TypeError):
        code = attributes.source
    return [
        dlt_assets(
            make_source,
            pipeline_name=attributes.pipeline_name or context.name,
            destination=attributes.destination,
            dataset_name=attributes.dataset_name,
            resources=attributes.resources,
            overrides={
                name: ResourceOptions(**o.model_dump()) for name, o in attributes.overrides.items()
            },
            group=attributes.group,
            owners=attributes.owners,
            tags=attributes.tags,
            partitions=partitions,
            project_root=context.root,
            warehouse=context.project.warehouse,
            destination_location=attributes.destination_location,
            destination_database=attributes.destination_database,
            name=f"dlt_{context.name}",
            component=context.name,
            definition_source=context.source or None,
            fingerprint=fingerprint_of(code, attributes.args),
        )
    ]


COMPONENT_TYPE = ComponentType(
    name="dlt",
    attributes=DltAttributes,
    build=build,
    description="dlt source: each selected resource (and its child tables) is an asset",
    adapter="dlt",
)

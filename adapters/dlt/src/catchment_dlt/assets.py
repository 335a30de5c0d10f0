"""The Python API: ``dlt_assets(source, ...)`` turns a dlt source into one asset definition.

The YAML component builds through the same function, so both paths declare and run assets
identically: one definition per pipeline, able to load any subset of its resources in one
``pipeline.run``.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from catchment.components import ProjectDefaults
from catchment.context import StepContext
from catchment.definitions import AssetsDefinition, location_free
from catchment.errors import ConfigError
from catchment.extra_deps import parse_extra_deps, with_extra_deps
from catchment.partitions import PartitionsDefinition
from catchment.results import StepResult

from catchment_dlt.destination import resolve_target
from catchment_dlt.discovery import Layout, ResourceOptions, discover, read_stored_schema
from catchment_dlt.execution import run_step
from catchment_dlt.telemetry import quiet_dlt

PIPELINES_DIR = Path(".catchment") / "dlt"


def dlt_assets(
    source: Any,
    *,
    pipeline_name: str | None = None,
    destination: str | os.PathLike[str] | Any | None = None,
    dataset_name: str | None = None,
    resources: Sequence[str] | None = None,
    overrides: Mapping[str, ResourceOptions | Mapping[str, Any]] | None = None,
    group: str | None = None,
    owners: Sequence[str] = (),
    tags: Mapping[str, str] | None = None,
    partitions: PartitionsDefinition | None = None,
    project_root: str | os.PathLike[str] | None = None,
    warehouse: str | os.PathLike[str] | None = None,
    pipelines_dir: str | os.PathLike[str] | None = None,
    destination_location: str | None = None,
    destination_database: str | None = None,
    name: str | None = None,
    component: str | None = None,
    definition_source: str | None = None,
    fingerprint: str = "",
) -> AssetsDefinition:
    """Declare every selected resource of ``source`` (and its child tables) as assets.

    ``source`` is a ``DltSource`` or a zero-argument callable returning one (called again
    for each run, so generators start fresh). ``destination`` defaults to the project's
    DuckDB warehouse (``<project_root>/warehouse.duckdb``, ``project_root`` defaulting to
    the current folder); ``dataset_name`` to the source name; ``pipeline_name`` to
    ``<source name>``. Pipeline state lives in ``<project_root>/.catchment/dlt``.
    """
    quiet_dlt()
    make_source = _factory(source)
    first = make_source()
    root = Path(project_root or Path.cwd()).resolve()
    defaults = ProjectDefaults.for_root(root)
    where = f"component {component}" if component else f"dlt_assets({first.name})"
    target = resolve_target(
        destination,
        warehouse=Path(warehouse).resolve() if warehouse else defaults.warehouse,
        root=root,
        location=destination_location,
        database=destination_database,
        where=f"{where}: destination",
    )
    pipeline = pipeline_name or first.name
    dataset = dataset_name or first.name
    folder = Path(pipelines_dir).resolve() if pipelines_dir else root / PIPELINES_DIR
    stored = read_stored_schema(folder, pipeline, first.schema.name)
    options = {k: _options(v, where, k) for k, v in (overrides or {}).items()}
    layout = discover(
        first,
        target=target,
        dataset_name=dataset,
        resources=resources,
        options=options,
        stored_tables=stored,
        group=group,
        owners=owners,
        tags=tags,
        partitions=partitions,
        fingerprint=fingerprint
        + location_free(json.dumps([pipeline, dataset, target.describe()]), root),
        where=where,
    )
    layout = _with_extra_deps(
        layout, options, Path(warehouse).resolve() if warehouse else defaults.warehouse, where
    )
    if not layout.specs:
        raise ConfigError(
            f"dlt source {first.name!r} has no selected resources",
            where=where,
            hint="select resources with `resources:` or mark them selected in the source",
        )
    step_where = definition_source or where

    def compute(context: StepContext) -> Iterator[StepResult]:
        yield from run_step(
            context,
            layout=layout,
            make_source=make_source,
            pipeline_name=pipeline,
            pipelines_dir=folder,
            partitions=partitions,
            where=step_where,
        )

    return AssetsDefinition(
        name=name or f"dlt_{pipeline}",
        specs=layout.specs,
        compute=compute,
        can_subset=True,
        source=definition_source,
        component=component,
        adapter="dlt",
        metadata={
            "dlt_source": first.name,
            "dlt_pipeline": pipeline,
            "dlt_dataset": layout.dataset,
            "destination": target.describe(),
            "pipelines_dir": str(folder),
        },
    )


def _with_extra_deps(
    layout: Layout, options: Mapping[str, ResourceOptions], warehouse: Path, where: str
) -> Layout:
    """The overrides' ``deps`` and ``reads`` on each resource's (top-level) asset."""
    extra = {name: o for name, o in options.items() if o.deps or o.reads}
    if not extra:
        return layout
    specs = []
    for spec, asset in zip(layout.specs, layout.tables, strict=True):
        opts = extra.get(asset.resource)
        if opts is not None and not asset.is_child:
            deps, reads = parse_extra_deps(
                opts.deps, opts.reads, warehouse, f"{where}: overrides.{asset.resource}"
            )
            spec = with_extra_deps(spec, deps, reads)
        specs.append(spec)
    return replace(layout, specs=tuple(specs))


def _factory(source: Any) -> Callable[[], Any]:
    from dlt.extract.source import DltSource

    if isinstance(source, DltSource):
        return source.clone
    if callable(source):

        def make() -> Any:
            value = source()
            if not isinstance(value, DltSource):
                raise ConfigError(
                    f"{source!r} returned a {type(value).__name__}, not a dlt source",
                    hint="pass a dlt source, or a function returning one",
                )
            return value

        return make
    raise ConfigError(
        f"dlt_assets needs a dlt source, got a {type(source).__name__}",
        hint="pass my_source(...) (a @dlt.source call) or a function returning one",
    )


def _options(value: ResourceOptions | Mapping[str, Any], where: str, name: str) -> ResourceOptions:
    if isinstance(value, ResourceOptions):
        return value
    try:
        return ResourceOptions(**value)
    except TypeError as exc:
        raise ConfigError(
            f"overrides for resource {name!r}: {exc}",
            where=where,
            hint="allowed: key, group, owners, tags, description, child_tables, deps, reads",
        ) from None


def fingerprint_of(*parts: Any) -> str:
    """A stable hash of settings that define the assets (part of each code version)."""
    text = json.dumps(parts, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]

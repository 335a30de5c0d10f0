"""A dbt project as ONE asset definition, from a component's attributes or from Python.

One component = one dbt project (optionally narrowed by ``select``/``exclude``) = ONE
``AssetsDefinition`` that can build any subset of its models, seeds and snapshots in a single
``dbt build``. Discovery reads the manifest; it runs ``dbt parse`` only when no fresh manifest
or cache entry exists, and ``dbt ls`` only to resolve ``select``/``exclude``.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path
from typing import Any

from catchment.components import ComponentContext, ProjectDefaults
from catchment.definitions import AssetsDefinition
from catchment.errors import ConfigError
from catchment.multi_partitions import MultiPartitions
from catchment.partitions import PartitionsDefinition, TimeWindowPartitions

from catchment_dbt.attributes import DbtAttributes, DbtPartitions
from catchment_dbt.execution import DbtCompute, RunOptions, unit_tests_enabled
from catchment_dbt.manifest import Manifest, gc_paused
from catchment_dbt.project import DbtProject
from catchment_dbt.translation import Translation, TranslationOptions, translate
from catchment_dbt.translation_cache import load_translation, store_translation, translation_key

WAREHOUSE_ENV = "CATCHMENT_WAREHOUSE"


def _split(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    return value.split() if isinstance(value, str) else list(value)


def _digest(path: Path) -> str:
    """A file name part for ``path`` (as the compact manifest copy's)."""
    return hashlib.sha256(str(path).encode()).hexdigest()[:16]


def _partitions(
    p: DbtPartitions, manifest: Manifest
) -> tuple[PartitionsDefinition, frozenset[str]]:
    """The component's partitions and the models (names or unique ids) they apply to."""
    windows = TimeWindowPartitions(start=p.start, end=p.end, cadence=p.cadence, timezone=p.timezone)
    partitions: PartitionsDefinition = (
        MultiPartitions(windows, p.static_keys) if p.static_keys else windows
    )
    if p.models is not None:
        return partitions, frozenset(p.models)
    return partitions, frozenset(
        n.unique_id
        for n in manifest.nodes.values()
        if n.resource_type == "model" and n.config.materialized == "incremental"
    )


def dbt_definition(attrs: DbtAttributes, context: ComponentContext) -> AssetsDefinition:
    """Declare a dbt project's nodes as ONE subsettable definition (no model is run)."""
    env = {WAREHOUSE_ENV: str(context.project.warehouse), **attrs.env}
    project = DbtProject(
        project_dir=context.path(attrs.project_dir),
        profiles_dir=context.path(attrs.profiles_dir) if attrs.profiles_dir else None,
        profile=attrs.profile,
        target=attrs.target,
        vars=dict(attrs.vars),
        env=env,
        cache_dir=context.path(attrs.cache_dir or f".catchment/dbt/{context.name}"),
    )
    manifest_path = project.manifest_path()
    select, exclude = _split(attrs.select), _split(attrs.exclude)
    prefix = attrs.key_prefix
    options = TranslationOptions(
        unit_tests=unit_tests_enabled(attrs.run_unit_tests),
        key_prefix=()
        if prefix is None
        else tuple(prefix.split("/") if isinstance(prefix, str) else prefix),
        group_from=attrs.group_from,
    )
    entry = project.cache_root / f"translation-{_digest(manifest_path)}.msgpack"
    target = project.resolved_target
    translation: Translation | None = None
    manifest: Manifest | None = None
    partitions: PartitionsDefinition | None = None
    selected: set[str] | None = None
    if attrs.partitions is None:
        # a hit needs neither the manifest nor dbt: the selection only if dbt's answer is kept
        if select or exclude:
            selected = project.cached_selection(select, exclude)
        if selected is not None or not (select or exclude):
            key = translation_key(manifest_path, target, options, selected)
            if key is not None:
                with gc_paused():
                    translation = load_translation(entry, key)
    if translation is None:  # what a load without the cache does, in the same order
        manifest = project.load_manifest_at(manifest_path)
        selected = (
            project.resolve_selection(manifest_path, select, exclude)
            if (select or exclude)
            else None
        )
        if attrs.partitions is not None:
            partitions, partitioned = _partitions(attrs.partitions, manifest)
            options = replace(options, partitions=partitions, partitioned=partitioned)
        with gc_paused():
            translation = translate(manifest, target, options, selected=selected)
        key = translation_key(manifest_path, target, options, selected)
        if key is not None and translation.specs:
            store_translation(entry, key, translation)
    if not translation.specs:
        raise ConfigError(
            "the dbt project declares no models, seeds or snapshots"
            + (" for this select/exclude" if selected is not None else ""),
            where=context.source or f"{project.project_dir} (component {context.name})",
            hint="check `select`/`exclude` with `dbt ls` in the project",
        )
    run_options = RunOptions(
        partitions=partitions,
        min_var=attrs.partitions.min_var if attrs.partitions else "min_date",
        max_var=attrs.partitions.max_var if attrs.partitions else "max_date",
        var_format=attrs.partitions.var_format if attrs.partitions else None,
        key_var=attrs.partitions.key_var if attrs.partitions else "partition_key",
        run_unit_tests=attrs.run_unit_tests,
    )
    compute = DbtCompute(project, translation, manifest_path, manifest, run_options)
    return AssetsDefinition(
        name=context.name,
        specs=tuple(translation.specs),
        compute=compute,
        can_subset=True,
        source=context.source or str(project.project_dir / "dbt_project.yml"),
        component=context.name,
        adapter="dbt",
        metadata={
            "dbt_project_dir": str(project.project_dir),
            "dbt_manifest": str(manifest_path),
            "dbt_target": f"{project.resolved_target.profile}.{project.resolved_target.name}",
        },
    )


def dbt_assets(
    project_dir: str | Path,
    *,
    name: str = "dbt",
    warehouse: str | Path | None = None,
    **attributes: Any,
) -> AssetsDefinition:
    """Python API: the definition of a dbt project, as a ``type: dbt`` component would build it.

    ``warehouse`` is the DuckDB file exposed to profiles.yml as ``CATCHMENT_WAREHOUSE``
    (default: ``warehouse.duckdb`` in the current folder); ``attributes`` are DbtAttributes
    (``cache_dir`` defaults to ``<project_dir>/target/catchment`` here).
    """
    root = Path.cwd()
    defaults = ProjectDefaults.for_root(root)
    if warehouse is not None:
        defaults = ProjectDefaults(
            root=defaults.root,
            warehouse=Path(warehouse).expanduser().resolve(),
            storage_url=defaults.storage_url,
        )
    attributes.setdefault("cache_dir", str(Path(project_dir).resolve() / "target" / "catchment"))
    attrs = DbtAttributes(project_dir=str(project_dir), **attributes)
    return dbt_definition(attrs, ComponentContext(name=name, project=defaults))

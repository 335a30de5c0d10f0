"""Discovery: a dlt source's resources (and their child tables) as asset specs, without running.

Each selected resource is an asset keyed ``<dataset>/<table>`` (the table it loads), so that
its physical identity and the DuckDB IO manager's naming agree. dlt splits nested lists into
child tables ``<table>__<field>``; each child table the adapter can know about is an asset of
its own, keyed ``<dataset>/<table>/<field>`` with the child table as its ``table``, depending
on its parent and always loaded with it. An asset has one ``table``, and the graph links a
reader to the asset whose ``table`` equals what it reads, so a dbt source over
``dataset.events__items`` links only if some asset's ``table`` IS that child table.

Child tables are known, in this order, from: the resource's ``nested_hints``; the source's
own schema (an imported schema file); the pipeline's stored schema under ``pipelines_dir``
(written by every run, so after the first run every child table dlt created is declared); and
the per-resource ``child_tables`` override. Nesting deeper than ``max_table_nesting`` is
ignored, as dlt stores it as JSON.
"""

from __future__ import annotations

import hashlib
import inspect
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from catchment.errors import ConfigError
from catchment.keys import AssetKey
from catchment.partitions import PartitionsDefinition
from catchment.specs import AssetDep, AssetSpec

from catchment_dlt.destination import Target


@dataclass(frozen=True)
class ResourceOptions:
    """Per-resource overrides of what discovery derives."""

    key: str | Sequence[str] | None = None
    group: str | None = None
    owners: Sequence[str] | None = None
    tags: Mapping[str, str] | None = None
    description: str | None = None
    child_tables: Sequence[str] = ()
    deps: Sequence[str] = ()
    reads: Sequence[str] = ()


@dataclass(frozen=True)
class TableAsset:
    """One asset of a dlt definition: a resource's table or one of its child tables."""

    key: AssetKey
    resource: str
    table: str | None
    parent: AssetKey | None = None

    @property
    def is_child(self) -> bool:
        return self.parent is not None


@dataclass(frozen=True)
class Layout:
    """The assets of one dlt source as loaded by one pipeline into one dataset."""

    source_name: str
    schema_name: str
    dataset: str
    target: Target
    tables: tuple[TableAsset, ...]
    specs: tuple[AssetSpec, ...]
    cursors: Mapping[str, Any] = field(default_factory=dict)

    def resources_for(self, keys: Iterable[AssetKey]) -> list[str]:
        """Resources to run so that ``keys`` are loaded, in declaration order."""
        wanted = set(keys)
        names = {t.resource for t in self.tables if t.key in wanted}
        return [r for r in dict.fromkeys(t.resource for t in self.tables) if r in names]

    def tables_of(self, resources: Iterable[str]) -> list[TableAsset]:
        chosen = set(resources)
        return [t for t in self.tables if t.resource in chosen]

    def asset_for_table(self, table_name: str) -> TableAsset | None:
        for t in self.tables:
            if t.table == table_name:
                return t
        return None


def read_stored_schema(pipelines_dir: Path, pipeline_name: str, schema_name: str) -> dict[str, Any]:
    """The tables of the schema a previous run stored, or ``{}`` before the first run."""
    path = pipelines_dir / pipeline_name / "schemas" / f"{schema_name}.schema.json"
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    tables = data.get("tables") if isinstance(data, dict) else None
    return tables if isinstance(tables, dict) else {}


def incremental_of(resource: Any) -> Any:
    """The ``dlt.sources.incremental`` a resource declares (hint, decorator or default arg)."""
    from dlt.extract.incremental import Incremental, IncrementalResourceWrapper

    wrapper = resource.incremental
    if isinstance(wrapper, IncrementalResourceWrapper) and wrapper.incremental is not None:
        return wrapper.incremental
    if isinstance(wrapper, Incremental):
        return wrapper
    gen = getattr(getattr(resource, "_pipe", None), "gen", None)
    if callable(gen):
        try:
            param = IncrementalResourceWrapper.get_incremental_arg(inspect.signature(gen))
        except (TypeError, ValueError):
            param = None
        if param is not None and isinstance(param.default, Incremental):
            return param.default
    return None


def discover(
    source: Any,
    *,
    target: Target,
    dataset_name: str,
    resources: Sequence[str] | None = None,
    options: Mapping[str, ResourceOptions] | None = None,
    stored_tables: Mapping[str, Any] | None = None,
    group: str | None = None,
    owners: Sequence[str] = (),
    tags: Mapping[str, str] | None = None,
    partitions: PartitionsDefinition | None = None,
    fingerprint: str = "",
    where: str = "dlt",
) -> Layout:
    """Declare the assets of ``source`` (a ``DltSource``) without extracting anything."""
    options = dict(options or {})
    naming = source.schema.naming
    dataset = naming.normalize_table_identifier(dataset_name)
    available = dict(source.resources)
    names = _selected(source, available, resources, where)
    unknown = sorted(set(options) - set(available))
    if unknown:
        raise ConfigError(
            f"overrides name resources {unknown} that source {source.name!r} does not have",
            where=where,
            hint=f"its resources are: {', '.join(available)}",
        )
    known_tables = {**dict(source.schema.tables), **dict(stored_tables or {})}
    tables: list[TableAsset] = []
    specs: list[AssetSpec] = []
    cursors: dict[str, Any] = {}
    top_keys: dict[str, AssetKey] = {}
    for name in names:
        resource = available[name]
        opts = options.get(name, ResourceOptions())
        table_name, schema = _table_schema(resource, naming)
        incremental = incremental_of(resource)
        if incremental is not None:
            cursors[name] = incremental
        key = (
            AssetKey.parse(opts.key)
            if opts.key is not None
            else AssetKey((dataset, table_name or naming.normalize_table_identifier(name)))
        )
        metadata = _metadata(resource, schema, incremental, target, dataset, table_name)
        base = AssetSpec(
            key=key,
            description=opts.description or _doc(resource),
            group=opts.group or group,
            owners=tuple(opts.owners if opts.owners is not None else owners),
            tags={**(tags or {}), **(opts.tags or {})},
            kinds=("dlt", target.kind),
            metadata=metadata,
            code_version=_code_version(resource, schema, fingerprint),
            partitions=partitions,
            table=target.table(dataset, table_name) if table_name else None,
        )
        tables.append(TableAsset(key=key, resource=name, table=table_name))
        top_keys[name] = key
        specs.append(base)
        if table_name is None:
            continue
        nesting = _max_nesting(resource, source)
        for suffix in _child_suffixes(resource, table_name, known_tables, opts, naming, nesting):
            child_key = AssetKey((*key.path, *suffix.split("__")))
            child_table = naming.shorten_fragments(table_name, *suffix.split("__"))
            parent_suffix = suffix.rpartition("__")[0]
            parent_key = AssetKey((*key.path, *parent_suffix.split("__"))) if parent_suffix else key
            tables.append(TableAsset(child_key, name, child_table, parent=parent_key))
            specs.append(
                base.replace(
                    key=child_key,
                    description=f"Child table {child_table!r} of dlt resource {name!r} "
                    "(nested list data); always loaded together with it.",
                    deps=(AssetDep(parent_key),),
                    metadata={
                        "dlt_resource": name,
                        "dlt_table": child_table,
                        "dlt_parent_table": naming.shorten_fragments(
                            table_name, *parent_suffix.split("__")
                        )
                        if parent_suffix
                        else table_name,
                        "dlt_nested_path": suffix,
                        "dlt_dataset": dataset,
                        "destination": target.describe(),
                    },
                    table=target.table(dataset, child_table),
                )
            )
    specs = _transformer_edges(specs, tables, available, top_keys)
    return Layout(
        source_name=source.name,
        schema_name=source.schema.name,
        dataset=dataset,
        target=target,
        tables=tuple(tables),
        specs=tuple(specs),
        cursors=cursors,
    )


def _transformer_edges(
    specs: list[AssetSpec],
    tables: list[TableAsset],
    available: Mapping[str, Any],
    top_keys: Mapping[str, AssetKey],
) -> list[AssetSpec]:
    """A transformer's asset depends on its parent resource's asset (``data_from``), when
    that resource is declared too."""
    out: list[AssetSpec] = []
    for spec, asset in zip(specs, tables, strict=True):
        pipe = getattr(available[asset.resource], "_pipe", None)
        parent = getattr(getattr(pipe, "parent", None), "name", None)
        parent_key = top_keys.get(parent) if parent and not asset.is_child else None
        if parent_key is not None and parent_key not in spec.dep_keys:
            spec = spec.replace(deps=(*spec.deps, AssetDep(parent_key)))
        out.append(spec)
    return out


def _selected(
    source: Any, available: Mapping[str, Any], resources: Sequence[str] | None, where: str
) -> list[str]:
    if resources is None:
        return list(source.selected_resources)
    missing = [r for r in resources if r not in available]
    if missing:
        raise ConfigError(
            f"resources {missing} are not in dlt source {source.name!r}",
            where=f"{where}: resources",
            hint=f"its resources are: {', '.join(available)}",
        )
    return list(dict.fromkeys(resources))


def _table_schema(resource: Any, naming: Any) -> tuple[str | None, dict[str, Any]]:
    """The normalized table name (None when dynamic) and the declared table schema."""
    hint = resource._hints.get("table_name") if hasattr(resource, "_hints") else None
    if callable(hint):
        return None, {}
    try:
        schema = dict(resource.compute_table_schema())
    except Exception:  # dynamic hints (e.g. a callable primary key) need a data item
        schema = {"name": resource.table_name}
    name = schema.get("name") or resource.name
    return naming.normalize_tables_path(name), schema


def _metadata(
    resource: Any,
    schema: Mapping[str, Any],
    incremental: Any,
    target: Target,
    dataset: str,
    table_name: str | None,
) -> dict[str, Any]:
    columns: Mapping[str, Any] = schema.get("columns") or {}
    metadata: dict[str, Any] = {
        "dlt_resource": resource.name,
        "dlt_table": table_name or "(dynamic table name)",
        "dlt_dataset": dataset,
        "destination": target.describe(),
        "write_disposition": _disposition(schema.get("write_disposition")),
    }
    primary_key = [c for c, col in columns.items() if col.get("primary_key")]
    if primary_key:
        metadata["primary_key"] = primary_key
    merge_key = [c for c, col in columns.items() if col.get("merge_key")]
    if merge_key:
        metadata["merge_key"] = merge_key
    typed = {c: col["data_type"] for c, col in columns.items() if col.get("data_type")}
    if typed:
        metadata["columns"] = typed
    if incremental is not None:
        metadata["incremental_cursor"] = incremental.cursor_path
        if incremental.initial_value is not None:
            metadata["incremental_initial_value"] = str(incremental.initial_value)
    return metadata


def _disposition(value: Any) -> str:
    if isinstance(value, Mapping):
        disposition = str(value.get("disposition", "append"))
        strategy = value.get("strategy")
        return f"{disposition} ({strategy})" if strategy else disposition
    return str(value or "append")


def _doc(resource: Any) -> str | None:
    gen = getattr(getattr(resource, "_pipe", None), "gen", None)
    doc = inspect.getdoc(gen) if callable(gen) else None
    return doc or f"dlt resource {resource.name!r}"


def _code_version(resource: Any, schema: Mapping[str, Any], fingerprint: str) -> str:
    """A hash of the resource's code, declared hints and the source-level settings."""
    digest = hashlib.sha256(fingerprint.encode())
    gen = getattr(getattr(resource, "_pipe", None), "gen", None)
    try:
        digest.update(inspect.getsource(gen).encode() if callable(gen) else b"")
    except (OSError, TypeError):
        digest.update(repr(gen).encode())
    digest.update(json.dumps(schema, sort_keys=True, default=repr).encode())
    return digest.hexdigest()[:16]


def _max_nesting(resource: Any, source: Any) -> int:
    for value in (getattr(resource, "max_table_nesting", None), source.max_table_nesting):
        if isinstance(value, int):
            return value
    return 1000


def _child_suffixes(
    resource: Any,
    table_name: str,
    known_tables: Mapping[str, Any],
    opts: ResourceOptions,
    naming: Any,
    nesting: int,
) -> list[str]:
    """Child-table suffixes (``items``, ``items__parts``) of ``table_name``, parents first."""
    found: dict[str, None] = {}

    def add(path: Sequence[str], trusted: bool = False) -> None:
        parts = [naming.normalize_path(p) for p in path if p]
        for depth in range(1, len(parts) + 1):
            if depth > nesting and not trusted:
                return
            found["__".join(parts[:depth])] = None

    hints = getattr(resource, "nested_hints", None) or {}
    for path in hints:
        add([path] if isinstance(path, str) else list(path))
    for name in _descendants(table_name, known_tables):
        add(name[len(table_name) + 2 :].split("__"), trusted=True)
    for declared in opts.child_tables:
        add(declared.split("__"), trusted=True)
    return sorted(found, key=lambda s: (s.count("__"), s))


def _descendants(root: str, tables: Mapping[str, Any]) -> list[str]:
    """Names of tables whose ``parent`` chain leads to ``root`` (dlt's nested tables)."""
    out: list[str] = []
    for name, table in tables.items():
        seen = 0
        parent = table.get("parent") if isinstance(table, Mapping) else None
        while parent and seen < 100:
            if parent == root:
                if name.startswith(root + "__"):
                    out.append(name)
                break
            nxt = tables.get(parent)
            parent = nxt.get("parent") if isinstance(nxt, Mapping) else None
            seen += 1
    return out

"""A Sling replication's streams as assets of one definition.

Discovery reads the replication and the connection URLs only; it never runs Sling. Each stream
becomes an asset keyed by its target object (``raw.orders`` -> ``raw/orders``) that WRITES the
target relation and READS the source relation, so the graph links it to whatever produces or
consumes those tables in other tools.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from catchment.components import ComponentContext
from catchment.definitions import AssetsDefinition, location_free
from catchment.errors import ConfigError
from catchment.keys import AssetKey
from catchment.partitions import TimeWindowPartitions
from catchment.specs import AssetSpec
from catchment.tables import TableRef

from catchment_sling.attributes import SlingAttributes, StreamOverride
from catchment_sling.binaries import locate_duckdb, locate_sling
from catchment_sling.connections import Connection, resolve_connection
from catchment_sling.execution import SlingCompute
from catchment_sling.replication import Stream, load_replication, resolve_streams
from catchment_sling.sqlreads import tables_read
from catchment_sling.wildcards import expand_wildcards

_BAD_SEGMENT = re.compile(r"[^A-Za-z0-9_.\-]+")


def _segment(text: str) -> str:
    seg = _BAD_SEGMENT.sub("_", text.strip().lower()).lstrip(".-")
    return seg or "_"


def _prefix(value: str | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return tuple(AssetKey.parse(value).path) if isinstance(value, str) else tuple(value)


def stream_key(stream: Stream, target: Connection, prefix: tuple[str, ...] = ()) -> AssetKey:
    """``raw/orders`` for target object ``raw.orders``; an object without a schema takes the
    target connection's default schema (``main/orders`` on DuckDB)."""
    if target.is_file_system or stream.object.startswith("file://"):
        stem = stream.object.removeprefix("file://").rstrip("/").rsplit("/", 1)[-1]
        return AssetKey((*prefix, _segment(stem.split(".", 1)[0] or stem)))
    schema = stream.target_schema or target.default_schema
    parts = (schema, stream.target_table) if schema else (stream.target_table,)
    return AssetKey((*prefix, *(_segment(p) for p in parts)))


def _target_table(stream: Stream, target: Connection, ctx: ComponentContext) -> TableRef:
    if stream.object.startswith("file://") or target.is_file_system:
        return target.file(stream.object, ctx.root)
    return target.relation(stream.target_table, stream.target_schema)


def _source_reads(
    stream: Stream, source: Connection, ctx: ComponentContext, where: str
) -> tuple[TableRef, ...]:
    if stream.is_file:
        return (source.file(stream.name, ctx.root),)
    if stream.source_table is None:  # custom SQL: the tables its parse names
        if not stream.sql or source.is_file_system:
            return ()
        found = tables_read(stream.sql, source.system, f"{where} (streams.{stream.name}.sql)")
        return tuple(source.relation(name, schema) for schema, name in found)
    return (source.relation(stream.source_table, stream.source_schema),)


def _spec(
    stream: Stream,
    key: AssetKey,
    written: TableRef,
    reads: tuple[TableRef, ...],
    attrs: SlingAttributes,
    override: StreamOverride | None,
    rep_source: str,
    rep_target: str,
    target: Connection,
    root: Path,
    partitions: TimeWindowPartitions | None = None,
) -> AssetSpec:
    metadata: dict[str, Any] = {
        "stream": stream.name,
        "target_object": stream.object,
        "mode": stream.mode,
        "source_connection": rep_source,
        "target_connection": rep_target,
    }
    if stream.primary_key:
        metadata["primary_key"] = stream.primary_key
    if stream.update_key:
        metadata["update_key"] = stream.update_key
    if stream.sql:
        metadata["sql"] = stream.sql
    origin = "custom SQL" if stream.sql else stream.name
    description = (override.description if override else None) or (
        f"Sling stream {origin} from {rep_source} into {stream.object} ({rep_target})"
    )
    return AssetSpec(
        key=key,
        description=description,
        group=(override.group if override else None) or attrs.group,
        owners=tuple(override.owners if override and override.owners else attrs.owners),
        tags={**attrs.tags, **(override.tags if override else {})},
        kinds=("sling", target.system),
        metadata=metadata,
        code_version=stream.code_version(
            {
                "table": location_free(str(written), root),
                "reads": [location_free(str(r), root) for r in reads],
            }
        ),
        table=written,
        reads=reads,
        partitions=partitions,
    )


def _with_override_deps(
    spec: AssetSpec, override: StreamOverride | None, ctx: ComponentContext, where: str
) -> AssetSpec:
    """The override's extra ``deps`` and ``reads`` (an egress stream reading a dbt model)."""
    return spec if override is None else override.apply_to(spec, ctx.project.warehouse, where)


def sling_definition(attrs: SlingAttributes, ctx: ComponentContext) -> AssetsDefinition:
    """Discover the replication's streams and return one definition serving all of them."""
    rep = load_replication(attrs.replication, ctx.root)
    source = resolve_connection(
        rep.source, attrs.connections, ctx.root, where=f"{rep.where} (source)", field_name="source"
    )
    target = resolve_connection(
        rep.target, attrs.connections, ctx.root, where=f"{rep.where} (target)", field_name="target"
    )
    if attrs.binary:
        locate_sling(attrs.binary, root=ctx.root)  # a wrong explicit path is a config error now
    if attrs.duckdb_binary:
        locate_duckdb(attrs.duckdb_binary, root=ctx.root)
    rep = expand_wildcards(rep, source)
    unknown = sorted(set(attrs.overrides) - set(rep.streams))
    if unknown:
        raise ConfigError(
            f"overrides name streams the replication does not have: {', '.join(unknown)}",
            where=f"component {ctx.name} (attributes.overrides)",
            hint=f"streams in {rep.where}: {', '.join(rep.streams)}",
        )
    windows = _partitions(attrs, ctx, rep.streams, rep.where)
    streams = resolve_streams(
        rep,
        source_is_file=source.is_file_system,
        target_default_schema=target.default_schema or "main",
    )
    prefix = _prefix(attrs.key_prefix)
    specs: list[AssetSpec] = []
    by_key: dict[AssetKey, Stream] = {}
    writers: dict[TableRef, str] = {}
    for stream in streams:
        override = attrs.overrides.get(stream.name)
        key = AssetKey.parse(override.key) if override and override.key else None
        key = key or stream_key(stream, target, prefix)
        written = _target_table(stream, target, ctx)
        other = writers.get(written) or (by_key[key].name if key in by_key else None)
        if other is not None:
            raise ConfigError(
                f"streams {other!r} and {stream.name!r} both write {written.qualified_name} "
                f"(asset {key})",
                where=f"{rep.where} (streams.{stream.name}.object)",
                hint="give each stream its own target object, or disable one",
            )
        writers[written] = stream.name
        by_key[key] = stream
        reads = _source_reads(stream, source, ctx, rep.where)
        chosen = attrs.partitions.streams if attrs.partitions is not None else None
        partitioned = windows is not None and (chosen is None or stream.name in chosen)
        specs.append(
            _with_override_deps(
                _spec(
                    stream,
                    key,
                    written,
                    reads,
                    attrs,
                    override,
                    rep.source,
                    rep.target,
                    target,
                    ctx.root,
                    windows if partitioned else None,
                ),
                override,
                ctx,
                f"{rep.where} (component {ctx.name} overrides.{stream.name})",
            )
        )
    source_text = ctx.source or f"{rep.where} (component {ctx.name})"
    compute = SlingCompute(
        component=ctx.name,
        root=ctx.root,
        where=rep.where,
        replication=rep,
        streams=by_key,
        tables={s.key: s.table.qualified_name for s in specs if s.table is not None},
        source=source,
        target=target,
        binary=attrs.binary,
        duckdb_binary=attrs.duckdb_binary,
        env=dict(attrs.env),
        partitioned=frozenset(s.key for s in specs if s.partitions is not None),
        windows=windows,
    )
    return AssetsDefinition(
        name=ctx.name,
        specs=tuple(specs),
        compute=compute,
        can_subset=True,
        source=source_text,
        component=ctx.name,
        adapter="sling",
        metadata=_definition_metadata(rep.where, rep.source, rep.target, len(specs)),
        observers=_observers(source, target),
    )


def _observers(*connections: Connection) -> tuple[Any, ...]:
    """Observers for the connections that need credentials (PostgreSQL): the source tables
    the streams read and the tables they write; DuckDB and files need none."""
    out: dict[tuple[str, str], Any] = {}
    for c in connections:
        if c.system == "postgres" and (c.system, c.location) not in out:
            from catchment.observation import PostgresObserver

            out[(c.system, c.location)] = PostgresObserver(
                c.location, c.env_value(), database=c.database
            )
    return tuple(out.values())


def _partitions(
    attrs: SlingAttributes, ctx: ComponentContext, streams: Mapping[str, Any], where: str
) -> TimeWindowPartitions | None:
    """The time windows of ``attributes.partitions`` (None when the streams are not
    partitioned); names in ``partitions.streams`` must be streams of the replication."""
    p = attrs.partitions
    if p is None:
        return None
    unknown = sorted(set(p.streams or ()) - set(streams))
    if unknown:
        raise ConfigError(
            f"partitions.streams names streams the replication does not have: {', '.join(unknown)}",
            where=f"component {ctx.name} (attributes.partitions.streams)",
            hint=f"streams in {where}: {', '.join(streams)}",
        )
    return TimeWindowPartitions(start=p.start, end=p.end, cadence=p.cadence, timezone=p.timezone)


def _definition_metadata(where: str, source: str, target: str, n: int) -> Mapping[str, Any]:
    return {"replication": where, "source": source, "target": target, "streams": n}

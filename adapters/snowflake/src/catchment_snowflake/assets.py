"""Managed Snowflake objects declared in YAML, each one an asset of one definition.

```yaml
resources:
  warehouse: {type: snowflake, config: {account: ..., user: ..., password: "{{ env('SF_PW') }}",
                                        database: ANALYTICS, schema: RAW}}
components:
  - type: snowflake
    name: landing
    attributes:
      connection: warehouse
      objects:
        - {kind: file_format, name: csv_format, type: csv, options: {skip_header: 1}}
        - {kind: stage, name: landing, file_format: csv_format}
        - {kind: table, name: orders, columns: [{name: id, type: number}]}
```

Discovery only reads the YAML (no connection). Each object's asset has kinds
``("snowflake", <kind>)``, identity ``table("snowflake", name, schema, database, account)`` and a
code version hashing its normalised definition, so ``catchment plan`` shows an edited object as
stale and ``catchment apply`` runs its DDL; an unchanged object costs no DDL.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from catchment.components import ComponentContext
from catchment.context import StepContext
from catchment.definitions import AssetsDefinition
from catchment.errors import CatchmentError, ConfigError
from catchment.keys import AssetKey
from catchment.results import StepResult
from catchment.specs import AssetSpec, spec
from catchment.tables import TableRef

from catchment_snowflake.apply import Declared
from catchment_snowflake.attributes import SnowflakeAttributes
from catchment_snowflake.execution import apply_objects
from catchment_snowflake.identifiers import Relation, qualify
from catchment_snowflake.objects import (
    ExternalTableObject,
    StageObject,
    ViewObject,
    analyse_sql,
    definition_hash,
    normalise,
    stage_of,
)
from catchment_snowflake.resource import SnowflakeResource
from catchment_snowflake.state import StateTable


def _resource(attrs: SnowflakeAttributes, context: ComponentContext) -> SnowflakeResource:
    found = context.resources.get(attrs.connection)
    if found is None:
        raise ConfigError(
            f"resource {attrs.connection!r} is not configured",
            where=f"{context.source} attributes.connection",
            hint=f"add `{attrs.connection}: {{type: snowflake, config: {{account: ..., user: "
            "..., password: \"{{ env('SNOWFLAKE_PASSWORD') }}\"}}` under resources:",
        )
    if not isinstance(found, SnowflakeResource):
        raise ConfigError(
            f"resource {attrs.connection!r} is a {type(found).__name__}, not a snowflake resource",
            where=f"{context.source} attributes.connection",
            hint="point connection at a resource of type: snowflake",
        )
    return found


def _reads(obj: Any, rel: Relation, account: str) -> list[TableRef]:
    """Relations an object reads: a view's tables (via sqlglot), a stage's or external
    table's file format and stage, plus what the YAML lists under ``reads``."""
    found: list[Relation] = []
    if isinstance(obj, ViewObject):
        found.extend(_query_tables(obj.query, rel))
    if isinstance(obj, StageObject | ExternalTableObject) and isinstance(obj.file_format, str):
        found.append(qualify(obj.file_format, rel.database, rel.schema))
    if isinstance(obj, ExternalTableObject):
        found.append(stage_of(obj.location, rel.database, rel.schema)[0])
    found.extend(qualify(r, rel.database, rel.schema) for r in obj.reads)
    refs = [r.ref(account) for r in dict.fromkeys(found) if r != rel]
    return list(dict.fromkeys(refs))


def _query_tables(query: str, rel: Relation) -> list[Relation]:
    """Tables a view's query reads, resolved in the view's database and schema (a query
    sqlglot cannot parse reads nothing here: list its inputs under ``reads:``)."""
    return [qualify(t, rel.database, rel.schema) for t in analyse_sql(query)[1]]


def _declare(
    attrs: SnowflakeAttributes, context: ComponentContext, resource: SnowflakeResource
) -> list[tuple[Declared, AssetSpec]]:
    database = attrs.database or resource.database
    schema = attrs.schema_ or resource.schema_
    out: list[tuple[Declared, AssetSpec]] = []
    seen: dict[str, str] = {}
    for i, obj in enumerate(attrs.objects):
        where = f"{context.source} attributes.objects[{i}] ({obj.name})"
        try:
            rel = obj.relation(database, schema)
            definition = normalise(obj, rel)
            reads = _reads(obj, rel, resource.account)
        except (CatchmentError, ValueError) as exc:
            message = exc.message if isinstance(exc, CatchmentError) else str(exc)
            hint = exc.hint if isinstance(exc, CatchmentError) else None
            raise ConfigError(message, where=where, hint=hint) from None
        declared = Declared(obj, rel, definition, definition_hash(definition), where)
        if declared.state_key in seen:
            raise ConfigError(
                f"{obj.kind} {rel.dotted} is declared twice (also {seen[declared.state_key]})",
                where=where,
                hint="declare each object once",
            )
        seen[declared.state_key] = where
        key = (
            AssetKey.parse(obj.key)
            if obj.key
            else AssetKey([*attrs.key_prefix, rel.schema.lower(), rel.name.lower()])
        )
        tabular = obj.kind in ("table", "view", "external_table")
        the_spec = spec(
            key,
            deps=obj.deps,
            description=obj.description or obj.comment or f"Snowflake {obj.kind} {rel.dotted}",
            group=obj.group or attrs.group,
            owners=obj.owners or attrs.owners,
            tags={**attrs.tags, **obj.tags},
            kinds=("snowflake", obj.kind),
            metadata={
                "snowflake_object": obj.kind,
                "relation": rel.dotted,
                "definition_hash": declared.hash,
            },
            code_version=declared.hash,
            io_manager_key=attrs.io_manager_key if tabular else None,
            table=rel.ref(resource.account),
            reads=reads,
        )
        out.append((declared, the_spec))
    return _ordered(out)


def _ordered(items: list[tuple[Declared, AssetSpec]]) -> list[tuple[Declared, AssetSpec]]:
    """Objects after the objects they read (declaration order otherwise)."""
    by_table = {s.table: i for i, (_, s) in enumerate(items)}
    done: list[int] = []
    visiting: set[int] = set()

    def visit(i: int) -> None:
        if i in done or i in visiting:
            return
        visiting.add(i)
        for ref in items[i][1].reads:
            j = by_table.get(ref)
            if j is not None:
                visit(j)
        visiting.discard(i)
        done.append(i)

    for i in range(len(items)):
        visit(i)
    return [items[i] for i in done]


def snowflake_definition(attrs: SnowflakeAttributes, context: ComponentContext) -> AssetsDefinition:
    """Declare one asset per managed object (reads YAML only, never connects)."""
    resource = _resource(attrs, context)
    items = _declare(attrs, context, resource)
    db = attrs.database or resource.database
    sch = attrs.schema_ or resource.schema_
    try:
        state = StateTable(qualify(attrs.state_table, db, sch))
    except ConfigError as exc:
        raise ConfigError(
            exc.message, where=f"{context.source} attributes.state_table", hint=exc.hint
        ) from None
    connection = attrs.connection

    def compute(step: StepContext) -> Iterator[StepResult]:
        yield from apply_objects(step, items, state, connection)

    return AssetsDefinition(
        name=context.name,
        specs=tuple(s for _, s in items),
        compute=compute,
        can_subset=True,
        required_resources=frozenset({connection}),
        source=context.source or None,
        component=context.name,
        adapter="snowflake",
        metadata={"state_table": state.relation.dotted},
        observers=(_observer(resource, items),),
    )


def _observer(resource: SnowflakeResource, items: list[tuple[Declared, AssetSpec]]) -> Any:
    """The observer of this component's objects: tables and views (the rest are skipped)."""
    from catchment_snowflake.observe import SnowflakeObserver

    skip = frozenset(
        s.table
        for _, s in items
        if s.table is not None and s.kinds[-1] not in ("table", "view", "external_table")
    )
    return SnowflakeObserver(resource, skip=skip)

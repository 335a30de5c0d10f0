"""Declared external sources: data no asset writes, with a way to observe it.

A source is an external source asset like those the graph makes for relations that are read
but written by no asset, with two differences: it has a key of its own (so assets can name it
in ``deps``), and it may say how to observe it, as a plain mapping kept in its spec's
``metadata["observe"]`` (so the definitions snapshot carries it):

- ``{"glob": "landing/*.csv"}``: the files matching a pattern (relative to the project);
- ``{"sql": "select max(updated_at) from orders", "connection": "..."}``: a query whose
  result is the data version, against a DuckDB file, a PostgreSQL URL or the connection of
  a resource (``"resource": "warehouse"``);
- ``{"python": "module:function"}``: a function returning the data version.

Declare them under ``sources:`` in ``catchment.yaml``, or in Python with
:func:`external_source` and the :func:`observable_source` decorator. When the data version
changes, the assets reading the source are ``stale (source changed: ...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from catchment.definitions import AssetsDefinition
from catchment.errors import DefinitionError
from catchment.graph import SOURCE_ADAPTER
from catchment.keys import AssetKey, CoercibleToKey
from catchment.specs import AssetSpec
from catchment.tables import TableRef

__all__ = ["OBSERVE_KINDS", "external_source", "observable_source", "source_function"]

OBSERVE_KINDS = ("glob", "sql", "python")
"""How a source may be observed: exactly one of these keys in its ``observe`` mapping."""
CONNECTION_FIELDS = ("connection", "connection_env", "resource")
"""Where a ``sql`` source's query runs: at most one of these."""

_FUNCTIONS: dict[str, Callable[[], Any]] = {}
"""``module:function`` -> the function, for those declared with ``@observable_source`` in this
process (a module loaded from a file path cannot be imported by name again)."""


def _cannot_run(context: Any) -> Iterable[Any]:
    raise DefinitionError(
        "an external source is observed, not materialized",
        hint="materialize the assets that read it; `catchment observe` looks at the source",
    )


def check_observe(observe: Mapping[str, Any], where: str | None = None) -> dict[str, Any]:
    """``observe`` checked: exactly one of glob/sql/python, with string values."""
    kinds = [k for k in OBSERVE_KINDS if k in observe]
    if len(kinds) != 1:
        raise DefinitionError(
            f"observe needs exactly one of {', '.join(OBSERVE_KINDS)}, got "
            f"{', '.join(sorted(observe)) or 'nothing'}",
            where=where,
            hint='e.g. observe: {glob: "landing/*.csv"}',
        )
    unknown = sorted(set(observe) - {*OBSERVE_KINDS, *CONNECTION_FIELDS, "timeout"})
    if unknown:
        raise DefinitionError(
            f"observe: unknown field(s) {', '.join(unknown)}",
            where=where,
            hint="known: glob, sql (with connection, connection_env or resource), python, timeout",
        )
    given = [k for k in CONNECTION_FIELDS if observe.get(k)]
    if len(given) > 1 or (given and kinds[0] != "sql"):
        raise DefinitionError(
            f"observe: {' and '.join(given)} given"
            + (" together" if len(given) > 1 else f" with {kinds[0]} (only sql connects)"),
            where=where,
            hint="a sql source reads one of: connection (a DuckDB file), connection_env "
            "(a variable holding a PostgreSQL URL), resource (a resource under resources:)",
        )
    if kinds[0] == "python" and ":" not in str(observe["python"]):
        raise DefinitionError(
            f"observe.python must be 'module:function', got {observe['python']!r}",
            where=where,
        )
    return {k: v if isinstance(v, int | float) else str(v) for k, v in observe.items()}


def external_source(
    key: CoercibleToKey | None = None,
    *,
    table: TableRef | None = None,
    observe: Mapping[str, Any] | None = None,
    description: str | None = None,
    group: str | None = None,
    source: str | None = None,
) -> AssetsDefinition:
    """Declare an external source: ``key`` (default: the key of ``table``'s external source),
    the relation it stands for, and how to observe it (see the module). Put the result at the
    top level of a module of a ``python`` component, or under ``sources:`` in YAML."""
    from catchment.graph import external_key

    if key is None and table is None:
        raise DefinitionError("an external source needs a key or a table", where=source)
    asset_key = AssetKey.parse(key) if key is not None else external_key(table)  # type: ignore[arg-type]
    metadata: dict[str, Any] = {"external": True}
    kinds: tuple[str, ...] = (table.system,) if table is not None else ()
    if observe is not None:
        metadata["observe"] = check_observe(observe, source)
        kinds = kinds or (next(k for k in OBSERVE_KINDS if k in observe),)
    spec = AssetSpec(
        key=asset_key,
        description=description or f"External source{f': {table}' if table else ''}",
        group=group,
        kinds=kinds,
        table=table,
        metadata=metadata,
    )
    return AssetsDefinition(
        name=f"source:{asset_key.to_string()}",
        specs=(spec,),
        compute=_cannot_run,
        adapter=SOURCE_ADAPTER,
        source=source,
    )


def observable_source(
    key: CoercibleToKey | None = None,
    *,
    table: TableRef | None = None,
    description: str | None = None,
    group: str | None = None,
) -> Callable[[Callable[[], Any]], AssetsDefinition]:
    """Decorate a function that returns a source's data version (a string, a number, any
    value with a stable ``repr``; ``None`` when the source is not there) to declare that
    source; its key defaults to the function's name. The function takes no arguments and
    runs whenever the source is observed (``catchment observe``, ``plan``)."""

    def decorate(fn: Callable[[], Any]) -> AssetsDefinition:
        ref = f"{fn.__module__}:{fn.__qualname__}"
        _FUNCTIONS[ref] = fn
        code = getattr(fn, "__code__", None)
        where = f"{code.co_filename}:{code.co_firstlineno}" if code else None
        return external_source(
            key if key is not None or table is not None else fn.__name__,
            table=table,
            observe={"python": ref},
            description=description or (fn.__doc__ or "").strip().split("\n")[0] or None,
            group=group,
            source=where,
        )

    return decorate


def source_function(ref: str) -> Callable[[], Any] | None:
    """The function ``module:function`` declared in this process, if it was."""
    return _FUNCTIONS.get(ref)

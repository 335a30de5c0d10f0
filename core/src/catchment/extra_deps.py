"""Upstreams a project adds to an asset in YAML: ``deps`` (asset keys or tables) and
``reads`` (tables), for what a tool cannot see (an egress stream reading a dbt model).

A table is written as its identity's text form, ``system://location/database.schema.name``
(what ``catchment assets list`` shows), or as ``schema.name`` / ``database.schema.name`` in
the project's DuckDB warehouse. A ``deps`` entry with ``://`` is a table; others are asset keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from catchment.errors import ConfigError
from catchment.keys import AssetKey
from catchment.specs import AssetDep, AssetSpec
from catchment.tables import TableRef, duckdb_table, table

__all__ = ["ExtraDepsFields", "parse_extra_deps", "parse_table_text", "with_extra_deps"]

TABLE_HINT = (
    "write a table as schema.name (in the project's warehouse) or as "
    "system://location/database.schema.name, e.g. postgres://db:5432/shop.public.orders"
)


def parse_table_text(text: str, warehouse: Path, where: str | None = None) -> TableRef:
    """The ``TableRef`` that ``text`` names (see the module)."""
    value = text.strip()
    system, sep, rest = value.partition("://")
    if not sep:
        system, location, qualified = "duckdb", str(warehouse), value
    else:
        location, slash, qualified = rest.rpartition("/")
        if not slash:
            location, qualified = "", rest
    parts = qualified.split(".")
    if not value or not system or any(not p for p in parts) or len(parts) > 3:
        raise ConfigError(f"{text!r} is not a table", where=where, hint=TABLE_HINT)
    name = parts[-1]
    schema = parts[-2] if len(parts) > 1 else None
    database = parts[-3] if len(parts) > 2 else None
    if system.lower() == "duckdb" and location not in ("", ":memory:"):
        return duckdb_table(location, name, schema=schema or "main", database=database)
    return table(system, name, schema=schema, database=database, location=location or None)


def parse_extra_deps(
    deps: Iterable[str], reads: Iterable[str], warehouse: Path, where: str | None = None
) -> tuple[tuple[AssetDep, ...], tuple[TableRef, ...]]:
    """(asset deps, table reads) from YAML ``deps`` and ``reads`` lists."""
    keys: list[AssetDep] = []
    tables: list[TableRef] = []
    for item in deps:
        if "://" in item:
            tables.append(parse_table_text(item, warehouse, where))
        else:
            try:
                keys.append(AssetDep(AssetKey.parse(item)))
            except Exception as exc:
                raise ConfigError(
                    f"deps entry {item!r} is neither an asset key nor a table: {exc}",
                    where=where,
                    hint=f"use an asset key like marts/orders; {TABLE_HINT}",
                ) from None
    tables.extend(parse_table_text(t, warehouse, where) for t in reads)
    return tuple(keys), tuple(tables)


def with_extra_deps(
    spec: AssetSpec, deps: Iterable[AssetDep], reads: Iterable[TableRef]
) -> AssetSpec:
    """``spec`` with ``deps`` and ``reads`` added (those it already has are kept once)."""
    have = {d.key for d in spec.deps}
    new_deps = tuple(d for d in deps if d.key not in have and d.key != spec.key)
    new_reads = tuple(r for r in dict.fromkeys(reads) if r not in spec.reads and r != spec.table)
    if not new_deps and not new_reads:
        return spec
    return spec.replace(deps=spec.deps + new_deps, reads=spec.reads + new_reads)


class ExtraDepsFields(BaseModel):
    """The ``deps`` and ``reads`` fields every adapter's per-asset overrides accept."""

    model_config = ConfigDict(defer_build=True)  # built by the first override validated

    deps: list[str] = Field(
        default_factory=list,
        description="extra upstreams: asset keys, or tables as system://location/db.schema.name",
    )
    reads: list[str] = Field(
        default_factory=list,
        description="tables the asset reads: schema.name (warehouse) or system://location/...",
    )

    def apply_to(self, spec: AssetSpec, warehouse: Path, where: str | None = None) -> AssetSpec:
        """``spec`` with these deps and reads added."""
        if not self.deps and not self.reads:
            return spec
        deps, reads = parse_extra_deps(self.deps, self.reads, warehouse, where)
        return with_extra_deps(spec, deps, reads)

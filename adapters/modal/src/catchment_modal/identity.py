"""Physical identities a Modal function reads or writes, from YAML or ``@asset_spec``.

Three forms resolve to one normalised ``TableRef``:

- shorthand ``"<system>:<[database.][schema.]name>"``: ``duckdb:raw.orders`` is the table
  ``raw.orders`` of the project warehouse; ``duckdb:orders`` is ``main.orders``;
  ``file:data/out/scores.parquet`` is a path relative to the project; any other system
  (``postgres:public.orders``, ``snowflake:analytics.marts.orders``) has no location;
- a mapping with ``system``, ``name`` and optionally ``location``, ``database``, ``schema``
  (a DuckDB ``location`` is a file, relative to the project; default: the project warehouse);
- a ``catchment.tables.TableRef``, used as is.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from catchment.errors import ConfigError
from catchment.tables import TableRef, duckdb_table, file_table, table

_FIELDS = frozenset({"system", "location", "database", "schema", "name"})
_HINT = (
    "write an identity as 'system:[schema.]name' (e.g. duckdb:raw.orders), or as a mapping "
    "with system, name and optionally location, database, schema"
)


def resolve_identity(value: Any, *, root: Path, warehouse: Path, where: str) -> TableRef:
    """Turn one declared identity into a ``TableRef``; ``where`` names the field in errors."""
    if isinstance(value, TableRef):
        return value
    if isinstance(value, str):
        return _from_text(value, root=root, warehouse=warehouse, where=where)
    if isinstance(value, Mapping):
        return _from_mapping(value, root=root, warehouse=warehouse, where=where)
    raise ConfigError(f"{value!r} is not a table identity", where=where, hint=_HINT)


def _from_text(text: str, *, root: Path, warehouse: Path, where: str) -> TableRef:
    system, sep, rest = text.strip().partition(":")
    if not sep or not system or not rest.strip():
        raise ConfigError(f"{text!r} is not a table identity", where=where, hint=_HINT)
    system, rest = system.strip().lower(), rest.strip()
    if system == "file":
        return file_table(_under(root, rest))
    parts = rest.split(".")
    if len(parts) > 3 or not all(parts):
        raise ConfigError(
            f"{text!r}: expected at most database.schema.name after '{system}:'",
            where=where,
            hint=_HINT,
        )
    name = parts[-1]
    schema = parts[-2] if len(parts) > 1 else None
    database = parts[-3] if len(parts) > 2 else None
    if system == "duckdb":
        return duckdb_table(warehouse, name, schema=schema or "main", database=database)
    return table(system, name, schema=schema, database=database)


def _from_mapping(value: Mapping[str, Any], *, root: Path, warehouse: Path, where: str) -> TableRef:
    unknown = sorted(set(value) - _FIELDS)
    if unknown or "system" not in value or "name" not in value:
        problem = f"unknown fields {unknown}" if unknown else "system and name are required"
        raise ConfigError(f"table identity {dict(value)!r}: {problem}", where=where, hint=_HINT)
    system = str(value["system"]).lower()
    name = str(value["name"])
    schema = value.get("schema")
    database = value.get("database")
    location = value.get("location")
    if system == "duckdb":
        db_file = _under(root, str(location)) if location else warehouse
        return duckdb_table(db_file, name, schema=schema or "main", database=database)
    if system == "file":
        base = _under(root, str(location)) if location else root
        return file_table(base / name)
    return table(system, name, schema=schema, database=database, location=location)


def _under(root: Path, text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else (root / path).resolve()

"""Physical identity: the relation (table, view, file set) an asset writes or reads.

Two assets produced by different tools link when one's ``reads`` equals the other's ``table``.
Equality uses the normalised identity: system, location, database, schema, name, case-folded.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import msgspec

__all__ = ["TableRef", "duckdb_table", "file_table", "table"]


def _norm(part: str | None) -> str:
    """Case-fold and strip identifier quoting, as SQL engines resolve unquoted names."""
    if not part:
        return ""
    part = part.strip()
    if len(part) >= 2 and part[0] == part[-1] and part[0] in '"`[':
        part = part[1:-1]
    return part.lower()


class TableRef(msgspec.Struct, frozen=True, kw_only=True, order=True):
    """A normalised reference to a physical relation.

    ``system`` is the engine (``duckdb``, ``postgres``, ``snowflake``, ``file``...);
    ``location`` says which instance: a DuckDB file's absolute path, ``host:port`` for
    PostgreSQL, the account for Snowflake, a directory for files. ``database``, ``schema`` and
    ``name`` locate the relation inside it. Build with :func:`table` to get normalisation.
    """

    system: str
    location: str = ""
    database: str = ""
    schema: str = ""
    name: str

    @property
    def namespace(self) -> str:
        """OpenLineage-style namespace, e.g. ``duckdb:///data/warehouse.duckdb``."""
        return f"{self.system}://{self.location}"

    @property
    def qualified_name(self) -> str:
        """``database.schema.name`` with empty parts left out."""
        return ".".join(filter(None, (self.database, self.schema, self.name)))

    def __str__(self) -> str:
        return f"{self.namespace}/{self.qualified_name}"

    def to_dict(self) -> dict[str, str]:
        """The JSON form (``assets list --json``), with namespace and qualified name."""
        return {
            "system": self.system,
            "location": self.location,
            "database": self.database,
            "schema": self.schema,
            "name": self.name,
            "namespace": self.namespace,
            "qualified_name": self.qualified_name,
        }


def table(
    system: str,
    name: str,
    *,
    schema: str | None = None,
    database: str | None = None,
    location: str | os.PathLike[str] | None = None,
) -> TableRef:
    """Build a normalised ``TableRef``.

    For DuckDB the location is the database file (made absolute) and the database defaults to
    the file's stem, which is the catalog name DuckDB gives an attached file; so dbt's
    ``"warehouse"."main"."orders"``, Sling's ``main.orders`` and a DuckDB IO manager's table all
    resolve to one identity.
    """
    system = _norm(system)
    loc = "" if location is None else str(location)
    if system == "duckdb":
        return duckdb_table(loc or ":memory:", name, schema=schema or "main", database=database)
    if system in {"postgres", "postgresql"}:
        system = "postgres"
        schema = schema or "public"
    if system == "file":
        loc = str(Path(loc).resolve()) if loc else ""
        return TableRef(system="file", location=loc, name=name)
    return TableRef(
        system=system,
        location=loc.lower(),
        database=_norm(database),
        schema=_norm(schema),
        name=_norm(name),
    )


@functools.lru_cache(maxsize=256)
def _resolved_file(text: str) -> tuple[str, str]:
    """(absolute path, stem) of a database file; cached: a graph names the same warehouse
    file for thousands of assets, and each resolve is several system calls."""
    resolved = Path(text).expanduser().resolve()
    return str(resolved), resolved.stem


def duckdb_table(
    path: str | os.PathLike[str],
    name: str,
    *,
    schema: str = "main",
    database: str | None = None,
) -> TableRef:
    """A DuckDB relation in the database file ``path``."""
    text = str(path)
    loc, stem = (":memory:", "memory") if text == ":memory:" else _resolved_file(text)
    return TableRef(
        system="duckdb",
        location=loc,
        database=_norm(database) or stem.lower(),
        schema=_norm(schema),
        name=_norm(name),
    )


def file_table(path: str | os.PathLike[str]) -> TableRef:
    """A file or directory of files (e.g. a parquet dataset) identified by its absolute path."""
    resolved = Path(path).expanduser().resolve()
    return TableRef(system="file", location=str(resolved.parent), name=resolved.name)

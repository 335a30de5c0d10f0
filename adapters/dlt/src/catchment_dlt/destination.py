"""Where a pipeline loads: the dlt destination, and the catchment identity of its tables.

The default is the project's DuckDB warehouse, passed to dlt explicitly as
``dlt.destinations.duckdb(path)`` (``dlt.attach()`` and dlt's own default forget the path).
Any other dlt destination name is handed to dlt as is (dlt reads its credentials from its
own config and environment); its tables are named ``table(<destination>, name, schema=dataset,
location=..., database=...)`` so readers in other tools can match them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from catchment.errors import ConfigError
from catchment.tables import TableRef, duckdb_table, table

_DUCKDB_SUFFIXES = (".duckdb", ".db", ".ddb")


@dataclass(frozen=True)
class Target:
    """A resolved destination: its dlt type, the DuckDB file (for ``duckdb``) and identity parts."""

    kind: str
    path: Path | None = None
    location: str = ""
    database: str = ""
    reference: Any = None

    @property
    def is_duckdb(self) -> bool:
        return self.kind == "duckdb"

    def table(self, dataset: str, name: str) -> TableRef:
        """The physical identity of table ``name`` in ``dataset`` at this destination."""
        if self.is_duckdb and self.path is not None:
            return duckdb_table(self.path, name, schema=dataset)
        return table(
            self.kind,
            name,
            schema=dataset,
            database=self.database or None,
            location=self.location or None,
        )

    def describe(self) -> str:
        """A short, secret-free description for metadata and logs."""
        return f"duckdb://{self.path}" if self.is_duckdb else self.kind

    def to_dlt(self) -> Any:
        """The destination argument for ``dlt.pipeline`` (imports dlt)."""
        if self.is_duckdb:
            import dlt

            return dlt.destinations.duckdb(str(self.path))
        return self.reference if self.reference is not None else self.kind


def resolve_target(
    value: str | os.PathLike[str] | Any | None,
    *,
    warehouse: Path,
    root: Path,
    location: str | None = None,
    database: str | None = None,
    where: str = "destination",
) -> Target:
    """Turn a ``destination`` setting into a :class:`Target`.

    ``None``, ``"duckdb"`` or ``"warehouse"``: the project warehouse. ``"duckdb:///file"`` or a
    path ending in ``.duckdb``/``.db``: that DuckDB file (relative to the project folder). A dlt
    destination object: used as is. Any other string: a dlt destination name such as
    ``postgres``.
    """
    if value is None or value in ("duckdb", "warehouse"):
        return Target(kind="duckdb", path=warehouse.resolve())
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("duckdb:///"):
            return Target(kind="duckdb", path=_under(root, text[len("duckdb:///") :]))
        if text.lower().endswith(_DUCKDB_SUFFIXES):
            return Target(kind="duckdb", path=_under(root, text))
        if not text.replace("_", "").replace(".", "").isalnum():
            raise ConfigError(
                f"destination {value!r} is neither a DuckDB file nor a dlt destination name",
                where=where,
                hint="use 'duckdb' (the project warehouse), 'duckdb:///path/file.duckdb', "
                "a path ending in .duckdb, or a dlt destination name such as 'postgres'",
            )
        return Target(kind=text, location=location or "", database=database or "")
    name = getattr(value, "destination_name", None)
    if not isinstance(name, str):
        raise ConfigError(
            f"destination {value!r} is not a dlt destination",
            where=where,
            hint="pass a dlt destination (dlt.destinations.duckdb(path)), its name, or a path",
        )
    if name == "duckdb":
        credentials = getattr(value, "config_params", {}).get("credentials")
        if not isinstance(credentials, str | os.PathLike):
            raise ConfigError(
                "a dlt duckdb destination without a file path cannot be located",
                where=where,
                hint="pass dlt.destinations.duckdb('path/to/file.duckdb') or leave destination "
                "unset to use the project warehouse",
            )
        return Target(kind="duckdb", path=_under(root, os.fspath(credentials)), reference=value)
    return Target(kind=name, location=location or "", database=database or "", reference=value)


def _under(root: Path, text: str) -> Path:
    path = Path(text).expanduser()
    return (path if path.is_absolute() else root / path).resolve()

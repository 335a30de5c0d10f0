"""The built-in IO manager types ``memory``, ``filesystem`` and ``duckdb``: their YAML config and
the factories that build them for a project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from catchment.components import ProjectDefaults
from catchment.errors import ConfigError


class _FilesystemConfig(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    base_dir: str = ".catchment/storage"


class _DuckDBConfig(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid")
    path: str | None = None
    schema_: str = Field(default="main", alias="schema")


def _resolve(root: Path, value: str) -> Path:
    p = Path(value).expanduser()
    return p if p.is_absolute() else (root / p).resolve()


def memory_io_manager(config: dict[str, Any], defaults: ProjectDefaults) -> Any:
    """Keep values in this process (tests, notebooks)."""
    from catchment.io_managers import MemoryIOManager

    if config:
        raise ConfigError("the memory IO manager takes no config", hint="remove `config:`")
    return MemoryIOManager()


def filesystem_io_manager(config: dict[str, Any], defaults: ProjectDefaults) -> Any:
    """Pickle values under ``base_dir`` (relative to the project folder)."""
    from catchment.io_managers import FilesystemIOManager

    cfg = _FilesystemConfig.model_validate(config)
    base_dir = _resolve(defaults.root, cfg.base_dir)
    if base_dir.exists() and not base_dir.is_dir():
        raise ConfigError(
            f"base_dir {base_dir} is a file, not a folder", hint="name a folder for the values"
        )
    return FilesystemIOManager(base_dir)


def duckdb_io_manager(config: dict[str, Any], defaults: ProjectDefaults) -> Any:
    """Store dataframes as tables of a DuckDB file (the project's warehouse by default)."""
    from catchment.io_managers import DuckDBIOManager

    cfg = _DuckDBConfig.model_validate(config)
    path = _resolve(defaults.root, cfg.path) if cfg.path else defaults.warehouse
    if path.is_dir():
        raise ConfigError(
            f"path {path} is a folder, not a DuckDB file",
            hint="name a file, e.g. warehouse.duckdb (it is created on first use)",
        )
    return DuckDBIOManager(path, default_schema=cfg.schema_)

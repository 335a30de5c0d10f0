"""Helpers the conformance kit and adapter tests share: write and load a temporary project,
snapshot a folder, list a warehouse's tables, run the CLI, describe specs canonically."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catchment.definitions import AssetsDefinition
    from catchment.project import Project
    from catchment.specs import AssetSpec

__all__ = [
    "CliResult",
    "describe_definitions",
    "load_isolated",
    "run_cli",
    "snapshot_files",
    "warehouse_of",
    "warehouse_tables",
    "write_project",
]

CACHE_DIR = ".catchment"
DESCRIBE_MARKER = "catchment-describe:"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def write_project(
    root: Path,
    components: Sequence[Mapping[str, Any]],
    *,
    name: str = "conformance",
    resources: Mapping[str, Any] | None = None,
    io_managers: Mapping[str, Any] | None = None,
    defaults: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``root/catchment.yaml`` with these components (``{type, name, attributes}``)
    and return ``root``; the folder is created when missing."""
    import yaml

    root.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"project": {"name": name}}
    if defaults:
        data["defaults"] = dict(defaults)
    if resources:
        data["resources"] = dict(resources)
    if io_managers:
        data["io_managers"] = dict(io_managers)
    data["components"] = [dict(c) for c in components]
    (root / "catchment.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    return root


def load_isolated(path: Path | str, adapters: Iterable[str] | None = None) -> Project:
    """Load a project with a fresh plugin registry (``adapters`` limits which entry points
    load, like ``CATCHMENT_ADAPTERS``), so one load never reuses another's state."""
    from catchment.plugins import PluginRegistry
    from catchment.project import load_project

    registry = PluginRegistry(allow=adapters)
    registry.load_entry_points()
    return load_project(path, registry=registry)


def snapshot_files(root: Path) -> dict[str, str]:
    """``relative path -> sha256`` of every file under ``root``, leaving out ``.catchment/``
    (catchment's and adapters' caches) and ``__pycache__`` folders (Python's import cache)."""
    out: dict[str, str] = {}
    for folder, dirs, files in os.walk(root):
        rel_folder = os.path.relpath(folder, root)
        dirs[:] = sorted(
            d for d in dirs if d != "__pycache__" and not (rel_folder == "." and d == CACHE_DIR)
        )
        for name in files:
            path = Path(folder) / name
            try:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
            except OSError as exc:
                digest = f"unreadable: {exc}"
            out[os.path.relpath(path, root)] = digest
    return out


def warehouse_of(project_dir: Path) -> Path:
    """The project's DuckDB warehouse file, read from ``catchment.yaml`` without loading it
    (loading would run discovery)."""
    import yaml

    file = project_dir / "catchment.yaml"
    data = yaml.safe_load(file.read_text()) if file.is_file() else None
    raw = "warehouse.duckdb"
    if isinstance(data, dict) and isinstance(data.get("defaults"), dict):
        raw = str(data["defaults"].get("warehouse") or raw)
    path = Path(raw).expanduser()
    return path if path.is_absolute() else (project_dir / path).resolve()


def warehouse_tables(path: Path) -> set[str] | None:
    """``catalog.schema.name`` of every table and view in the DuckDB file, None when the
    file does not exist. Opened read-only, so looking never changes it."""
    if not path.exists():
        return None
    import duckdb

    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "select database_name, schema_name, table_name from duckdb_tables() "
            "union all select database_name, schema_name, view_name from duckdb_views() "
            "where not internal"
        ).fetchall()
    finally:
        con.close()
    return {".".join(map(str, r)) for r in rows}


@dataclass(frozen=True)
class CliResult:
    """What one ``catchment`` command printed and how it exited."""

    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def describe(self) -> str:
        """The command and its output, for assertion messages."""
        return (
            f"`catchment {' '.join(self.args)}` exited {self.returncode}\n"
            f"--- stdout\n{self.stdout[-3000:]}\n--- stderr\n{self.stderr[-3000:]}"
        )


def run_cli(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 600,
) -> CliResult:
    """Run ``python -m catchment ARGS`` with this interpreter in a subprocess (the real CLI,
    a fresh process: entry points scanned anew)."""
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.run(
        [sys.executable, "-m", "catchment", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return CliResult(tuple(args), proc.returncode, proc.stdout, proc.stderr)


def _plain(value: Any) -> Any:
    """A JSON-able, address-free form of ``value`` for comparisons across processes."""
    text = json.dumps(value, sort_keys=True, default=repr)
    return json.loads(_ADDRESS.sub("", text))


def describe_spec(spec: AssetSpec) -> dict[str, Any]:
    """Every declared field of a spec, canonically (ordering of mappings ignored)."""
    return {
        "key": spec.key.to_string(),
        "deps": [[d.key.to_string(), repr(d.partition_mapping)] for d in spec.deps],
        "description": spec.description,
        "group": spec.group,
        "owners": list(spec.owners),
        "tags": _plain(dict(spec.tags)),
        "kinds": list(spec.kinds),
        "metadata": _plain(dict(spec.metadata)),
        "code_version": spec.code_version,
        "partitions": _ADDRESS.sub("", repr(spec.partitions)),
        "io_manager_key": spec.io_manager_key,
        "checks": [[c.id, c.severity, c.blocking, c.description] for c in spec.checks],
        "table": spec.table.to_dict() if spec.table is not None else None,
        "reads": [r.to_dict() for r in spec.reads],
    }


def describe_definitions(definitions: Iterable[AssetsDefinition]) -> list[dict[str, Any]]:
    """Every definition and its specs, canonically: two equal descriptions mean discovery
    declared the same assets."""
    return [
        {
            "name": d.name,
            "adapter": d.adapter,
            "component": d.component,
            "source": d.source,
            "can_subset": d.can_subset,
            "required_resources": sorted(d.required_resources),
            "check_specs": [[c.id, c.severity, c.blocking] for c in d.check_specs],
            "metadata": _plain(dict(d.metadata)),
            "specs": [describe_spec(s) for s in d.specs],
        }
        for d in definitions
    ]


def _main(argv: Sequence[str]) -> int:
    """``python -m catchment.testing.project PROJECT [ADAPTER,...]``: print the project's
    described definitions as JSON (what the determinism rule compares across processes)."""
    adapters = argv[1].split(",") if len(argv) > 1 and argv[1] else None
    project = load_isolated(argv[0], adapters)
    text = json.dumps(describe_definitions(project.definitions), sort_keys=True)
    print(f"{DESCRIBE_MARKER}{text}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(_main(sys.argv[1:]))

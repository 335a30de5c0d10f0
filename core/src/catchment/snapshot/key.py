"""The snapshot's key: a hash of everything a project's definitions are a function of.

That is the project's files (path, size and mtime of each, walked cheaply; the content of
``catchment.yaml`` and of lock files), folders outside the project that components point at,
the environment's installed distributions (adapters among them), the interpreter, the
environment variables ``catchment.yaml`` reads and the date when it uses ``today()``.

Data is not part of it: files runs write (by suffix), and the data paths ``catchment.yaml``
names (the files its sources' globs match, filesystem IO managers' ``base_dir``, the
warehouse), so new data makes readers stale without forcing a load. A file with a code suffix
(``.py``, ``.sql``, ``.yaml``...) counts even there: a code change never slips by. dbt's
``target/manifest.json``, kept because the dbt adapter reads it, counts as it was before
catchment's own dbt runs rewrote it (``catchment.run_rewrites``): a run is not an edit.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import time
from collections.abc import Iterable
from operator import attrgetter
from pathlib import Path

from catchment.filestats import Shared, current
from catchment.run_rewrites import key_line

__all__ = [
    "CODE_SUFFIXES",
    "EXCLUDED_DIRS",
    "EXCLUDED_NAMES",
    "EXCLUDED_SUFFIXES",
    "LOCK_FILES",
    "UncacheableError",
    "data_paths",
    "project_key",
    "racy_threshold",
]

EXCLUDED_DIRS = frozenset(
    {
        ".catchment",
        ".venv",
        "venv",
        ".git",
        "target",
        "logs",
        "__pycache__",
        "node_modules",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        "spark-warehouse",
        "metastore_db",
        "_delta_log",
    }
)
"""Folders never walked: caches, environments and tool output (dbt's ``target/`` except its
``manifest.json``; Spark's local warehouse and Derby metastore; a Delta table's log)."""

EXCLUDED_SUFFIXES = (
    ".duckdb",
    ".wal",
    ".db",
    ".db-journal",
    ".db-wal",
    ".db-shm",
    ".sqlite",
    ".sqlite3",
    ".log",
    ".pyc",
    ".tmp",
    ".parquet",
    ".crc",
)
"""Files runs write (warehouses, run stores, logs, Spark's Parquet parts and their checksums):
materializing must not invalidate."""

EXCLUDED_NAMES = frozenset({"_SUCCESS", ".user.yml"})
"""Files runs write that their suffix does not tell: Spark's marker of a finished output, and
the anonymous id dbt writes beside ``profiles.yml`` when its usage tracking is on."""

LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "requirements.lock")

CODE_SUFFIXES = (".py", ".pyi", ".sql", ".yaml", ".yml", ".toml", ".cfg", ".ini", ".j2", ".jinja")
"""Files that stay part of the key even inside a data path (definitions may be read from
them)."""

_ENV_CALL = re.compile(r"""env\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")
_KEEPS = ("manifest.json",)  # read by the dbt adapter inside target/


_name = attrgetter("name")


class UncacheableError(Exception):
    """The project's definitions change by themselves (``now()`` in catchment.yaml)."""


_RACY_SECONDS = 2.0
"""Files changed this recently are also hashed by content: an edit that keeps the size within
the file system's timestamp granularity must still change the key (git's "racy clean")."""


class DataPaths:
    """The data ``catchment.yaml`` names inside the project: files (a source glob's matches,
    the warehouse) and folders (a filesystem IO manager's ``base_dir``) left out of the key,
    but for files with a code suffix."""

    def __init__(self, files: Iterable[str] = (), folders: Iterable[str] = ()):
        self.files = frozenset(files)
        self.folders = tuple(sorted(folders))

    def __bool__(self) -> bool:
        return bool(self.files or self.folders)

    def left_out(self, path: str, name: str, inside: bool) -> bool:
        """Whether file ``path`` (``inside`` a data folder) is data, not code."""
        return (inside or path in self.files) and not name.endswith(CODE_SUFFIXES)


NO_DATA = DataPaths()


def data_paths(root: Path, text: bytes) -> DataPaths:
    """The data paths that ``catchment.yaml`` (its bytes ``text``) names under ``root``: the
    files its ``sources:`` globs match, its filesystem IO managers' ``base_dir`` folders and
    its warehouse. Templated values (``{{ ... }}``) are skipped: they stay part of the key."""
    if b"glob" not in text and b"base_dir" not in text and b"warehouse" not in text:
        return NO_DATA
    import glob as globbing

    import yaml

    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return NO_DATA  # the load reports it; nothing is left out
    if not isinstance(data, dict):
        return NO_DATA
    top = os.path.normpath(str(root))

    def inside(value: object) -> str | None:
        if not isinstance(value, str) or not value or "{{" in value:
            return None
        path = os.path.normpath(os.path.join(top, value))
        return path if path.startswith(top + os.sep) else None  # never the root itself

    files: set[str] = set()
    folders: set[str] = set()
    sources = data.get("sources")
    for source in sources if isinstance(sources, list) else ():
        observe = source.get("observe") if isinstance(source, dict) else None
        pattern = inside(observe.get("glob")) if isinstance(observe, dict) else None
        if pattern is not None:
            matched = globbing.glob(pattern, recursive=True)
            files.update(os.path.normpath(p) for p in matched)
    managers = data.get("io_managers")
    for entry in managers.values() if isinstance(managers, dict) else ():
        if isinstance(entry, dict) and entry.get("type") == "filesystem":
            config = entry.get("config")
            folder = inside(config.get("base_dir")) if isinstance(config, dict) else None
            if folder is not None:
                folders.add(folder)
    defaults = data.get("defaults")
    warehouse = inside(defaults.get("warehouse")) if isinstance(defaults, dict) else None
    if warehouse is not None:
        files.update((warehouse, warehouse + ".wal"))
    return DataPaths(files, folders)


def _walk(
    top: str,
    out: list[str],
    racy_after: int,
    shared: Shared | None,
    data: DataPaths = NO_DATA,
    in_data: bool = False,
) -> None:
    """Append ``path size mtime`` of every file under ``top`` (sorted walk, exclusions; the
    files of ``data`` left out); each folder's sorted entries and each file's stat and line are
    kept in ``shared`` too when given (``catchment.filestats``)."""
    try:
        entries = sorted(os.scandir(top), key=_name)
    except OSError:
        return
    files = None
    if shared is not None:
        shared.folders[top] = entries
        files = shared.files
    for entry in entries:
        name = entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                if name == "target":
                    for keep in _KEEPS:
                        _kept(os.path.join(entry.path, keep), out)
                if name not in EXCLUDED_DIRS:
                    inner = in_data or (bool(data) and entry.path in data.folders)
                    _walk(entry.path, out, racy_after, shared, data, inner)
            elif (
                not name.endswith(EXCLUDED_SUFFIXES)
                and name not in EXCLUDED_NAMES
                and not (data and data.left_out(entry.path, name, in_data))
            ):
                st = entry.stat()
                line = f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}"  # as lines_of makes it
                if files is not None:
                    files[entry.path] = (st, line)
                out.append(line)
                if st.st_mtime_ns >= racy_after:
                    with open(entry.path, "rb") as f:
                        out.append(hashlib.sha256(f.read()).hexdigest())
        except OSError:
            continue


def _kept(path: str, out: list[str]) -> None:
    """Append the line of a file kept inside a skipped folder: its stat line, or the one it
    had before catchment's own runs rewrote it (``catchment.run_rewrites``)."""
    line = key_line(path)
    if line is not None:
        out.append(line)


def _packages() -> list[str]:
    """The modification times of the environment's package folders: installing, upgrading or
    removing any distribution (an adapter among them) adds or renames a ``*.dist-info``
    folder there. Cheaper than reading every distribution's metadata (0.08 s with 200)."""
    import sysconfig

    from catchment import __version__

    out = [f"catchment {__version__}"]
    paths = sysconfig.get_paths()
    for folder in sorted({paths["purelib"], paths["platlib"]}):
        try:
            out.append(f"{folder}\0{os.stat(folder).st_mtime_ns}")
        except OSError:
            out.append(folder)
    return out


def _environment(root: Path) -> list[str]:
    """The interpreter, the environment's prefix and the content of lock files."""
    out = [sys.version, sys.prefix, sys.exec_prefix]
    for folder in (root, *root.parents):
        for name in LOCK_FILES:
            lock = folder / name
            if lock.is_file():
                out.append(f"{lock}\0{hashlib.sha256(lock.read_bytes()).hexdigest()}")
        if any((folder / name).is_file() for name in LOCK_FILES):
            break
    return out


def racy_threshold() -> int:
    """The ``racy_after`` of a key computed now: files changed in the last seconds are
    hashed by content (a snapshot keeps it, so its key is recomputed the same way)."""
    return time.time_ns() - int(_RACY_SECONDS * 1e9)


def project_key(file: Path, watched: Iterable[str] = (), racy_after: int | None = None) -> str:
    """The key of the project whose ``catchment.yaml`` is ``file`` (with ``watched`` folders
    outside it; files modified after ``racy_after`` ns, default two seconds ago, hashed by
    content too); ``UncacheableError`` when no key can stay valid."""
    text = file.read_bytes()
    if b"now(" in text:
        raise UncacheableError(f"{file.name} uses now(), so its definitions change every second")
    h = hashlib.sha256()
    h.update(text)
    root = file.parent
    parts: list[str] = []
    if racy_after is None:
        racy_after = racy_threshold()
    shared = current()
    _walk(os.path.normpath(str(root)), parts, racy_after, shared, data_paths(root, text))
    for folder in watched:
        _walk(folder, parts, racy_after, shared)
    parts.extend(_packages())
    parts.extend(_environment(root))
    decoded = text.decode("utf-8", "replace")
    for name in sorted(set(_ENV_CALL.findall(decoded))):
        parts.append(f"env {name}={os.environ.get(name)}")
    for name in sorted(n for n in os.environ if n.startswith("CATCHMENT_")):
        parts.append(f"env {name}={os.environ[name]}")
    if "today(" in decoded or "yesterday(" in decoded:
        import datetime

        parts.append(f"date {datetime.date.today().isoformat()}")
    h.update("\n".join(parts).encode("utf-8", "surrogateescape"))
    return h.hexdigest()

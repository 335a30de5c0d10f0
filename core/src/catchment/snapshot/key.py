"""The snapshot's key: a hash of everything a project's definitions are a function of.

That is the project's files (path, size and mtime of each, walked cheaply; the content of
``catchment.yaml`` and of lock files), folders outside the project that components point at,
the environment's installed distributions (adapters among them), the interpreter, the
environment variables ``catchment.yaml`` reads and the date when it uses ``today()``.
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

from catchment.filestats import current

__all__ = [
    "EXCLUDED_DIRS",
    "EXCLUDED_SUFFIXES",
    "LOCK_FILES",
    "UncacheableError",
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
    }
)
"""Folders never walked: caches, environments and tool output (dbt's ``target/`` except its
``manifest.json``)."""

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
)
"""Files runs write (warehouses, run stores, logs): materializing must not invalidate."""

LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "requirements.lock")

_ENV_CALL = re.compile(r"""env\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")
_KEEPS = ("manifest.json",)  # read by the dbt adapter inside target/


_name = attrgetter("name")


class UncacheableError(Exception):
    """The project's definitions change by themselves (``now()`` in catchment.yaml)."""


_RACY_SECONDS = 2.0
"""Files changed this recently are also hashed by content: an edit that keeps the size within
the file system's timestamp granularity must still change the key (git's "racy clean")."""


def _walk(
    top: str, out: list[str], racy_after: int, shared: dict[str, os.stat_result] | None
) -> None:
    """Append ``path size mtime`` of every file under ``top`` (sorted walk, exclusions);
    each file's stat is kept in ``shared`` too when given (``catchment.filestats``)."""
    try:
        entries = sorted(os.scandir(top), key=_name)
    except OSError:
        return
    for entry in entries:
        name = entry.name
        try:
            if entry.is_dir(follow_symlinks=False):
                if name == "target":
                    for keep in _KEEPS:
                        _stat(os.path.join(entry.path, keep), out)
                if name not in EXCLUDED_DIRS:
                    _walk(entry.path, out, racy_after, shared)
            elif not name.endswith(EXCLUDED_SUFFIXES):
                st = entry.stat()
                if shared is not None:
                    shared[entry.path] = st
                out.append(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}")
                if st.st_mtime_ns >= racy_after:
                    with open(entry.path, "rb") as f:
                        out.append(hashlib.sha256(f.read()).hexdigest())
        except OSError:
            continue


def _stat(path: str, out: list[str]) -> None:
    try:
        st = os.stat(path)
    except OSError:
        return
    out.append(f"{path}\0{st.st_size}\0{st.st_mtime_ns}")


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
    _walk(str(root), parts, racy_after, shared)
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

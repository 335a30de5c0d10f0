"""Which installed adapter serves which type, kept per environment in catchment's user cache
(``catchment.user_cache``), so that loading a project imports only the adapters it names (as
Dagster's ``dg`` caches its component registry).

An entry is written from a full load of every entry point (``PluginRegistry``) and records each
adapter's outcome: the types it registered, and whether it implements a life-cycle hook (run
listeners, observers, graph policies), which makes it load for every project. The index is
trusted only while its key matches: the interpreter, every ``sys.path`` folder's modification
time (installing, upgrading or removing a distribution changes its folder), the environment
variables that steer loading, catchment's version, and the size and modification time of each
indexed adapter's own Python files (an edit to an editable adapter counts).
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable
from pathlib import Path

import msgspec

from catchment.atomic_write import write_cache

__all__ = [
    "AdapterIndex",
    "IndexedAdapter",
    "default_index_path",
    "index_key",
    "read_index",
    "write_index",
]

FORMAT_VERSION = 2
_ENVIRONMENT = ("CATCHMENT_ADAPTERS", "CATCHMENT_STRICT", "CATCHMENT_ADAPTER_TIMEOUT")


class IndexedAdapter(msgspec.Struct, frozen=True):
    """One entry point's outcome in the full load the index was written from."""

    name: str
    value: str
    distribution: str | None
    version: str | None
    api: str | None
    status: str
    error: str | None
    hint: str | None
    serves: tuple[str, ...]
    """``kind:name`` of each type it registered (``component type:dbt``), as the registry's
    ``owners`` spell them, in registration order."""
    always: bool
    """It implements a hook besides registration, so it loads for every project."""
    code: str | None
    """The folder of its Python files (stamped in the key); None when it always loads."""

    @property
    def component_types(self) -> list[str]:
        """The component types it registered, in order."""
        kind = "component type:"
        return [s[len(kind) :] for s in self.serves if s.startswith(kind)]


class AdapterIndex(msgspec.Struct, frozen=True):
    """The adapters of one environment, in the order a full load registers them."""

    format: int
    key: str
    adapters: tuple[IndexedAdapter, ...]


def _code_stamp(folder: str, out: list[str]) -> None:
    """Append ``path size mtime`` of every ``.py`` file under ``folder`` (sorted)."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        out.append(f"{folder}\0missing")
        return
    for entry in entries:
        if entry.is_dir(follow_symlinks=False):
            if entry.name != "__pycache__":
                _code_stamp(entry.path, out)
        elif entry.name.endswith(".py"):
            st = entry.stat()
            out.append(f"{entry.path}\0{st.st_size}\0{st.st_mtime_ns}")


def _site_folders() -> list[str]:
    """``sys.path`` without the entry Python puts first for the running script or ``-m``/``-c``
    (its folder or the working directory): it differs between a command and the child
    processes it starts, which must share the index."""
    script = os.path.dirname(os.path.abspath(sys.argv[0])) if sys.argv and sys.argv[0] else ""
    try:
        skip = {"", os.getcwd(), script}
    except OSError:  # the working directory is gone
        skip = {"", script}
    return [p for p in sys.path if p not in skip]


def index_key(code_folders: Iterable[str]) -> str:
    """The key of an index whose adapters' code lives in ``code_folders``, in this process's
    environment."""
    from catchment import __version__
    from catchment.hookspecs import CORE_API_VERSION

    parts = [sys.version, sys.prefix, __version__, CORE_API_VERSION]
    parts.extend(f"{name}={os.environ.get(name)}" for name in _ENVIRONMENT)
    for folder in _site_folders():
        try:
            parts.append(f"{folder}\0{os.stat(folder or '.').st_mtime_ns}")
        except OSError:
            parts.append(folder)
    for folder in sorted(set(code_folders)):
        _code_stamp(folder, parts)
    return hashlib.sha256("\n".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def default_index_path() -> Path | None:
    """This environment's index file (None when the user cache is off): one per interpreter
    and import path, so processes with other paths do not overwrite each other's."""
    from catchment.user_cache import cache_file

    return cache_file("adapters", "\0".join([sys.prefix, sys.executable, *_site_folders()]))


_decoder = msgspec.msgpack.Decoder(AdapterIndex)


def read_index(path: Path) -> AdapterIndex | None:
    """The index at ``path`` when it exists, reads whole and its key matches now; else None."""
    try:
        index = _decoder.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    if index.format != FORMAT_VERSION:
        return None
    folders = [a.code for a in index.adapters if a.code is not None]
    return index if index.key == index_key(folders) else None


def write_index(path: Path, adapters: tuple[IndexedAdapter, ...]) -> None:
    """Store ``adapters`` under the key of now (atomically; a failure only costs the next
    load a full scan)."""
    key = index_key(a.code for a in adapters if a.code is not None)
    data = msgspec.msgpack.encode(AdapterIndex(FORMAT_VERSION, key, adapters))
    write_cache(path, data)

"""Loading a workspace's projects, each in its own environment, never in this process.

A project is loaded by ``python -m catchment.snapshot PROJECT_DIR`` run with the project's
own Python (or ``uv run --project``), which prints the definitions snapshot; the snapshots are
read back here (``project_from_snapshot``: no project code, no adapter imported). Projects load
in parallel, each under its own timeout.

An unchanged project is not even spawned: the workspace keeps each project's last snapshot
in ``.catchment/workspace/PROJECT.entry`` under a key computed here, cheaply: the project's own
snapshot key (its files, lock files, watched folders, environment variables) plus a
fingerprint of its environment (the interpreter and the ``site-packages`` folders, whose
modification time changes with every install). A project that fails (no folder, no Python,
an import error, a dependency conflict, a timeout) is reported with its error; the last
snapshot it had, if any, still tells which tables it writes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import subprocess
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import msgspec

from catchment.snapshot.format import FORMAT_VERSION, Snapshot, decode, head
from catchment.snapshot.view import ReadOnlyProject
from catchment.workspace.model import ProjectEntry, Workspace

__all__ = ["LoadedProject", "environment_fingerprint", "load_projects"]

_ENTRY_VERSION = 1
_MAX_ERROR_LINES = 15


class _Entry(msgspec.Struct):
    """A cached snapshot and the key (computed in the workspace's process) it is valid for."""

    version: int
    key: str
    watched: tuple[str, ...]
    racy_after: int
    snapshot: bytes


@dataclass
class LoadedProject:
    """One project of the workspace after loading: its read-only project, or its error."""

    entry: ProjectEntry
    project: ReadOnlyProject | None = None
    error: str | None = None
    cached: bool = False
    seconds: float = 0.0
    previous: Snapshot | None = None  # the last good snapshot of a project that failed now

    @property
    def ok(self) -> bool:
        """True when the project loaded (its own problems aside)."""
        return self.project is not None


def _site_packages(prefix: Path) -> list[Path]:
    found = [*prefix.glob("lib/python*/site-packages"), prefix / "Lib" / "site-packages"]
    return sorted(p for p in found if p.is_dir())


def environment_fingerprint(entry: ProjectEntry) -> list[str]:
    """What the project's environment is, cheaply: the interpreter (by ``stat``), its
    ``pyvenv.cfg`` and the modification time of its ``site-packages`` folders (an install,
    upgrade or removal changes it); for ``uv_project`` also ``uv.lock`` and ``pyproject.toml``."""
    out: list[str] = [f"format {FORMAT_VERSION}"]
    prefixes: list[Path] = []
    if entry.python is not None:
        out.append(_stat(entry.python))
        prefixes.append(entry.python.parent.parent)
    if entry.uv_project is not None:
        for name in ("uv.lock", "pyproject.toml"):
            p = entry.uv_project / name
            out.append(f"{p}\0{_digest(p)}")
        prefixes.append(entry.uv_project / ".venv")
    for prefix in prefixes:
        out.append(_stat(prefix / "pyvenv.cfg"))
        out.extend(_stat(p) for p in _site_packages(prefix))
    return out


def _stat(path: Path) -> str:
    try:
        st = path.stat()
    except OSError:
        return f"{path}\0-"
    return f"{path}\0{st.st_size}\0{st.st_mtime_ns}"


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return "-"


def _entry_path(ws: Workspace, entry: ProjectEntry) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", entry.name)
    return ws.cache_dir / f"{safe}.entry"


def _key(entry: ProjectEntry, file: Path, watched: Sequence[str], racy_after: int) -> str:
    """The workspace's key of one project (see the module's docstring)."""
    from catchment.snapshot.key import project_key

    h = hashlib.sha256(project_key(file, watched, racy_after).encode())
    h.update("\n".join(environment_fingerprint(entry)).encode("utf-8", "surrogateescape"))
    return h.hexdigest()


def _read_entry(path: Path) -> _Entry | None:
    try:
        entry = msgspec.msgpack.decode(path.read_bytes(), type=_Entry)
    except (OSError, msgspec.DecodeError, msgspec.ValidationError):
        return None
    return entry if entry.version == _ENTRY_VERSION else None


def _cached(ws: Workspace, entry: ProjectEntry, file: Path) -> _Entry | None:
    """The cache entry of the project when it is still valid."""
    from catchment.snapshot.key import UncacheableError

    cached = _read_entry(_entry_path(ws, entry))
    if cached is None:
        return None
    try:
        key = _key(entry, file, cached.watched, cached.racy_after)
    except (UncacheableError, OSError):
        return None
    return cached if key == cached.key else None


def _locate(entry: ProjectEntry) -> Path:
    """The project's ``catchment.yaml``; ``LookupError`` saying what is missing."""
    if not entry.path.is_dir():
        raise LookupError(f"the project folder {entry.path} does not exist")
    for name in ("catchment.yaml", "catchment.yml"):
        if (entry.path / name).is_file():
            return (entry.path / name).resolve()
    raise LookupError(f"no catchment.yaml in {entry.path}")


def _check_environment(entry: ProjectEntry) -> str | None:
    """Why the project's environment cannot run, or None."""
    if entry.python is not None and not entry.python.exists():
        return (
            f"its Python {entry.python} does not exist: create the environment "
            f"(e.g. `uv venv {entry.python.parent.parent}` and install catchment and the "
            "project's dependencies into it)"
        )
    if entry.uv_project is not None and not (entry.uv_project / "pyproject.toml").is_file():
        return f"uv_project {entry.uv_project} has no pyproject.toml"
    return None


def _run(command: list[str], cwd: Path, timeout: float) -> tuple[int | None, bytes, bytes]:
    """Run ``command`` in a session of its own; on timeout kill the whole session (``uv run``
    starts Python as a grandchild) and return (None, ...)."""
    proc = subprocess.Popen(
        command,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        out, err = proc.communicate()
        return None, out, err
    return proc.returncode, out, err


def _error_text(stderr: bytes) -> str:
    """The useful end of a failed load's stderr (an import error's last lines), redacted."""
    from catchment.secrets import redact

    lines = [ln for ln in stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    if not lines:
        return "it exited without saying why"
    tail = lines[-_MAX_ERROR_LINES:]
    return redact("\n".join(tail))


def _fresh(ws: Workspace, entry: ProjectEntry, file: Path) -> LoadedProject:
    """Load the project in its own environment and cache its snapshot."""
    from catchment.snapshot.cache import _watched, write_snapshot
    from catchment.snapshot.key import UncacheableError, racy_threshold

    started = time.perf_counter()
    result = LoadedProject(entry)
    try:
        watched = _watched(file)
    except Exception:  # the child's load reports a broken catchment.yaml
        watched = ()
    racy_after = racy_threshold()
    try:
        key: str | None = _key(entry, file, watched, racy_after)
    except (UncacheableError, OSError):
        key = None
    command = entry.command("-m", "catchment.snapshot", str(file.parent))
    try:
        code, out, err = _run(command, ws.root, entry.load_timeout)
    except OSError as exc:
        result.error = f"its environment cannot start ({entry.environment}): {exc.strerror}"
        return result
    result.seconds = time.perf_counter() - started
    if code is None:
        result.error = (
            f"loading it took more than {entry.load_timeout:g} s and was stopped "
            "(raise load_timeout: for it in the workspace file)"
        )
        return result
    if code != 0:
        result.error = f"loading it in its environment failed ({entry.environment}):\n" + (
            _error_text(err)
        )
        return result
    try:
        version, _ = head(out)
        if version != FORMAT_VERSION:
            result.error = (
                f"its environment's catchment writes definitions snapshots of format {version}, "
                f"this one reads format {FORMAT_VERSION}: install the same catchment version "
                "in both"
            )
            return result
        result.project = _read_only(out)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, KeyError, TypeError) as exc:
        result.error = f"its environment printed no readable definitions snapshot ({exc})"
        return result
    if key is not None:
        data = msgspec.msgpack.encode(_Entry(_ENTRY_VERSION, key, watched, racy_after, out))
        with contextlib.suppress(OSError):  # the next command loads it again
            write_snapshot(_entry_path(ws, entry), data)
    return result


def _read_only(data: bytes) -> ReadOnlyProject:
    """The read-only project of snapshot bytes, without building its own graph (the
    workspace builds one graph of every project's definitions)."""
    from catchment.snapshot.cache import project_from_snapshot

    snapshot = decode(data)
    return project_from_snapshot(msgspec.structs.replace(snapshot, graph_built=False))


def _previous(ws: Workspace, entry: ProjectEntry) -> Snapshot | None:
    cached = _read_entry(_entry_path(ws, entry))
    if cached is None:
        return None
    try:
        return decode(cached.snapshot)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, KeyError, TypeError):
        return None


def _from_cache(ws: Workspace, entry: ProjectEntry) -> LoadedProject | None:
    """The project from the workspace's cache when its key still matches (no subprocess);
    a project whose folder is missing is a result too (an error); None: load it."""
    try:
        file = _locate(entry)
    except LookupError as exc:
        return LoadedProject(entry, error=str(exc))
    started = time.perf_counter()
    cached = _cached(ws, entry, file)
    if cached is None:
        return None
    try:
        project = _read_only(cached.snapshot)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, KeyError, TypeError):
        return None
    return LoadedProject(entry, project, cached=True, seconds=time.perf_counter() - started)


def _load_fresh(ws: Workspace, entry: ProjectEntry) -> LoadedProject:
    try:
        file = _locate(entry)
    except LookupError as exc:
        return LoadedProject(entry, error=str(exc))
    problem = _check_environment(entry)
    result = LoadedProject(entry, error=problem) if problem else _fresh(ws, entry, file)
    if not result.ok:
        result.previous = _previous(ws, entry)
    return result


def load_projects(
    ws: Workspace, *, no_cache: bool = False, max_parallel: int | None = None
) -> list[LoadedProject]:
    """Every project of ``ws``, in the workspace file's order: from the workspace's cache
    when unchanged (checked here, one after the other: no thread, no process), the others
    loaded by subprocesses of their environments, in parallel."""
    results: list[LoadedProject | None] = [
        None if no_cache else _from_cache(ws, e) for e in ws.projects
    ]
    todo = [e for e, r in zip(ws.projects, results, strict=True) if r is None]
    if len(todo) == 1:
        fresh = [_load_fresh(ws, todo[0])]
    elif todo:
        workers = max_parallel or min(len(todo), max(2, os.cpu_count() or 2))
        with ThreadPoolExecutor(max_workers=workers) as pool:
            fresh = list(pool.map(lambda e: _load_fresh(ws, e), todo))
    else:
        fresh = []
    loaded = iter(fresh)
    return [r if r is not None else next(loaded) for r in results]

"""What the UI process holds: the project read once in the background (again when its
files change), the search index and layouts of each graph version, and the asset states of
each record-store version.

The project is read from its definitions snapshot (``catchment.snapshot``); a stale or missing
one is rebuilt in a child process, so the UI imports none of the project's tools or code (runs
it launches load what they run, in their own processes). Requests only read what is here and
never write to the record store. Nothing here is the truth: killing the process loses only
caches, and the next one rebuilds them from the project and the record store.
"""

from __future__ import annotations

import os
import threading
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from catchment.ui.catalog import CatalogIndex
from catchment.ui.layout import Layout, layered_layout

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey
    from catchment.runs.launch import Launcher
    from catchment.snapshot.view import ReadOnlyProject
    from catchment.storage import Storage

LoadStatus = Literal["loading", "ready", "failed"]
AssetState = Literal["fresh", "stale", "missing", "failed", "running", "external", "unknown"]
WATCH_SUFFIXES = (".yaml", ".yml", ".py", ".sql", ".csv", ".json")
WATCH_SKIP = {
    ".catchment",
    ".venv",
    "target",
    "node_modules",
    "__pycache__",
    "logs",
    "dbt_packages",
}
LAYOUT_CACHE_SIZE = 64
SYNC_STATES_SECONDS = 0.25


@dataclass
class Loaded:
    """One loaded version of the project and what is derived from its graph."""

    project: ReadOnlyProject
    graph: AssetGraph
    version: int
    loaded_at: float
    seconds: float
    catalog: CatalogIndex
    layouts: dict[str, Layout] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def layout(self, selection: str, keys: frozenset[AssetKey]) -> Layout:
        """The layout of ``keys`` (the assets ``selection`` picked), computed once."""
        with self.lock:
            cached = self.layouts.get(selection)
        if cached is not None:
            return cached
        layout = layered_layout(self.graph, keys)
        with self.lock:
            if len(self.layouts) >= LAYOUT_CACHE_SIZE:
                self.layouts.pop(next(iter(self.layouts)))
            self.layouts[selection] = layout
        return layout


@dataclass(frozen=True)
class AssetStates:
    """Each asset's state and reasons, as of record-store event ``seq``."""

    seq: int
    states: dict[AssetKey, AssetState]
    reasons: dict[AssetKey, tuple[str, ...]]


class UiState:
    """The project (loaded in the background) and the record store of one ``catchment ui``."""

    def __init__(self, project_path: Path | None, storage_url: str | None = None):
        self.project_path = project_path
        self._storage_url = storage_url
        self.status: LoadStatus = "loading"
        self.error: str | None = None
        self.started_at = time.time()
        self.loaded: Loaded | None = None
        self._storage: Storage | None = None
        self._states: AssetStates | None = None
        self._states_lock = threading.Lock()
        self._states_seconds = 0.0
        self._lock = threading.Lock()
        self._version = 0
        self._stop = threading.Event()
        self._fingerprint: tuple[int, int] | None = None

    # -- loading ------------------------------------------------------------------------------
    def start(self, watch: float | None = 2.0) -> None:
        """Load the project in a background thread; then watch its files every ``watch``
        seconds (None: never) and reload it when they change."""
        threading.Thread(
            target=self._run, args=(watch,), name="catchment-ui-load", daemon=True
        ).start()

    def stop(self) -> None:
        """Stop watching and close the record store."""
        self._stop.set()
        with self._lock:
            if self._storage is not None:
                self._storage.close()
                self._storage = None

    def _run(self, watch: float | None) -> None:
        self.load()
        while watch is not None and not self._stop.wait(watch):
            root = self.loaded.project.root if self.loaded else None
            if root is not None and self._files_fingerprint(root) != self._fingerprint:
                self.load()

    def load(self) -> None:
        """Load (or reload) the project now; a failure keeps the previous version serving."""
        t0 = time.perf_counter()
        try:
            project, graph = self._load_project()
            self._fingerprint = self._files_fingerprint(project.root)
            self._version += 1
            loaded = Loaded(
                project=project,
                graph=graph,
                version=self._version,
                loaded_at=time.time(),
                seconds=time.perf_counter() - t0,
                catalog=CatalogIndex.build(graph),
            )
            with self._lock:
                self.loaded = loaded
                self._states = None
            try:  # warm the states, so that the first page does not reconcile
                with self._states_lock:
                    self._compute_states()
            except Exception:  # a record store problem shows on the pages that need it
                pass
            self.status, self.error = "ready", None
        except Exception as exc:  # any failure of user code is shown, not raised
            from catchment.errors import CatchmentError

            self.error = (
                str(exc) if isinstance(exc, CatchmentError) else traceback.format_exc(limit=3)
            )
            if self.loaded is None:
                self.status = "failed"

    def launcher(self) -> Launcher:
        """What starts a run the UI queued when no daemon holds the lease: ``catchment runs
        execute`` in a detached process (a workspace's state launches its own runner)."""
        from catchment.runs.launch import SubprocessLauncher

        return SubprocessLauncher(self.require().project.root)

    def retry_run(self, run_id: str) -> str:
        """Queue a retry of ``run_id`` from its failure (``ui.actions.retry_from_failure``);
        the new run's id."""
        from catchment.ui.actions import retry_from_failure

        return retry_from_failure(self.storage, self.launcher(), run_id)

    def cancel_run(self, run_id: str) -> int | None:
        """Cancel ``run_id`` (``ui.actions.cancel_run``: the pid signalled, or None)."""
        from catchment.ui.actions import cancel_run

        return cancel_run(self.storage, run_id)

    def _load_project(self) -> tuple[ReadOnlyProject, AssetGraph]:
        """The project (from its snapshot, rebuilt in a child process when stale) and its
        graph (a workspace's state loads its merged graph instead)."""
        from catchment.snapshot.cache import load_isolated

        project = load_isolated(self.project_path)
        return project, project.require_graph()

    @staticmethod
    def _files_fingerprint(root: Path) -> tuple[int, int]:
        """(number of watched files, newest mtime in ns) under ``root``: cheap change test."""
        count, newest = 0, 0
        for folder, dirs, files in os.walk(root):
            dirs[:] = [d for d in dirs if d not in WATCH_SKIP and not d.startswith(".")]
            for name in files:
                if name.endswith(WATCH_SUFFIXES):
                    try:
                        newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime_ns)
                    except OSError:
                        continue
                    count += 1
        return count, newest

    # -- the record store ---------------------------------------------------------------------
    @property
    def storage(self) -> Storage:
        """The record store (opened on first use; read only unless an action asks)."""
        with self._lock:
            if self._storage is None:
                from catchment.storage import open_storage

                url = self._storage_url
                if url is None:
                    loaded = self.loaded
                    if loaded is None:
                        from catchment.errors import CatchmentError

                        raise CatchmentError("the project is not loaded yet")
                    url = loaded.project.defaults.storage_url
                self._storage = open_storage(url)
            return self._storage

    def asset_states(self) -> AssetStates:
        """Every asset's state. Recomputed when the record store has new events or runs
        started or ended: at once when that is quick (under ``SYNC_STATES_SECONDS``), else
        in the background while requests get the previous states (a big graph's pages never
        wait for reconciliation after the first)."""
        storage = self.storage
        mark = storage.latest_event_seq() * 1_000_003 + len(storage.active_runs())
        states = self._states
        if states is not None and states.seq == mark:
            return states
        if states is None or self._states_seconds < SYNC_STATES_SECONDS:
            with self._states_lock:
                current = self._states
                if current is not None and current.seq == mark:
                    return current
                return self._compute_states()
        if self._states_lock.acquire(blocking=False):
            threading.Thread(target=self._refresh_states, daemon=True).start()
        return states

    def _refresh_states(self) -> None:
        try:
            self._compute_states()
        except Exception:  # the next request tries again; pages keep the previous states
            pass
        finally:
            self._states_lock.release()

    def _compute_states(self) -> AssetStates:
        """Reconcile every asset (two or three queries, whatever the size), then mark the
        failed and running ones; cached by record-store version."""
        from catchment.execution.reconcile import reconcile
        from catchment.storage.base import stored_key

        t0 = time.perf_counter()
        loaded = self.require()
        storage = self.storage
        mark = storage.latest_event_seq() * 1_000_003 + len(storage.active_runs())
        active = storage.active_runs()
        result: dict[AssetKey, AssetState] = {}
        reasons: dict[AssetKey, tuple[str, ...]] = {}
        statuses = reconcile(loaded.graph, storage)
        for key in loaded.graph.specs:
            if loaded.graph.is_external(key):
                result[key] = "external"
        for st in statuses:
            result[st.key] = "external" if st.external else st.state
            reasons[st.key] = st.reasons
        latest_seq = {st.key: st.latest.seq for st in statuses if st.latest is not None}
        subjects = [(k, None) for k in result if result[k] != "external"]
        for (key, _), failure in storage.failures_of(subjects).items():
            if failure.seq > latest_seq.get(key, 0):
                result[key] = "failed"
                reasons[key] = (f"failed in run {failure.run_id[:12]}: {failure.message or ''}",)
        for run in active:
            for name in run.asset_keys:
                k = stored_key(name)
                if k in result:
                    result[k] = "running"
        states = AssetStates(seq=mark, states=result, reasons=reasons)
        if self.loaded is loaded:
            self._states = states
        self._states_seconds = time.perf_counter() - t0
        return states

    @property
    def states_seconds(self) -> float:
        """How long the last computation of the asset states took."""
        return self._states_seconds

    def require(self) -> Loaded:
        """The loaded project (callers check ``status`` first)."""
        loaded = self.loaded
        if loaded is None:
            from catchment.errors import CatchmentError

            raise CatchmentError("the project is not loaded yet")
        return loaded

    def iter_problems(self) -> Iterator[str]:
        """The load problems of the current version, as one line each."""
        if self.loaded is not None:
            for p in self.loaded.project.problems:
                yield str(p)

"""Use and keep the definitions snapshot of a project: ``.catchment/definitions.snapshot``.

:func:`load_read_only` returns a ``Project`` from the snapshot when its key matches (importing
no adapter, tool or user code) and otherwise loads the project and writes a new snapshot,
atomically. A stale or corrupt snapshot is never trusted: it is rebuilt, with one line saying
why when it was corrupt.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import msgspec

from catchment.atomic_write import write_atomic
from catchment.snapshot.format import (
    FORMAT_VERSION,
    DefaultsRecord,
    DefinitionRecord,
    ProblemRecord,
    Snapshot,
    UnsnapshotableError,
    decode,
    encode,
    head,
)
from catchment.snapshot.key import UncacheableError, project_key, racy_threshold
from catchment.snapshot.paths import SNAPSHOT_FILE, Stamp, locate_file, snapshot_path

if TYPE_CHECKING:
    from catchment.components import ProjectDefaults
    from catchment.context import StepContext
    from catchment.definitions import AssetsDefinition
    from catchment.observation import Observation
    from catchment.problems import ProblemKind
    from catchment.project import Project
    from catchment.results import StepResult
    from catchment.tables import TableRef

from catchment.snapshot.view import ReadOnlyProblem, ReadOnlyProject

__all__ = [
    "SNAPSHOT_FILE",
    "build_snapshot",
    "load_isolated",
    "load_read_only",
    "locate_file",
    "project_from_snapshot",
    "read_snapshot",
    "snapshot_path",
    "stamp_matches",
    "write_snapshot",
]

Say = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr)


# -- Project -> Snapshot -------------------------------------------------------------------
def _watched(file: Path) -> tuple[str, ...]:
    """Existing folders outside the project that component attributes name (e.g. a dbt
    project in a sibling folder): their files are part of the key too."""
    from catchment.project.yamlfile import load_yaml

    data = load_yaml(file).data
    root = file.parent.resolve()
    found: set[str] = set()

    def strings(value: Any) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for v in value.values():
                yield from strings(v)
        elif isinstance(value, list):
            for v in value:
                yield from strings(v)

    components = data.get("components") if isinstance(data, dict) else None
    for comp in components if isinstance(components, list) else []:
        attrs = comp.get("attributes") if isinstance(comp, dict) else None
        for text in strings(attrs):
            if "{{" in text or "\n" in text or len(text) > 4096:
                continue
            try:
                p = (root / text).resolve()
                if not p.exists() or p.is_relative_to(root):
                    continue
            except (OSError, ValueError):
                continue
            found.add(str(p if p.is_dir() else p.parent))
    return tuple(sorted(found))


def _defaults_record(defaults: ProjectDefaults) -> DefaultsRecord:
    from catchment.components import ProjectDefaults

    default_url = ProjectDefaults.for_root(defaults.root).storage_url
    limits = defaults.queue.limits
    return DefaultsRecord(
        warehouse=str(defaults.warehouse),
        storage_url=defaults.storage_url if defaults.storage_url == default_url else None,
        timeout=defaults.timeout,
        executor=dict(defaults.executor) if defaults.executor is not None else None,
        max_concurrent_runs=limits.max_concurrent_runs,
        tag_limits=tuple((t.key, t.value, t.limit) for t in limits.tag_limits),
        pools=dict(defaults.queue.pools),
        pool_lease_seconds=defaults.queue.pool_lease_seconds,
    )


def build_snapshot(
    project: Project, key: str, watched: Iterable[str] = (), racy_after: int = 0
) -> Snapshot:
    """The snapshot of a freshly loaded ``project`` under ``key``."""
    from catchment import __version__

    graph = project.graph
    defs = graph.definitions.values() if graph is not None else project.definitions
    return Snapshot(
        format=FORMAT_VERSION,
        catchment_version=__version__,
        key=key,
        name=project.name,
        root=str(project.root),
        file=str(project.file),
        defaults=_defaults_record(project.defaults),
        definitions=tuple(
            DefinitionRecord(
                name=d.name,
                specs=d.specs,
                check_specs=d.check_specs,
                can_subset=d.can_subset,
                required_resources=d.required_resources,
                retry=d.retry,
                source=d.source,
                component=d.component,
                adapter=d.adapter,
                metadata=dict(d.metadata),
                timeout=d.timeout,
                pool=d.pool,
                pool_slots=d.pool_slots,
                observers=tuple((o.system, o.location) for o in d.observers),
            )
            for d in defs
        ),
        components=dict(project.components),
        problems=tuple(ProblemRecord(p.kind, p.where, p.message, p.hint) for p in project.problems),
        graph_built=graph is not None,
        watched=tuple(watched),
        racy_after=racy_after,
        schedules=tuple(project.schedules),
        sensors=tuple(project.sensors),
        adapters=tuple(r.to_dict() for r in project.registry.adapters),
        resources=tuple(sorted(project.resources)),
    )


# -- Snapshot -> Project -------------------------------------------------------------------
class _ReadOnlyCompute:
    """The compute of a definition rebuilt from a snapshot: it cannot run, and says so."""

    __slots__ = ("name",)

    def __init__(self, name: str):
        self.name = name

    def __call__(self, context: StepContext) -> Iterable[StepResult]:
        from catchment.errors import CatchmentError

        raise CatchmentError(
            f"definition {self.name!r} comes from the definitions snapshot and cannot run",
            hint="commands that run steps load the project (catchment.project.load_project)",
        )


class UnloadedObserver:
    """Stands, in a definition rebuilt from a snapshot, for an observer the loaded definition
    carries: its connection is not in the snapshot, so observing with it needs the definition's
    component loaded (``catchment.project.loader.load_observing``). An empty ``system`` means
    the snapshot does not say (an older one)."""

    __slots__ = ("location", "system")

    def __init__(self, system: str, location: str):
        self.system = system
        self.location = location

    def observe(self, tables: Sequence[TableRef]) -> Mapping[TableRef, Observation]:
        from catchment.errors import CatchmentError

        raise CatchmentError(
            "this observer comes from the definitions snapshot: its component must be loaded",
            hint="observe with the loaded project (catchment.execution.observing)",
        )


def _unloaded(observers: tuple[tuple[str, str], ...] | None) -> tuple[UnloadedObserver, ...]:
    if observers is None:
        return (UnloadedObserver("", ""),)
    return tuple(UnloadedObserver(system, location) for system, location in observers)


def _defaults(snapshot: Snapshot) -> ProjectDefaults:
    from catchment.components import ProjectDefaults, QueueSettings
    from catchment.storage.queue import QueueLimits, TagLimit

    rec = snapshot.defaults
    root = Path(snapshot.root)
    url = rec.storage_url
    if url is None:  # not the default one: read again, never stored (it may hold a secret)
        from catchment.project import load_defaults

        url = load_defaults(snapshot.file).storage_url
    return ProjectDefaults(
        root=root,
        warehouse=Path(rec.warehouse),
        storage_url=url,
        timeout=rec.timeout,
        queue=QueueSettings(
            limits=QueueLimits(
                max_concurrent_runs=rec.max_concurrent_runs,
                tag_limits=tuple(TagLimit(key=k, value=v, limit=n) for k, v, n in rec.tag_limits),
            ),
            pools=dict(rec.pools),
            pool_lease_seconds=rec.pool_lease_seconds,
        ),
        executor=rec.executor,
    )


def project_from_snapshot(snapshot: Snapshot) -> ReadOnlyProject:
    """The read-only project of a snapshot: its graph's definitions have no compute (commands
    that run steps load the project)."""
    from catchment.definitions import AssetsDefinition
    from catchment.errors import GraphError
    from catchment.graph import AssetGraph

    definitions: list[AssetsDefinition] = [
        AssetsDefinition(
            name=d.name,
            specs=d.specs,
            compute=_ReadOnlyCompute(d.name),
            check_specs=d.check_specs,
            can_subset=d.can_subset,
            required_resources=d.required_resources,
            retry=d.retry,
            source=d.source,
            component=d.component,
            adapter=d.adapter,
            metadata=d.metadata,
            timeout=d.timeout,
            pool=d.pool,
            pool_slots=d.pool_slots,
            observers=_unloaded(d.observers),
        )
        for d in snapshot.definitions
    ]
    problems = [
        ReadOnlyProblem(cast("ProblemKind", p.kind), p.where, p.message, p.hint)
        for p in snapshot.problems
    ]
    graph = None
    if snapshot.graph_built:
        try:
            graph = AssetGraph.build(definitions)
        except GraphError as exc:  # the load built it: a snapshot that does not is corrupt
            raise ValueError(f"its graph does not build: {exc}") from None
    return ReadOnlyProject(
        root=Path(snapshot.root),
        file=Path(snapshot.file),
        name=snapshot.name,
        defaults=_defaults(snapshot),
        definitions=tuple(definitions),
        graph=graph,
        problems=problems,
        components=dict(snapshot.components),
        from_snapshot=True,
        stamp=Stamp(snapshot.key, tuple(snapshot.watched), snapshot.racy_after),
        schedules=snapshot.schedules,
        sensors=snapshot.sensors,
        adapters=snapshot.adapters,
        resources=snapshot.resources,
    )


# -- the file ------------------------------------------------------------------------------
def write_snapshot(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (a temporary file renamed over it)."""
    write_atomic(path, data)


def read_snapshot(file: Path, say: Say = _stderr) -> Snapshot | None:
    """The snapshot of the project of ``file`` when it exists, is whole and its key matches
    the project now; None otherwise (a corrupt one is reported through ``say``)."""
    path = snapshot_path(file)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        say(f"definitions snapshot {path} unreadable ({exc.strerror}); loading the project")
        return None
    try:
        version, _ = head(data)
        if version != FORMAT_VERSION:
            return None
        snapshot = decode(data)
    except (msgspec.DecodeError, msgspec.ValidationError, ValueError, KeyError, TypeError):
        say(f"definitions snapshot {path} is corrupt; rebuilding it")
        return None
    try:
        key = project_key(file, snapshot.watched, snapshot.racy_after)
    except (UncacheableError, OSError):  # OSError: no such file; the load will say so
        return None
    return snapshot if key == snapshot.key else None


def refresh(file: Path, say: Say = _stderr) -> tuple[Project, bytes | None]:
    """Load the project at ``file`` and write its snapshot; the project and the snapshot's
    bytes (None when it cannot be cached, said through ``say``)."""
    project, data, _ = _refresh(file, say)
    return project, data


def _refresh(file: Path, say: Say) -> tuple[Project, bytes | None, Stamp | None]:
    """``refresh``, and the stamp the snapshot was written under (None when not cached)."""
    from catchment.filestats import sharing
    from catchment.project import load_project

    # The key's stats of the project files serve the adapters' own freshness checks (dbt's
    # manifest against its models) in the load that follows: one stat per file, not two.
    with sharing():
        try:
            watched = _watched(file)
            racy_after = racy_threshold()
            key = project_key(file, watched, racy_after)
        except UncacheableError:
            return load_project(file), None, None
        except Exception:  # an unreadable file: the load says what is wrong with it
            return load_project(file), None, None
        project = load_project(file)
    try:
        data = encode(build_snapshot(project, key, watched, racy_after))
    except UnsnapshotableError as exc:
        say(f"definitions not cached: {exc} cannot be snapshotted")
        return project, None, None
    try:
        write_snapshot(snapshot_path(file), data)
    except OSError as exc:
        say(f"definitions snapshot not written ({exc.strerror}); the next command loads again")
        return project, data, None
    return project, data, Stamp(key, watched, racy_after)


def load_read_only(
    path: Path | str | None = None, *, no_cache: bool = False, say: Say = _stderr
) -> ReadOnlyProject:
    """The project at ``path`` for a command that only reads its graph: from the snapshot
    when it matches (no adapter, tool or user code imported), else loaded and re-cached.
    ``no_cache`` forces a fresh load (and rewrites the snapshot). The project's ``stamp`` is
    the key its snapshot is stored under (None when it is not cached)."""
    file = locate_file(path)
    if not no_cache:
        snapshot = read_snapshot(file, say)
        if snapshot is not None:
            try:
                return project_from_snapshot(snapshot)
            except (ValueError, TypeError, KeyError) as exc:
                say(f"definitions snapshot {snapshot_path(file)} is corrupt ({exc}); rebuilding it")
    project, _, stamp = _refresh(file, say)
    view = ReadOnlyProject.of(project)
    view.stamp = stamp
    return view


def load_isolated(
    path: Path | str | None = None, *, say: Say = _stderr, timeout: float | None = None
) -> ReadOnlyProject:
    """``load_read_only`` for a long-lived process (the UI, the daemon): a stale or missing
    snapshot is rebuilt by ``python -m catchment.snapshot`` in a child process, so this one
    never imports the project's tools or code. When the child cannot give a snapshot (a
    project that does not load, or cannot be cached) the project is loaded here, as
    ``load_read_only`` does, so the same errors and problems are reported."""
    import subprocess

    file = locate_file(path)
    snapshot = read_snapshot(file, say)
    if snapshot is None:
        try:
            done = subprocess.run(
                [sys.executable, "-m", "catchment.snapshot", str(file), "--no-cache"],
                capture_output=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return load_read_only(file, say=say)
        if done.returncode != 0:
            return load_read_only(file, say=say)
        for line in done.stderr.decode("utf-8", "replace").splitlines():
            if line.strip():
                say(line)
        try:
            snapshot = decode(done.stdout)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError, KeyError, TypeError):
            return load_read_only(file, say=say)
    try:
        return project_from_snapshot(snapshot)
    except (ValueError, TypeError, KeyError):
        return load_read_only(file, no_cache=True, say=say)


def stamp_matches(file: Path, stamp: Stamp) -> bool:
    """Whether the project of ``file`` still has the key of ``stamp`` (recomputed: a walk
    of its files' sizes and times, no parsing); False when it cannot be computed."""
    try:
        return project_key(file, stamp.watched, stamp.racy_after) == stamp.key
    except (UncacheableError, OSError):
        return False

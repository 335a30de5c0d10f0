"""`catchment daemon` on a workspace: the daemon's loops over the merged graph, runs started
through the workspace runner, and no project code imported in the daemon's process.

``load_for_daemon`` reads what the daemon needs: the merged graph (each project from its
snapshot: automation conditions and freshness policies are in the specs) and each project's
schedules and sensors, from the same snapshot (a project whose view is not from one is asked
by a short ``python -m catchment.workspace.worker``, ``action: declarations``, in its own
environment). Each is named ``PROJECT:NAME`` and by default selects only that project's
assets. The workspace's ``queue:`` limits are the queue coordinator's, and every run the
loops ask for is tagged with the ``team`` and ``project`` of its assets
(``workspace.teams``). A sensor's code runs in the project's
environment and folder on every tick (``WorkspaceSensorRunner``), as a project's sensors run
in subprocesses of its daemon.

``WorkspaceLauncher`` launches each queued run as ``python -m catchment.workspace.execute
RUN_ID WORKSPACE_FILE`` (detached, like ``catchment runs execute``): that process claims the
run, then runs its assets batch by batch in the projects' environments
(``workspace.running``). Everything else is the single-project daemon's: cursors, ticks, run
keys, the lease and the queue live in the workspace's record store, so a daemon killed with
SIGKILL and started again starts nothing twice.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from catchment.runs.launch import SubprocessLauncher
from catchment.sensors.runner import SensorProcess, SubprocessSensorRunner

if TYPE_CHECKING:
    from catchment.daemon.workspace import Workspace as DaemonView
    from catchment.problems import Problem, ProblemKind
    from catchment.runs.request import RunRequest
    from catchment.schedules import ScheduleDefinition
    from catchment.sensors import SensorContext, SensorDefinition
    from catchment.workspace.loading import LoadedProject
    from catchment.workspace.model import ProjectEntry, Workspace

__all__ = ["WorkspaceLauncher", "WorkspaceSensorRunner", "load_for_daemon", "scoped"]


def _declarations(ws: Workspace, entry: ProjectEntry) -> tuple[dict[str, Any] | None, str]:
    """The project's schedules and sensor names from its environment, or (None, why)."""
    from catchment.workspace.worker import ask

    request = {"action": "declarations", "project": str(entry.path)}
    answer = ask(entry, request, "reading its schedules")
    return (None, answer) if isinstance(answer, str) else (answer, "")


Scoped = TypeVar("Scoped", "ScheduleDefinition", "SensorDefinition")


def scoped(project: str, declared: Scoped) -> Scoped:
    """A schedule or sensor of ``project`` in the merged graph: named ``PROJECT:NAME``,
    selecting only that project's assets (unless it names keys)."""
    import msgspec

    selection = declared.selection
    if selection is not None:
        selection = f"project:{project} and ({selection})"
    elif not declared.asset_keys:
        selection = f"project:{project}"
    return msgspec.structs.replace(
        declared,
        name=f"{project}:{declared.name}",
        selection=selection,
        tags={**declared.tags, "workspace_project": project},
    )


def _definition(raw: Any, kind: type[Scoped]) -> Scoped:
    """A schedule or sensor: as the snapshot holds it, or converted from the worker's JSON."""
    import msgspec

    return raw if isinstance(raw, kind) else msgspec.convert(raw, kind)


def _problem(kind: ProblemKind, entry: ProjectEntry, message: str, hint: str | None) -> Problem:
    from catchment.problems import Problem

    return Problem(kind, f"{entry.where} ({entry.name})", message, hint)


def _from_snapshot(lp: LoadedProject) -> dict[str, Any] | None:
    """The schedules and sensors of a project loaded from its (current) snapshot; None when
    its view is not from one (then its environment is asked)."""
    if lp.project is None or not lp.project.from_snapshot:
        return None
    return {"schedules": lp.project.schedules, "sensors": lp.project.sensors}


def load_for_daemon(path: Path | str | None, *, no_cache: bool = False) -> DaemonView:
    """The daemon's view of the workspace at ``path`` (see the module's docstring);
    ``no_cache`` loads every project afresh."""

    from catchment.components import ProjectDefaults
    from catchment.daemon.workspace import Workspace as DaemonView
    from catchment.daemon.workspace import project_stamp
    from catchment.errors import ConfigError
    from catchment.schedules import ScheduleDefinition
    from catchment.workspace import find_workspace, load_workspace

    file = find_workspace(path)
    if file is None:
        raise ConfigError(f"no workspace file at {path}", where=str(path))
    wsg = load_workspace(file, no_cache=no_cache)
    ws = wsg.workspace
    problems = list(wsg.problems)
    ok = [lp for lp in wsg.projects if lp.ok]
    loaded = [lp.entry for lp in ok]
    found: list[tuple[dict[str, Any] | None, str]] = [(_from_snapshot(lp), "") for lp in ok]
    asking = [i for i, (data, _) in enumerate(found) if data is None]
    if asking:
        with ThreadPoolExecutor(max_workers=max(1, min(4, len(asking)))) as pool:
            answers = pool.map(lambda i: _declarations(ws, loaded[i]), asking)
            for i, answer in zip(asking, answers, strict=True):
                found[i] = answer
    from catchment.sensors import SensorDefinition

    schedules: list[ScheduleDefinition] = []
    sensors: list[SensorDefinition] = []
    for entry, (data, why) in zip(loaded, found, strict=True):
        if data is None:
            problems.append(
                _problem(
                    "project", entry, why, "its schedules and sensors wait until it loads again"
                )
            )
            continue
        for raw in data["schedules"]:
            schedules.append(scoped(entry.name, _definition(raw, ScheduleDefinition)))
        for raw in data["sensors"]:
            sensors.append(scoped(entry.name, _definition(raw, SensorDefinition)))
    defaults = dataclasses.replace(
        ProjectDefaults.for_root(ws.root), storage_url=ws.storage_url, queue=ws.queue
    )
    prepare = None
    if ws.teams and wsg.graph is not None:
        import functools

        from catchment.workspace.teams import tag_request

        prepare = functools.partial(tag_request, wsg.graph)
    return DaemonView(
        root=ws.root,
        file=ws.file,
        defaults=defaults,
        graph=wsg.graph,
        schedules=tuple(schedules),
        sensors=tuple(sensors),
        problems=tuple(problems),
        stamp=project_stamp(ws.file),
        prepare=prepare,
    )


class WorkspaceLauncher(SubprocessLauncher):
    """Launch each queued run of the workspace as ``python -m catchment.workspace.execute
    RUN_ID WORKSPACE_FILE`` in the control plane's own environment (it imports no project
    code: each batch runs in its project's environment). ``prepare``: what the UI applies to
    a request before queuing it (``ui.actions.queue_and_launch``: the team and project tags)."""

    def __init__(
        self,
        file: Path,
        *,
        python: str | None = None,
        prepare: Callable[[RunRequest], RunRequest] | None = None,
    ):
        super().__init__(file.parent, python=python or sys.executable)
        self.file = file
        self.prepare = prepare

    def command(self, run_id: str) -> list[str]:
        return [self.python, "-m", "catchment.workspace.execute", run_id, str(self.file)]


class WorkspaceSensorRunner(SubprocessSensorRunner):
    """Runs each sensor (``PROJECT:NAME``) as ``python -m catchment.sensors.host`` in its
    project's environment and folder (``context.project_root`` is the project's), so a
    sensor's code never runs in the daemon's process or another project's environment."""

    def __init__(self, file: Path):
        super().__init__(file.parent)
        self.file = file

    def _entry(self, sensor_name: str) -> ProjectEntry:
        from catchment.errors import ConfigError
        from catchment.workspace.model import load_workspace_file

        ws = load_workspace_file(self.file)
        found = [p for p in ws.projects if sensor_name.startswith(f"{p.name}:")]
        if not found:
            raise ConfigError(f"sensor {sensor_name!r} names no project of the workspace")
        return max(found, key=lambda p: len(p.name))

    def start(
        self, function: str, context: SensorContext, now: float, timeout: float
    ) -> SensorProcess:
        import msgspec

        entry = self._entry(context.sensor_name)
        context = msgspec.structs.replace(context, project_root=str(entry.path))
        job = {
            "function": function,
            "context": msgspec.to_builtins(context),
            "project_root": str(entry.path),
        }
        return self.spawn(
            entry.command("-m", "catchment.sensors.host"), entry.path, job, context, now, timeout
        )

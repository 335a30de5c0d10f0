"""`catchment daemon` on a workspace: the daemon's loops over the merged graph, runs started
through the workspace runner, and no project code imported in the daemon's process.

``load_for_daemon`` reads what the daemon needs: the merged graph (each project from its
snapshot: automation conditions and freshness policies are in the specs) and each project's
schedules, which a short ``python -m catchment.workspace.worker`` (``action: declarations``)
prints from the project's own environment. A project's schedule is named ``PROJECT:NAME`` and
selects only that project's assets. Sensors are user code that would have to run in each
project's environment on every tick: they are not evaluated on a workspace yet, and each
project that has some is reported as a problem (the daemon prints it as a warning).

``WorkspaceLauncher`` launches each queued run as ``python -m catchment.workspace.execute
RUN_ID WORKSPACE_FILE`` (detached, like ``catchment runs execute``): that process claims the
run, then runs its assets batch by batch in the projects' environments
(``workspace.running``). Everything else is the single-project daemon's: cursors, ticks, run
keys, the lease and the queue live in the workspace's record store, so a daemon killed with
SIGKILL and started again starts nothing twice.
"""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any

from catchment.runs.launch import SubprocessLauncher

if TYPE_CHECKING:
    from catchment.daemon.workspace import Workspace as DaemonView
    from catchment.problems import Problem, ProblemKind
    from catchment.schedules import ScheduleDefinition
    from catchment.workspace.model import ProjectEntry, Workspace

__all__ = ["WorkspaceLauncher", "load_for_daemon"]


def _declarations(ws: Workspace, entry: ProjectEntry) -> tuple[dict[str, Any] | None, str]:
    """The project's schedules and sensor names from its environment, or (None, why)."""
    request = {"action": "declarations", "project": str(entry.path)}
    try:
        proc = subprocess.run(
            entry.command("-m", "catchment.workspace.worker"),
            cwd=entry.path,
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=entry.load_timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"reading its schedules took more than {entry.load_timeout:g} s"
    except OSError as exc:
        return None, f"its environment cannot start ({entry.environment}): {exc.strerror}"
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        from catchment.secrets import redact

        tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
        return None, redact(f"reading its schedules failed (exit {proc.returncode}): {tail}")
    return json.loads(lines[-1]), ""


def scoped(project: str, schedule: ScheduleDefinition) -> ScheduleDefinition:
    """``schedule`` of ``project`` in the merged graph: named ``PROJECT:NAME``, selecting only
    that project's assets."""
    import msgspec

    selection = schedule.selection
    if selection is not None:
        selection = f"project:{project} and ({selection})"
    elif not schedule.asset_keys:
        selection = f"project:{project}"
    return msgspec.structs.replace(
        schedule,
        name=f"{project}:{schedule.name}",
        selection=selection,
        tags={**schedule.tags, "workspace_project": project},
    )


def _problem(kind: ProblemKind, entry: ProjectEntry, message: str, hint: str | None) -> Problem:
    from catchment.problems import Problem

    return Problem(kind, f"{entry.where} ({entry.name})", message, hint)


def load_for_daemon(path: Path | str | None) -> DaemonView:
    """The daemon's view of the workspace at ``path`` (see the module's docstring)."""
    import msgspec

    from catchment.components import ProjectDefaults
    from catchment.daemon.workspace import Workspace as DaemonView
    from catchment.daemon.workspace import project_stamp
    from catchment.errors import ConfigError
    from catchment.schedules import ScheduleDefinition
    from catchment.workspace import find_workspace, load_workspace

    file = find_workspace(path)
    if file is None:
        raise ConfigError(f"no workspace file at {path}", where=str(path))
    wsg = load_workspace(file)
    ws = wsg.workspace
    problems = list(wsg.problems)
    loaded = [lp.entry for lp in wsg.projects if lp.ok]
    with ThreadPoolExecutor(max_workers=max(1, min(4, len(loaded)))) as pool:
        found = list(pool.map(lambda e: _declarations(ws, e), loaded))
    schedules: list[ScheduleDefinition] = []
    for entry, (data, why) in zip(loaded, found, strict=True):
        if data is None:
            problems.append(
                _problem("project", entry, why, "its schedules are not evaluated until it loads")
            )
            continue
        for raw in data["schedules"]:
            schedules.append(scoped(entry.name, msgspec.convert(raw, ScheduleDefinition)))
        if data["sensors"]:
            problems.append(
                _problem(
                    "project",
                    entry,
                    f"sensors are not evaluated on a workspace yet: {', '.join(data['sensors'])}",
                    "run a daemon on the project alone for its sensors (`catchment daemon -p "
                    f"{entry.path}` with its own environment), or use a schedule or an "
                    "automation condition",
                )
            )
    defaults = dataclasses.replace(ProjectDefaults.for_root(ws.root), storage_url=ws.storage_url)
    return DaemonView(
        root=ws.root,
        file=ws.file,
        defaults=defaults,
        graph=wsg.graph,
        schedules=tuple(schedules),
        problems=tuple(problems),
        stamp=project_stamp(ws.file),
    )


class WorkspaceLauncher(SubprocessLauncher):
    """Launch each queued run of the workspace as ``python -m catchment.workspace.execute
    RUN_ID WORKSPACE_FILE`` in the control plane's own environment (it imports no project
    code: each batch runs in its project's environment)."""

    def __init__(self, file: Path, *, python: str | None = None):
        super().__init__(file.parent, python=python or sys.executable)
        self.file = file

    def command(self, run_id: str) -> list[str]:
        return [self.python, "-m", "catchment.workspace.execute", run_id, str(self.file)]

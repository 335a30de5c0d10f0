"""``python -m catchment.workspace.worker``: run some assets of ONE project in the current
environment (the project's own), recording to the workspace's shared run store.

Reads one JSON object on stdin: ``project`` (its folder), ``storage`` (the run store URL),
``keys`` (asset keys), ``partition`` (optional), ``tags``, and the workspace's ``pools`` and
``pool_lease_seconds`` (put over the project's own: ``workspace.pools``). Prints one line
per asset on stderr as it goes, and one JSON object on stdout at the end: ``run_id``,
``success`` and each asset's ``status`` (success, failed, skipped, not run). Exit 0 when it
ran (whatever the run's outcome), 1 with one message on stderr when it could not run at all.

With ``action: declarations`` it runs nothing and prints the project's schedules and sensors
(what the workspace daemon reads; ``workspace.daemon``). With ``action: observe`` it runs
nothing either: it observes ``keys`` with the project's own observers (resources, IO managers,
its components'), records what is new in the shared store and prints ``observations`` (key ->
observation) for the workspace's ``plan`` and ``observe`` (``workspace.observing``).

``ask`` is the control plane's side of the non-run actions: one request, one answer.
"""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey
    from catchment.project import Project
    from catchment.workspace.model import ProjectEntry

_ERROR_LINES = 5
"""How many of a failed worker's last stderr lines ``ask`` reports."""


def ask(entry: ProjectEntry, request: dict[str, Any], doing: str) -> dict[str, Any] | str:
    """From the control plane: send ``request`` to this module in ``entry``'s environment
    and return its answer, or why there is none (``doing`` says what it was asked, for the
    message), within the project's ``load_timeout``. The worker runs in a session of its
    own, killed whole (``uv run`` starts Python as a grandchild) past the timeout or when
    this process is interrupted."""
    import os
    import signal
    import subprocess

    from catchment.secrets import redact

    try:
        proc = subprocess.Popen(
            entry.command("-m", "catchment.workspace.worker"),
            cwd=entry.path,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    except OSError as exc:
        return f"its environment cannot start ({entry.environment}): {exc.strerror}"
    try:
        stdout, stderr = proc.communicate(json.dumps(request), timeout=entry.load_timeout)
    except BaseException as exc:  # the timeout, or Ctrl-C here: the worker's session goes too
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except OSError:
            proc.kill()
        proc.communicate()
        if isinstance(exc, subprocess.TimeoutExpired):
            return f"{doing} took more than {entry.load_timeout:g} s"
        raise
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = "\n".join(stderr.strip().splitlines()[-_ERROR_LINES:])
        return redact(f"{doing} failed (exit {proc.returncode}): {tail}")
    answer = json.loads(lines[-1])
    return answer if isinstance(answer, dict) else f"{doing}: the answer is no JSON object"


def _progress(event: Any) -> None:
    from catchment.events import EventType

    if event.type is EventType.MATERIALIZATION:
        print(f"  ✓ {event.asset_key}", file=sys.stderr, flush=True)
    elif event.type is EventType.ASSET_FAILED:
        failure = event.failure
        message = failure.message if failure is not None else ""
        print(f"  ✗ {event.asset_key}: {message}", file=sys.stderr, flush=True)


def run(request: dict[str, Any]) -> dict[str, Any]:
    """Run ``request`` (see the module's docstring) and return the summary."""
    from catchment.dynamic import bind_dynamic_partitions
    from catchment.execution.project import run_project
    from catchment.project import load_project
    from catchment.storage import open_storage

    project = load_project(request["project"])
    for p in project.problems:
        print(f"warning: {p}", file=sys.stderr)
    if "pools" in request:
        import dataclasses

        from catchment.workspace.pools import disagreements, under_workspace

        pools = dict(request["pools"])
        name = (request.get("tags") or {}).get("workspace_project", project.name)
        for line in disagreements(pools, project.defaults.queue.pools, name):
            print(f"warning: {line}", file=sys.stderr)
        defaults = under_workspace(project.defaults, pools, float(request["pool_lease_seconds"]))
        project = dataclasses.replace(project, defaults=defaults)
    graph = project.require_graph()
    keys = list(request["keys"])
    storage = open_storage(request["storage"])
    try:
        storage.mark_abandoned_runs()
        bind_dynamic_partitions(graph, storage)
        result = run_project(
            project,
            selection=keys,
            partition=request.get("partition"),
            storage=storage,
            on_event=_progress,
            tags=dict(request.get("tags") or {}),
        )
    finally:
        storage.close()
    return {
        "run_id": result.run_id,
        "success": result.success,
        "status": {k: result.status_of(k) for k in keys},
    }


def declarations(request: dict[str, Any]) -> dict[str, Any]:
    """What the daemon needs of the project beyond its snapshot: its schedules and sensors
    (plain data; a sensor's code runs later, in this environment, by ``catchment.sensors.host``)."""
    import msgspec

    from catchment.project import load_project

    project = load_project(request["project"])
    return {
        "schedules": [msgspec.to_builtins(s) for s in project.schedules],
        "sensors": [msgspec.to_builtins(s) for s in project.sensors],
    }


def _observing(
    project_dir: str, keys: list[AssetKey]
) -> tuple[Project, AssetGraph, dict[str, tuple[Any, ...]] | None]:
    """(the project to observe with, its graph, its definitions' observers when the graph is
    the snapshot's): from a current definitions snapshot only the resources, IO managers and
    components whose definitions carry observers are loaded, as for a project's ``plan``."""
    from catchment.execution.observing import load_observing_keys
    from catchment.project import load_project
    from catchment.snapshot.cache import locate_file, project_from_snapshot, read_snapshot

    file = locate_file(project_dir)
    snapshot = read_snapshot(file)
    if snapshot is not None:
        try:
            read_only = project_from_snapshot(snapshot)
        except (ValueError, TypeError, KeyError):  # corrupt: the project is loaded below
            read_only = None
        if read_only is not None and read_only.graph is not None:
            graph = read_only.graph
            observing = load_observing_keys(read_only, [k for k in keys if k in graph])
            if observing is not None:
                carried = {d.name: d.observers for d in observing.definitions}
                return observing, graph, carried
    project = load_project(project_dir)
    return project, project.require_graph(), None


def observations(request: dict[str, Any]) -> dict[str, Any]:
    """Observe the request's ``keys`` that the project has (``action: observe``), record
    what is new in the shared store and return every observation as plain data."""
    import msgspec

    from catchment.execution.observe import load_history, record
    from catchment.execution.observing import observe_with
    from catchment.keys import AssetKey
    from catchment.storage import open_storage

    wanted = [AssetKey.parse(k) for k in request["keys"]]
    project, graph, carried = _observing(request["project"], wanted)
    for p in project.problems:
        print(f"warning: {p}", file=sys.stderr)
    keys = [k for k in wanted if k in graph]
    found = observe_with(project, graph, keys, carried)
    storage = open_storage(request["storage"])
    try:
        own = [k for k in keys if not graph.is_external(k)]
        latest = {k: r.seq for k, r in storage.latest_materializations(own).items()} if own else {}
        record(storage, graph, found, load_history(storage), latest)
    finally:
        storage.close()
    return {"observations": {k.to_string(): msgspec.to_builtins(o) for k, o in found.items()}}


_ACTIONS = {"declarations": declarations, "observe": observations}


def main() -> int:
    """Entry point: the request on stdin, the summary on stdout (``action: declarations``:
    the project's schedules and sensors instead of a run; ``action: observe``: its
    observations)."""
    from catchment.errors import CatchmentError

    try:
        request = json.loads(sys.stdin.read())
        action = _ACTIONS.get(request.get("action") or "", run)
        summary = action(request)
    except CatchmentError as exc:
        from catchment.secrets import redact

        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

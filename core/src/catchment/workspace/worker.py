"""``python -m catchment.workspace.worker``: run some assets of ONE project in the current
environment (the project's own), recording to the workspace's shared run store.

Reads one JSON object on stdin: ``project`` (its folder), ``storage`` (the run store URL),
``keys`` (asset keys), ``partition`` (optional), ``tags``, and the workspace's ``pools`` and
``pool_lease_seconds`` (put over the project's own: ``workspace.pools``). Prints one line
per asset on stderr as it goes, and one JSON object on stdout at the end: ``run_id``,
``success`` and each asset's ``status`` (success, failed, skipped, not run). Exit 0 when it
ran (whatever the run's outcome), 1 with one message on stderr when it could not run at all.

With ``action: declarations`` it runs nothing and prints the project's schedules and sensors
(what the workspace daemon reads; ``workspace.daemon``).
"""

from __future__ import annotations

import json
import sys
from typing import Any


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


def main() -> int:
    """Entry point: the request on stdin, the summary on stdout (``action: declarations``:
    the project's schedules and sensors instead of a run)."""
    from catchment.errors import CatchmentError

    try:
        request = json.loads(sys.stdin.read())
        action = declarations if request.get("action") == "declarations" else run
        summary = action(request)
    except CatchmentError as exc:
        from catchment.secrets import redact

        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 1
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())

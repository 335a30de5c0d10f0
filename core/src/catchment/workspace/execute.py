"""``python -m catchment.workspace.execute RUN_ID WORKSPACE_FILE``: claim a queued run of a
workspace and carry it out, each project's assets in its own environment.

What the daemon's ``WorkspaceLauncher`` starts for every queued run (automation, a schedule,
``materialize --queue``, ``apply --queue``, the UI): the claim is the single-project one
(``runs.execute.claim``: of two processes launched for one run only one runs it), then the
run's assets are read from the workspace's merged graph (no project code imported here) and
run batch by batch by ``workspace.running.run_workspace``, whose project runs are tagged
``workspace_run`` with this run's id: once per partition key of a run with several, its
unpartitioned assets once, before or after the keys (``workspace.running.passes``).
This run ends ``success`` when every batch succeeded, ``failure`` otherwise, ``canceled``
when SIGINT stops it (``runs cancel``, the UI's *Cancel*: the running batch's project run is
asked to stop too); a workspace that no longer loads, or a run asking for assets it no
longer has, fails the run with the reason recorded.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from catchment.storage import RunRecord, RunStatus, Storage

if TYPE_CHECKING:
    from catchment.graph import AssetGraph

__all__ = ["execute_workspace_run", "left_by_partition", "main"]

_CHILDREN_SCAN = 10_000
"""How many of the newest runs are searched for a workspace run's project runs."""


def left_by_partition(
    storage: Storage, run: RunRecord, graph: AssetGraph
) -> dict[str | None, list[str]]:
    """Partition key of ``run`` (None for an unpartitioned run) -> its assets that did not
    materialize for that key (for a workspace run: in none of its project runs, tagged
    ``workspace_run``; for one project's run: in its own), so a retry from failure redoes only
    the failed keys of each asset; an asset materialized without a partition is done for all."""
    from catchment.events import EventType
    from catchment.runs.execute import selected_keys

    if "workspace_run" in run.tags or run.asset_keys:
        wanted = list(run.asset_keys)
    else:
        wanted = selected_keys(graph, run)
    ids = [run.run_id] + [
        r.run_id
        for r in storage.list_runs(limit=_CHILDREN_SCAN)
        if r.tags.get("workspace_run") == run.run_id
    ]
    done: dict[str, set[str | None]] = {}
    for run_id in ids:
        for e in storage.events_for_run(run_id, [EventType.MATERIALIZATION]):
            if e.asset_key is not None:
                done.setdefault(e.asset_key, set()).add(e.partition)
    parts: list[str | None] = list(run.partition_keys) or [None]
    return {p: [k for k in wanted if not ({None, p} & done.get(k, set()))] for p in parts}


def _finish(storage: Storage, run: RunRecord, status: RunStatus, error: str | None) -> None:
    from catchment.events import Event, EventType

    data: dict[str, object] = {"status": status}
    if error:
        data["error"] = error
    storage.append_events([Event(run_id=run.run_id, type=EventType.RUN_FINISHED, data=data)])
    storage.update_run_status(run.run_id, status)


def execute_workspace_run(file: Path, run_id: str) -> bool:
    """Claim queued run ``run_id`` of the workspace ``file`` and run it; True on success."""
    from catchment.keys import AssetKey
    from catchment.runs.execute import claim, fail_claimed, hear_cancels, selected_keys
    from catchment.workspace import load_workspace, open_workspace_storage
    from catchment.workspace.running import passes, run_workspace

    hear_cancels()
    storage = open_workspace_storage(file)
    try:
        run = claim(storage, run_id)
        try:
            wsg = load_workspace(file)
            graph = wsg.require_graph()
            keys = [AssetKey.parse(k) for k in selected_keys(graph, run)]
            keys = [k for k in keys if not graph.is_external(k)]
        except (Exception, KeyboardInterrupt) as exc:
            fail_claimed(storage, run, exc)
            raise
        tags = {k: v for k, v in run.tags.items() if k not in ("run_key", "priority")}
        success = True
        errors: list[str] = []
        not_done: set[AssetKey] = set()  # by the passes so far
        first_not_done: set[AssetKey] = set()  # by the first pass
        todo = dict.fromkeys(run.partition_keys or (None,), keys)
        for partition, todo_keys, stage in passes(wsg, todo):
            try:
                result = run_workspace(
                    wsg,
                    todo_keys,
                    partition=partition,
                    tags=tags,
                    run_id=run.run_id,
                    echo=print,
                    forward_interrupt=True,
                    failed_before=not_done if stage == "last" else first_not_done,
                )
            except KeyboardInterrupt:  # `runs cancel`, the UI's Cancel: SIGINT to this process
                _finish(storage, run, "canceled", "canceled while it ran")
                raise
            sys.stdout.flush()
            not_done |= result.not_done
            if stage == "first":
                first_not_done |= result.not_done
            if not result.success:
                success = False
                errors.extend(f"{r.project}: {r.error}" for r in result.runs if r.error)
                failed = [k for r in result.runs for k, s in r.status.items() if s != "success"]
                if failed:
                    errors.append(f"did not materialize: {', '.join(failed)}")
                if result.skipped:
                    errors.append(f"skipped: {', '.join(str(k) for k in result.skipped)}")
        _finish(storage, run, "success" if success else "failure", "; ".join(errors) or None)
        return success
    finally:
        storage.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``RUN_ID WORKSPACE_FILE``; exit 0 when the run succeeded."""
    from catchment.errors import CatchmentError

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print("usage: python -m catchment.workspace.execute RUN_ID WORKSPACE_FILE", file=sys.stderr)
        return 2
    try:
        return 0 if execute_workspace_run(Path(args[1]), args[0]) else 1
    except KeyboardInterrupt:
        print("canceled", file=sys.stderr)
        return 130
    except CatchmentError as exc:
        from catchment.secrets import redact

        print(f"error: {redact(str(exc))}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

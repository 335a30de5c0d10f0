"""What the UI's buttons do: queue a run (materialize, apply, retry from failure) and launch
its process the daemon's way, or cancel a running run as Ctrl-C would."""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import TYPE_CHECKING

from catchment.storage.base import ACTIVE_RUN_STATUSES
from catchment.ui.params import BadRequest

if TYPE_CHECKING:
    from catchment.graph import AssetGraph
    from catchment.runs.launch import Launcher
    from catchment.runs.request import RunRequest
    from catchment.storage import Storage


def queue_and_launch(
    storage: Storage, launcher: Launcher, request: RunRequest, parent_run_id: str | None = None
) -> str:
    """Record ``request`` as a queued run; returns the run id. When a daemon holds its lease,
    its queue starts the run under the limits, pools and priorities like any other; with no
    daemon, ``launcher`` starts a detached process for it here (it outlives the UI):
    ``catchment runs execute`` for a project, ``python -m catchment.workspace.execute`` for a
    workspace (whose launcher also tags the request with its teams: its ``prepare``)."""
    import msgspec

    from catchment.daemon.lease import daemon_lease
    from catchment.runs.submit import queued_record

    prepare = getattr(launcher, "prepare", None)
    if prepare is not None:
        request = prepare(request)
    record = msgspec.structs.replace(queued_record(request), parent_run_id=parent_run_id)
    submitted = storage.submit_run(record, request.run_key)
    _, live = daemon_lease(storage)  # a live daemon's queue starts it
    if not live:
        launcher.launch(storage.get_run(submitted.run_id) or record)
    return submitted.run_id


def apply_selection(
    storage: Storage, graph: AssetGraph, launcher: Launcher, select: str | None
) -> str | None:
    """Queue, as one run launched like *Materialize*, the assets of ``select`` (None: all)
    that the record store shows missing or stale (``catchment apply --no-observe``'s set);
    returns its id, or None when everything selected is fresh.

    ``catchment apply`` runs several groups one after the other when the assets need
    different partition sets; queued runs have no order between them, so that case is refused
    (``BadRequest``) with the command to run instead.
    """
    from catchment.execution.reconcile import apply_groups, reconcile
    from catchment.runs.request import RunRequest

    groups = apply_groups(reconcile(graph, storage, select), graph)
    if not groups:
        return None
    where = f" -s '{select}'" if select else ""
    if len(groups) > 1:
        raise BadRequest(
            f"the missing and stale assets{' of ' + repr(select) if select else ''} need "
            f"{len(groups)} runs, one after the other (their partition sets differ): run "
            f"`catchment apply{where}` in a terminal, or materialize them group by group"
        )
    keys, partitions = groups[0]
    request = RunRequest.for_assets(
        keys,
        partition_keys=partitions,
        tags={"trigger": "apply", "apply_selection": select or "*"},
        origin="ui",
        reason="apply from the UI",
    )
    return queue_and_launch(storage, launcher, request)


def retry_from_failure(storage: Storage, launcher: Launcher, run_id: str) -> str:
    """Queue, as a child of ``run_id``, the assets it did not materialize (and the checks it
    did not evaluate); returns the new run's id."""
    from catchment.runs.request import RunRequest
    from catchment.runs.retry import left_to_do

    run = storage.get_run(run_id)
    if run is None:
        raise LookupError(f"no run {run_id!r} in the record store")
    if run.status in ACTIVE_RUN_STATUSES:
        raise BadRequest(f"run {run_id[:12]} is {run.status}: retry it once it has ended")
    assets, checks = left_to_do(storage, run)
    if not assets:
        raise BadRequest(
            f"run {run_id[:12]} has no asset left to run"
            + (
                f" ({len(checks)} check(s) only: use catchment runs retry --from-failure)"
                if checks
                else ""
            )
        )
    request = RunRequest.for_assets(
        assets,
        partition_keys=run.partition_keys,
        check_ids=tuple(checks),
        origin="ui",
        tags={"retry_of": run_id, "from_failure": "true"},
        reason=f"retry of {run_id[:12]} from failure",
    )
    return queue_and_launch(storage, launcher, request, parent_run_id=run_id)


def cancel_run(storage: Storage, run_id: str) -> int | None:
    """Cancel ``run_id``. A queued (or starting) run is canceled in the record store, so the
    queue never starts it (returns None). A started run's process (on this host) gets SIGINT:
    its engine records the run as ``canceled``, keeps what was built and stops the rest
    (returns the pid).

    The pid is only signalled when its command line names the run, so a pid reused by
    another process is never touched, and once a step has started (the engine handles the
    interrupt from then on). Runs on other hosts are refused (``BadRequest``): no process
    here can be asked.
    """
    import time

    from catchment.storage.base import HOSTNAME

    run = storage.get_run(run_id)
    if run is None:
        raise LookupError(f"no run {run_id!r} in the record store")
    if run.status in ("queued", "starting") and run.pid is None:
        status = storage.cancel_run(run_id, time.time(), reason="canceled from the UI")
        if status == "canceled":
            return None
        run = storage.get_run(run_id) or run  # a process claimed it meanwhile
    if run.status != "started":
        raise BadRequest(f"run {run_id[:12]} is {run.status}: only a started run can be canceled")
    if run.host != HOSTNAME or run.pid is None:
        raise BadRequest(f"run {run_id[:12]} runs on {run.host or 'an unknown host'}, not here")
    from catchment.events import EventType

    if not storage.events_for_run(run_id, [EventType.STEP_STARTED]):
        # before its first step the engine may not handle SIGINT yet: it would just die
        raise BadRequest(f"run {run_id[:12]} is still starting: cancel it in a moment")
    try:
        cmdline = Path(f"/proc/{run.pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        raise BadRequest(f"the process of run {run_id[:12]} (pid {run.pid}) is gone") from None
    if not any(run_id.encode() in part for part in cmdline):
        raise BadRequest(
            f"pid {run.pid} does not name run {run_id[:12]} on its command line: only runs "
            "launched by the daemon or the UI (catchment runs execute) are canceled here; "
            "stop a `catchment materialize` with Ctrl-C in its terminal"
        )
    os.kill(run.pid, signal.SIGINT)
    return run.pid

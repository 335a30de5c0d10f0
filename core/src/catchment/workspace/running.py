"""Running a selection across a workspace: each project's assets in its own environment.

The selected assets are cut into batches: one project's assets that can run together. A
batch runs after every batch holding an upstream of its assets (a cross-project edge starts a
new level). Each batch is one run of ``python -m catchment.workspace.worker`` in the
project's environment, recorded in the workspace's shared run store and tagged with the
workspace run's id (``workspace_run``), the workspace and the project (and, when the workspace
names teams, ``team`` and ``project``: ``workspace.teams``). Its steps claim pool slots under
the workspace's ``pools:`` (sent with the request; the worker puts them over the project's
own). When an asset fails, every asset downstream of it in later batches is skipped, and
says why. A partitioned run's batch with no partitioned asset runs without the partition,
once, as unpartitioned assets do in one project's partitioned run; a run over several keys,
run one workspace run per key, runs its unpartitioned assets once, before or after the keys
(``passes``).
"""

from __future__ import annotations

import json
import signal
import subprocess
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from catchment.keys import AssetKey
    from catchment.workspace.graph import WorkspaceGraph

__all__ = ["ProjectRun", "Stage", "WorkspaceRun", "batches", "passes", "run_once", "run_workspace"]

Echo = Callable[[str], None]

_CANCEL_WAIT = 60.0
"""Seconds a canceled batch's project run has to record itself before it is killed."""


@dataclass
class ProjectRun:
    """One batch: a project's assets run in its environment."""

    project: str
    keys: list[AssetKey]
    run_id: str | None = None
    status: dict[str, str] = field(default_factory=dict)
    error: str | None = None

    @property
    def success(self) -> bool:
        """True when every asset of the batch materialized."""
        return self.error is None and all(s == "success" for s in self.status.values())


@dataclass
class WorkspaceRun:
    """What a workspace run did: its batches and the assets skipped between them."""

    run_id: str
    runs: list[ProjectRun] = field(default_factory=list)
    skipped: dict[AssetKey, str] = field(default_factory=dict)

    @property
    def success(self) -> bool:
        """True when every batch succeeded and nothing was skipped."""
        return not self.skipped and all(r.success for r in self.runs)

    @property
    def not_done(self) -> set[AssetKey]:
        """The assets that did not materialize: failed, in a batch that failed, or skipped."""
        out = set(self.skipped)
        for r in self.runs:
            out.update(
                k for k in r.keys if r.error is not None or r.status.get(k.to_string()) != "success"
            )
        return out


def batches(wsg: WorkspaceGraph, keys: Iterable[AssetKey]) -> list[tuple[str, list[AssetKey]]]:
    """(project, keys) in an order that runs every upstream first: an asset's level is its
    selected direct upstreams' highest, plus one across a project boundary; a path through
    unselected assets counts as a boundary (conservative). One pass over the graph."""
    graph = wsg.require_graph()
    chosen = set(keys)
    project_of = wsg.project_of
    keys_by_id = graph.keys_by_id
    level: dict[int, int] = {}  # selected ids
    through: dict[int, int] = {}  # unselected ids: the level a selected downstream must pass
    for i in graph.order_ids:
        key = keys_by_id[i]
        mine = project_of.get(key)
        best = -1 if key not in chosen else 0
        for u in graph.upstream_of_id(i):
            if u in level:
                up_key = keys_by_id[u]
                step = int(key not in chosen or project_of.get(up_key) != mine)
                best = max(best, level[u] + step)
            elif u in through:
                best = max(best, through[u])
        if key in chosen:
            level[i] = best
        elif best >= 0:
            through[i] = best
    groups: dict[tuple[int, str], list[AssetKey]] = {}
    for i in graph.order_ids:
        if i in level:
            key = keys_by_id[i]
            groups.setdefault((level[i], project_of[key]), []).append(key)
    order = [p.name for p in wsg.workspace.projects]
    ranked = sorted(groups.items(), key=lambda g: (g[0][0], order.index(g[0][1])))
    return [(project, ks) for (_, project), ks in ranked]


def run_once(
    wsg: WorkspaceGraph, keys: Iterable[AssetKey]
) -> tuple[list[AssetKey], list[AssetKey]]:
    """(first, last): the selected unpartitioned assets a run over several partition keys,
    one workspace run per key, runs once, as one project's run of those keys would: before
    every key those upstream of a selected partitioned asset, after every key those upstream
    of none. One both downstream and upstream of partitioned ones runs with each key."""
    graph = wsg.require_graph()
    chosen = set(keys)
    specs = graph.specs
    keys_by_id = graph.keys_by_id
    mine = [i for i in graph.order_ids if keys_by_id[i] in chosen]
    part = {i for i in mine if specs[keys_by_id[i]].partitions is not None}
    below: set[int] = set()  # downstream of a selected partitioned asset
    for i in graph.order_ids:
        if any(u in part or u in below for u in graph.upstream_of_id(i)):
            below.add(i)
    above: set[int] = set()  # upstream of a selected partitioned asset
    for i in reversed(graph.order_ids):
        if i in part or i in above:
            above.update(graph.upstream_of_id(i))
    first = [keys_by_id[i] for i in mine if i not in part and i in above and i not in below]
    last = [keys_by_id[i] for i in mine if i not in part and i not in above]
    return first, last


Stage = Literal["first", "key", "last"]
"""A pass of a run over several keys: once before the keys, one per key, once after them."""


def passes(
    wsg: WorkspaceGraph, todo: Mapping[str | None, Sequence[AssetKey]]
) -> list[tuple[str | None, list[AssetKey], Stage]]:
    """The workspace runs that carry out one run, ``todo`` its assets by partition key (None:
    unpartitioned): (partition, keys, stage). With several keys, ``run_once``'s first, one
    per key, then its last. Run each with ``failed_before`` the assets earlier passes did not
    materialize: for a key's pass those of the first pass only (the keys are independent)."""
    keyed = [p for p, ks in todo.items() if p is not None and ks]
    if len(keyed) <= 1:
        only = keyed[0] if keyed else None
        return [(only, list(todo.get(only, ())), "key")]
    every = list(dict.fromkeys(k for p in keyed for k in todo[p]))
    first, last = run_once(wsg, every)
    once = set(first) | set(last)
    out: list[tuple[str | None, list[AssetKey], Stage]] = [(None, first, "first")] if first else []
    for p in keyed:
        each = [k for k in todo[p] if k not in once]
        if each:
            out.append((p, each, "key"))
    return out + ([(None, last, "last")] if last else [])


def _run_batch(
    wsg: WorkspaceGraph,
    project: str,
    keys: list[AssetKey],
    tags: dict[str, str],
    partition: str | None,
    forward_interrupt: bool = False,
) -> ProjectRun:
    from catchment.workspace.teams import project_tags

    ws = wsg.workspace
    entry = ws.project(project)
    request = {
        "project": str(entry.path),
        "storage": ws.storage_url,
        "keys": [k.to_string() for k in keys],
        "partition": partition,
        "tags": {**tags, "workspace_project": project, **project_tags(ws, project)},
        "pools": ws.queue.pools,
        "pool_lease_seconds": ws.queue.pool_lease_seconds,
    }
    out = ProjectRun(project, keys)
    try:
        proc = subprocess.Popen(
            entry.command("-m", "catchment.workspace.worker"),
            cwd=entry.path,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
    except OSError as exc:
        out.error = f"its environment cannot start ({entry.environment}): {exc.strerror}"
        return out
    try:
        stdout, _ = proc.communicate(json.dumps(request))
    except KeyboardInterrupt:
        if forward_interrupt:  # only this process was asked: the batch's run is asked too
            proc.send_signal(signal.SIGINT)
        try:  # the project's run records what it finished and ends canceled
            proc.communicate(timeout=_CANCEL_WAIT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
        raise
    lines = [ln for ln in stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not lines:
        out.error = (
            f"the run in its environment ({entry.environment}) failed (exit {proc.returncode})"
        )
        return out
    summary = json.loads(lines[-1])
    out.run_id = summary["run_id"]
    out.status = dict(summary["status"])
    return out


def run_workspace(
    wsg: WorkspaceGraph,
    keys: Iterable[AssetKey],
    *,
    partition: str | None = None,
    tags: dict[str, str] | None = None,
    echo: Echo = print,
    run_id: str | None = None,
    forward_interrupt: bool = False,
    failed_before: Iterable[AssetKey] = (),
) -> WorkspaceRun:
    """Run ``keys`` batch by batch, each in its project's environment (see the module's
    docstring); ``echo`` tells what starts and what is skipped; ``run_id``: the workspace
    run's id (a queued run's, when the daemon started it; default a new one).

    On SIGINT the running batch's project run is waited for (it records what it finished
    and ends canceled) and ``KeyboardInterrupt`` is raised; ``forward_interrupt``: pass the
    SIGINT on to it (a cancel signals this process only; Ctrl-C in a terminal reaches both).
    ``failed_before``: assets that did not materialize in earlier runs of the same workspace
    run (its other keys): what is downstream of them is skipped."""
    graph = wsg.require_graph()
    result = WorkspaceRun(run_id or uuid.uuid4().hex[:12])
    base = {**(tags or {}), "workspace": wsg.workspace.name, "workspace_run": result.run_id}
    failed: set[AssetKey] = set(failed_before)
    for project, batch in batches(wsg, keys):
        runnable = []
        for key in batch:
            blocked = (
                sorted(str(u) for u in graph.ancestors([key]) if u in failed) if failed else []
            )
            if blocked:
                failed.add(key)
                result.skipped[key] = f"upstream {', '.join(blocked)} did not materialize"
                echo(
                    f"{project}: skipped {key} (upstream {', '.join(blocked)} did not materialize)"
                )
            else:
                runnable.append(key)
        if not runnable:
            continue
        names = ", ".join(k.to_string() for k in runnable)
        echo(f"{project}: materializing {len(runnable)} asset(s) in its environment: {names}")
        # as in one project's run, unpartitioned assets run once, unaware of the partition;
        # a batch holding only those runs without one (its planner would refuse it)
        partitioned = any(graph.specs[k].partitions is not None for k in runnable)
        batch_partition = partition if partitioned else None
        run = _run_batch(wsg, project, runnable, base, batch_partition, forward_interrupt)
        result.runs.append(run)
        if run.error is not None:
            echo(f"{project}: {run.error}")
            failed.update(runnable)
            continue
        failed.update(k for k in runnable if run.status.get(k.to_string()) != "success")
        echo(f"{project}: run {run.run_id} {'succeeded' if run.success else 'failed'}")
    return result

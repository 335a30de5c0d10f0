"""Pools on a workspace: the workspace's ``pools:`` over each project's own.

Pool claims live in the shared record store, so a pool named by components of two projects
is one pool, limited across both. Its limit, for every project's steps, is (first found):

1. the limit stored with ``catchment pools set`` in the shared store (as for a project);
2. the workspace's ``pools:`` value (the workspace wins over a project's own ``pools:``);
3. the ``pools:`` value of the project whose step claims (a pool the workspace does not name).

The workspace's values reach the project runs with their request (``workspace.running``);
the worker puts them over the project's own (``under_workspace``). A project whose own value
disagrees is told so, in ``catchment check``, ``catchment pools list`` and on the run's
output, but is not a problem: the workspace's value applies. A project's own ``queue:`` run
limits are not used in a workspace either (its daemon starts runs under the workspace's
``queue:``): ``catchment check`` says so for a project that sets any (:func:`unused_queue`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catchment.components import ProjectDefaults
    from catchment.storage.queue import QueueLimits

__all__ = ["disagreements", "under_workspace", "unused_queue"]


def disagreements(workspace: Mapping[str, int], project: Mapping[str, int], name: str) -> list[str]:
    """One line per pool whose limit in project ``name``'s ``pools:`` is not the workspace's."""
    return [
        f"project {name}: its pools.{pool}: {project[pool]} is not used; the workspace's "
        f"pools.{pool}: {slots} applies"
        for pool, slots in sorted(workspace.items())
        if pool in project and project[pool] != slots
    ]


def unused_queue(limits: QueueLimits, name: str) -> list[str]:
    """A line when project ``name``'s ``queue:`` sets run limits, which a workspace does not
    use (none otherwise), so a limit a team wrote is never silently dropped."""
    parts = []
    if limits.max_concurrent_runs is not None:
        parts.append(f"max_concurrent_runs: {limits.max_concurrent_runs}")
    if limits.tag_limits:
        parts.append(f"{len(limits.tag_limits)} tag_limits")
    if not parts:
        return []
    return [
        f"project {name}: its queue: ({', '.join(parts)}) is not used in a workspace; the "
        "workspace's queue: in catchment.workspace.yaml limits every project's runs"
    ]


def under_workspace(
    defaults: ProjectDefaults, pools: Mapping[str, int], pool_lease_seconds: float
) -> ProjectDefaults:
    """A project's defaults as its runs in a workspace use them: the workspace's pool limits
    over the project's own, and the workspace's pool lease."""
    queue = dataclasses.replace(
        defaults.queue,
        pools={**defaults.queue.pools, **pools},
        pool_lease_seconds=pool_lease_seconds,
    )
    return dataclasses.replace(defaults, queue=queue)

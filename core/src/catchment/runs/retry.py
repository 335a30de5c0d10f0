"""What a retry from failure runs again: the assets of a run that did not materialize, and
the checks of those that did but were never evaluated (the CLI's ``runs retry`` and the
UI's *Retry from failure* share it); and what a resumed run skips (``done_before``): the
assets its earlier attempts already materialized for every one of its partitions."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catchment.storage import RunRecord, Storage

RESUME_TAG = "resume"
"""Tag of a run that resumes its parent (``parent_run_id``): it skips what the parent and
its own ancestors materialized. Backfill chunks retried after a failure or a kill carry it."""

MAX_ATTEMPTS = 100
"""How far up a chain of resumed runs ``done_before`` looks (a guard against a cycle)."""


def left_to_do(storage: Storage, run: RunRecord) -> tuple[list[str], list[str]]:
    """Assets of ``run`` that did not materialize, and checks of assets that did but were
    never evaluated."""
    from catchment.events import EventType
    from catchment.keys import AssetKey, CheckKey

    events = storage.events_for_run(
        run.run_id, types=[EventType.MATERIALIZATION, EventType.CHECK_EVALUATED]
    )
    done = {e.asset_key for e in events if e.type is EventType.MATERIALIZATION}
    checked = {
        CheckKey(AssetKey(e.asset_key or ""), e.check.check_name).to_string()
        for e in events
        if e.type is EventType.CHECK_EVALUATED
    }
    assets = [k for k in run.asset_keys if k not in done]
    checks = [c for c in run.check_ids if c not in checked and str(CheckKey.parse(c).asset) in done]
    return assets, checks


def done_before(storage: Storage, run: RunRecord) -> set[str]:
    """Assets that the attempts ``run`` resumes (its parent, the parent's parent...) already
    materialized for all of ``run``'s partitions (or, unpartitioned, at all): a resumed run
    does not build them again, so a run killed after some of its steps ended redoes none."""
    from catchment.events import EventType

    wanted = set(run.partition_keys)
    seen: dict[str, set[str]] = {}
    parent, hops = run.parent_run_id, 0
    while parent is not None and hops < MAX_ATTEMPTS:
        for e in storage.events_for_run(parent, [EventType.MATERIALIZATION]):
            if e.asset_key is not None:
                seen.setdefault(e.asset_key, set()).add(e.partition or "")
        record = storage.get_run(parent)
        parent, hops = (record.parent_run_id if record else None), hops + 1
    return {key for key, parts in seen.items() if "" in parts or wanted <= parts}

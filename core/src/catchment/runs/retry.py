"""What a retry from failure runs again: the assets of a run that did not materialize, and
the checks of those that did but were never evaluated (the CLI's ``runs retry`` and the
UI's *Retry from failure* share it)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from catchment.storage import RunRecord, Storage


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

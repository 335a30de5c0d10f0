"""RunRequest: the plain-data request the daemon and the run queue share."""

from __future__ import annotations

from catchment.keys import AssetKey
from catchment.runs import RunRequest


def test_for_assets_sorts_and_deduplicates_keys_but_keeps_partition_order() -> None:
    request = RunRequest.for_assets(
        ["marts/b", AssetKey("marts/a"), "marts/b"],
        partition_keys=["2026-01-02", "2026-01-01", "2026-01-02"],
        origin="sensor:files",
    )
    assert request.asset_keys == ("marts/a", "marts/b")
    assert request.partition_keys == ("2026-01-02", "2026-01-01")
    assert request.keys == (AssetKey("marts/a"), AssetKey("marts/b"))
    assert request.origin == "sensor:files"


def test_json_round_trip_is_lossless_and_omits_defaults() -> None:
    request = RunRequest.for_assets(
        ["a"], tags={"team": "x"}, priority=5, run_key="2026/08/01/03", reason="new folder"
    )
    raw = request.to_json()
    assert b"check_ids" not in raw  # defaults are left out: small records
    assert RunRequest.from_json(raw) == request

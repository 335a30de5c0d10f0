"""Landing checks: did each shard's tables arrive, with rows? One check per shard and table,
made in a loop and held in a list (catchment collects definitions inside lists)."""

from __future__ import annotations

import duckdb
from catchment import AssetKey, CheckResult, asset_check

SHARDS = ("shard_eu", "shard_us")
TABLES = ("orders", "customers")


def landed(shard: str, table: str):  # type: ignore[no-untyped-def]
    """A check that ``shard.table`` exists in the warehouse and has rows."""

    @asset_check(asset=f"{shard}/{table}", name="landed")
    def check(context) -> CheckResult:  # type: ignore[no-untyped-def]
        with duckdb.connect(str(context.warehouse), read_only=True) as con:
            rows = con.execute(f'select count(*) from "{shard}"."{table}"').fetchone()[0]
        return CheckResult(
            asset_key=AssetKey((shard, table)),
            check_name="landed",
            passed=rows > 0,
            metadata={"rows": rows},
        )

    return check


LANDING = [landed(shard, table) for shard in SHARDS for table in TABLES]

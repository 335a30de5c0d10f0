"""Each hour's orders leave for Snowflake: written as CSV, PUT into the ``hourly_drop`` stage
and COPY'd INTO ``exports.orders_hourly`` (fakesnow stands in when there is no account)."""

from __future__ import annotations

import csv
import tempfile
from pathlib import Path

import duckdb
from catchment import AssetKey, MaterializeResult, TimeWindowPartitions, asset

HOURS = TimeWindowPartitions(start="2026-12-02-00:00", end="2026-12-03-00:00", cadence="hourly")


@asset(
    key="exports/orders_hourly_copied",
    partitions=HOURS,
    deps=["orders_hourly", "exports/orders_hourly", "exports/hourly_drop"],
    resources=["snowflake"],
    group="exports",
)
def orders_hourly_copied(context, snowflake) -> MaterializeResult:  # type: ignore[no-untyped-def]
    """Replace the run's hours in Snowflake with the warehouse's rows for them."""
    windows = [HOURS.window(k) for k in context.partition_keys]
    start, end = min(w[0] for w in windows), max(w[1] for w in windows)
    with duckdb.connect(str(context.warehouse), read_only=True) as con:
        rows = con.execute(
            "select hour, shard, orders, revenue_eur from main.orders_hourly "
            "where hour >= ? and hour < ? order by hour, shard",
            [start.replace(tzinfo=None), end.replace(tzinfo=None)],
        ).fetchall()
    per_hour = dict.fromkeys(context.partition_keys, 0)
    for row in rows:
        hour = HOURS.key_for(row[0])
        if hour in per_hour:
            per_hour[hour] += 1
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"orders_hourly_{context.run_id}.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["hour", "shard", "orders", "revenue_eur"])
            writer.writerows(rows)
        with snowflake.connect(context) as session:
            cur = session.cursor()
            cur.execute(
                "DELETE FROM EXPORTS.ORDERS_HOURLY WHERE HOUR >= %s AND HOUR < %s",
                (start.strftime("%Y-%m-%d %H:%M:%S"), end.strftime("%Y-%m-%d %H:%M:%S")),
            )
            # The stage is a managed object (warehouse_objects); fakesnow keeps stages per
            # session only, so the emulator needs it declared again here (a no-op on Snowflake).
            cur.execute("CREATE STAGE IF NOT EXISTS EXPORTS.HOURLY_DROP")
            # PURGE empties the stage after loading, so the next run loads only its own file
            cur.execute(f"PUT 'file://{path}' @EXPORTS.HOURLY_DROP")
            cur.execute(
                "COPY INTO EXPORTS.ORDERS_HOURLY FROM @EXPORTS.HOURLY_DROP "
                "FILE_FORMAT = (TYPE = CSV SKIP_HEADER = 1) PURGE = TRUE"
            )
    return MaterializeResult(
        key=AssetKey(("exports", "orders_hourly_copied")),
        metadata={"rows": len(rows)},
        partition_metadata={k: {"rows": n} for k, n in per_hour.items()},
    )

"""A Modal app that scores customers from the Spark feature table.

catchment runs it in local mode (``fn.local()``, no Modal account needed); with a Modal token
and ``mode: remote`` the same function runs in Modal's cloud. ``@asset_spec`` declares what it
reads and writes by physical identity, so the graph links it to the Spark job.
"""

from __future__ import annotations

import modal
from catchment_modal import asset_spec

app = modal.App("catchment-platform-scoring")


@app.function(timeout=300)
@asset_spec(
    key="ml/customer_scores",
    reads=["file:data/features/customer_features"],
    writes="duckdb:ml.customer_scores",
    group="ml",
    checks=["scores_in_range"],
)
def score_customers() -> None:
    """Score each customer 0..1 from revenue, basket size and recency (a stand-in model)."""
    import duckdb
    from catchment.pipes.remote import open_pipes

    with open_pipes() as pipes:
        (features,) = pipes.get_extra("reads")  # the parquet folder the Spark job wrote
        parquet = f"{features['location']}/{features['name']}/*.parquet"
        with duckdb.connect(pipes.get_extra("warehouse")) as con:
            con.execute("create schema if not exists ml")
            con.execute(
                f"""
                create or replace table ml.customer_scores as
                with f as (
                    select * from read_parquet('{parquet}')
                )
                select
                    customer_id,
                    round(
                        0.5 * revenue / nullif(max(revenue) over (), 0)
                        + 0.3 * cart_value / nullif(max(cart_value) over (), 0)
                        + 0.2 * (1 - coalesce(days_since_last_order, 365) / 365.0),
                        4
                    ) as score
                from f
                """
            )
            rows, low, high = con.execute(
                "select count(*), min(score), max(score) from ml.customer_scores"
            ).fetchone()
        pipes.log.info(f"scored {rows} customers")
        pipes.report_materialization(metadata={"rows": rows, "max_score": high})
        pipes.report_check(
            "scores_in_range", passed=0 <= low <= high <= 1, metadata={"min": low, "max": high}
        )

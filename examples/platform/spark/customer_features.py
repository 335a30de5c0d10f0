"""PySpark job: per-customer features from the `customer_orders` mart, written as parquet.

Run by catchment with spark-submit; the mart's DuckDB table and the output path come over
catchment pipes (see the `features` component in catchment.yaml).
"""

from __future__ import annotations

import duckdb
from catchment_pipes import open_pipes
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

with open_pipes() as pipes:
    (mart,) = pipes.get_extra("inputs")
    output = pipes.get_extra("outputs")["features/customer_features"]
    spark = SparkSession.builder.getOrCreate()
    with duckdb.connect(mart["database_file"], read_only=True) as con:
        frame = con.execute(f'select * from "{mart["schema"]}"."{mart["name"]}"').df()
    orders = spark.createDataFrame(frame)
    features = orders.select(
        "customer_id",
        F.col("orders").cast("int").alias("orders"),
        F.col("revenue").cast("double").alias("revenue"),
        (F.col("revenue") / F.greatest(F.col("orders"), F.lit(1)))
        .cast("double")
        .alias("avg_order_value"),
        F.col("cart_value").cast("double").alias("cart_value"),
        F.datediff(F.lit("2026-11-01"), F.col("last_order_date")).alias("days_since_last_order"),
    )
    features.coalesce(1).write.mode("overwrite").parquet(output["path"])
    rows = features.count()
    pipes.report_materialization("features/customer_features", metadata={"rows": rows})
    pipes.report_check(
        "one_row_per_customer",
        passed=rows == features.select("customer_id").distinct().count(),
        asset_key="features/customer_features",
    )
    spark.stop()

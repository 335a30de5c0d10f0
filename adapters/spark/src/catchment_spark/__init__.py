"""catchment-spark: Spark DataFrame assets, a Spark IO manager and spark-submit jobs.

Importing this package does not import pyspark; each name resolves on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from catchment.lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "SparkResource": "catchment_spark.resource",
    "SparkIOManager": "catchment_spark.io_manager",
    "spark_asset": "catchment_spark.assets",
    "read_table": "catchment_spark.reading",
    "to_spark": "catchment_spark.reading",
    "find_spark_submit": "catchment_spark.execution",
    "SparkSubmit": "catchment_spark.execution",
    "SparkAttributes": "catchment_spark.attributes",
}

__all__ = [
    "SparkAttributes",
    "SparkIOManager",
    "SparkResource",
    "SparkSubmit",
    "__version__",
    "find_spark_submit",
    "read_table",
    "spark_asset",
    "to_spark",
]


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)


if TYPE_CHECKING:
    from catchment_spark.assets import spark_asset
    from catchment_spark.attributes import SparkAttributes
    from catchment_spark.execution import SparkSubmit, find_spark_submit
    from catchment_spark.io_manager import SparkIOManager
    from catchment_spark.reading import read_table, to_spark
    from catchment_spark.resource import SparkResource

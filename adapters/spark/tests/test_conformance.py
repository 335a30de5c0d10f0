"""The Spark adapter's script jobs against the conformance kit (catchment.testing): real
spark-submit drivers reporting over catchment pipes (each run starts a JVM: slow)."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.testing import AdapterConformance, write_project

pytestmark = pytest.mark.slow

NUMBERS = """
from catchment_pipes import open_pipes
from pyspark.sql import SparkSession

with open_pipes() as pipes:
    outputs = pipes.get_extra("outputs")
    spark = SparkSession.builder.getOrCreate()
    numbers = spark.range(6)
    numbers.write.mode("overwrite").parquet(outputs["spark/numbers"]["path"])
    pipes.report_materialization("spark/numbers", metadata={"rows": 6})
    evens = numbers.filter("id % 2 = 0")
    evens.write.mode("overwrite").parquet(outputs["spark/evens"]["path"])
    pipes.report_materialization("spark/evens", metadata={"rows": evens.count()})
    pipes.report_check("not_empty", numbers.count() > 0, asset_key="spark/numbers")
"""

DOUBLED = """
from catchment_pipes import open_pipes
from pyspark.sql import SparkSession

with open_pipes() as pipes:
    outputs = pipes.get_extra("outputs")
    [numbers] = pipes.get_extra("inputs")
    spark = SparkSession.builder.getOrCreate()
    doubled = spark.read.parquet(numbers["path"]).selectExpr("id * 2 as id")
    doubled.write.mode("overwrite").parquet(outputs["spark/doubled"]["path"])
    pipes.report_materialization("spark/doubled", metadata={"rows": doubled.count()})
"""

BROKEN = """
from catchment_pipes import open_pipes

with open_pipes() as pipes:
    raise RuntimeError("input bucket s3://nowhere is not reachable")
"""


class TestSparkConformance(AdapterConformance):
    adapter_name = "spark"
    supports_subset = False  # a script job always runs all its outputs
    supports_partitions = False
    has_checks = True
    max_subset_runs = 2

    @pytest.fixture
    def project_dir(self, tmp_path: Path) -> Path:
        root = tmp_path / "proj"
        (root / "jobs").mkdir(parents=True)
        (root / "jobs" / "make_numbers.py").write_text(NUMBERS)
        (root / "jobs" / "double_numbers.py").write_text(DOUBLED)
        jobs = [
            {
                "name": "numbers",
                "script": "jobs/make_numbers.py",
                "outputs": [
                    {
                        "key": "spark/numbers",
                        "path": "data/spark/numbers",
                        "checks": [{"name": "not_empty"}],
                    },
                    {"key": "spark/evens", "path": "data/spark/evens"},
                ],
            },
            {
                "name": "doubled",
                "script": "jobs/double_numbers.py",
                "inputs": [{"path": "data/spark/numbers"}],
                "outputs": [{"key": "spark/doubled", "path": "data/spark/doubled"}],
                # a credential the job would read from its environment
                "env": {"API_TOKEN": '{{ env("CATCHMENT_CONFORMANCE_SECRET") }}'},
            },
        ]
        attributes = {"master": "local[1]", "conf": {"spark.sql.shuffle.partitions": "1"}}
        component = {"type": "spark", "name": "jobs", "attributes": {**attributes, "jobs": jobs}}
        return write_project(root, [component])

    @pytest.fixture
    def failing_selection(self, project_dir: Path) -> str:
        (project_dir / "jobs" / "double_numbers.py").write_text(BROKEN)
        return "spark/doubled"

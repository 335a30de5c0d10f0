"""What a real Spark write leaves in a project folder (Parquet parts, their checksums,
``_SUCCESS``) is data: the definitions snapshot's key stays the same, run after run."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.snapshot.key import project_key

pytestmark = pytest.mark.slow


def test_a_spark_output_in_the_project_leaves_the_key_alone(spark, tmp_path: Path) -> None:
    (tmp_path / "catchment.yaml").write_text("project: {name: ml}\n")
    (tmp_path / "spark").mkdir()
    (tmp_path / "spark" / "job.py").write_text("print('features')\n")
    out = tmp_path / "data" / "features" / "customer_features"
    spark.range(3).write.mode("overwrite").parquet(str(out))
    key = project_key(tmp_path / "catchment.yaml", racy_after=0)
    spark.range(5).write.mode("overwrite").parquet(str(out))  # parts of new names
    assert any(p.name.endswith(".parquet") for p in out.iterdir())
    assert project_key(tmp_path / "catchment.yaml", racy_after=0) == key
    (tmp_path / "spark" / "job.py").write_text("print('features, v2')\n")
    assert project_key(tmp_path / "catchment.yaml", racy_after=0) != key

"""Locating spark-submit and building its command line (no Spark is started)."""

from __future__ import annotations

from pathlib import Path

import pytest
from catchment.errors import ConfigError
from catchment_spark.execution import SparkSubmit, find_spark_submit, pyspark_home


def test_spark_submit_is_found_in_the_pyspark_package(monkeypatch):
    monkeypatch.delenv("SPARK_HOME", raising=False)
    found = find_spark_submit()
    assert found == pyspark_home() / "bin" / "spark-submit"


def test_an_explicit_missing_path_is_an_error_even_when_pyspark_has_one(monkeypatch):
    monkeypatch.delenv("SPARK_HOME", raising=False)
    assert pyspark_home() is not None  # a fallback exists, and must not be used silently
    with pytest.raises(ConfigError, match="is not an executable file") as info:
        find_spark_submit("/opt/nowhere/spark-submit")
    assert "/opt/nowhere/spark-submit" in str(info.value)
    assert "attributes.spark_submit" in str(info.value)


def test_nothing_found_lists_what_was_tried(monkeypatch):
    monkeypatch.delenv("SPARK_HOME", raising=False)
    monkeypatch.setattr("catchment_spark.execution.pyspark_home", lambda: None)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(ConfigError, match="cannot find spark-submit") as info:
        find_spark_submit()
    assert "SPARK_HOME" in info.value.hint


def test_the_command_binds_local_mode_to_loopback_and_user_conf_wins(tmp_path):
    submit = SparkSubmit(master="local[2]", conf={"spark.ui.enabled": "true", "a.b": "1"})
    argv = submit.command(Path("job.py"), ["--x", "1"], [tmp_path / "catchment_pipes.py"])
    confs = [argv[i + 1] for i, a in enumerate(argv) if a == "--conf"]
    assert "spark.driver.bindAddress=127.0.0.1" in confs
    assert "spark.ui.enabled=true" in confs
    assert "a.b=1" in confs
    assert argv[argv.index("--master") + 1] == "local[2]"
    assert argv[argv.index("--py-files") + 1] == str(tmp_path / "catchment_pipes.py")
    assert argv[-3:] == ["job.py", "--x", "1"]


def test_a_cluster_master_gets_no_loopback_binding():
    argv = SparkSubmit(master="spark://cluster:7077").command(Path("job.py"), [], [])
    assert not any("bindAddress" in a for a in argv)
    assert "SPARK_LOCAL_IP" not in SparkSubmit(master="spark://cluster:7077").environment()

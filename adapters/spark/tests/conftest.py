"""One local SparkSession for the whole test run (a session costs ~10 s and ~500 MB), and a
fresh warehouse directory per test."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from catchment_spark import SparkResource

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def spark_resource(tmp_path_factory):
    """A shared SparkResource: steps join its session and never stop it."""
    warehouse = tmp_path_factory.mktemp("spark-warehouse")
    resource = SparkResource(
        master="local[2]",
        app_name="catchment-tests",
        shared=True,
        conf={"spark.sql.shuffle.partitions": "2", "spark.sql.warehouse.dir": str(warehouse)},
    )
    session = resource.setup()
    yield resource
    session.stop()


@pytest.fixture
def spark(spark_resource):
    return spark_resource.session()


@pytest.fixture
def warehouse_dir(tmp_path):
    """A fresh directory per test (Spark refuses to write a table location twice)."""
    path = tmp_path / "warehouse"
    path.mkdir()
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])

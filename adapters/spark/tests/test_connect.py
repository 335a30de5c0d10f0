"""A function asset through a real local Spark Connect server (started and always stopped)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from catchment_spark import find_spark_submit
from catchment_spark.execution import pyspark_home
from catchment_spark.resource import local_spark_env

from .conftest import free_port

pytestmark = pytest.mark.slow

SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.fixture(scope="module")
def connect_url(tmp_path_factory):
    port = free_port()
    log = tmp_path_factory.mktemp("connect") / "server.log"
    env = {**os.environ, **local_spark_env("local[1]"), "SPARK_HOME": str(pyspark_home())}
    argv = [
        str(find_spark_submit()),
        "--class", SERVER_CLASS,
        "--name", "catchment-test-connect",
        "--master", "local[1]",
        "--conf", f"spark.connect.grpc.binding.port={port}",
        "--conf", "spark.connect.grpc.binding.address=127.0.0.1",
        "--conf", "spark.driver.bindAddress=127.0.0.1",
        "--conf", "spark.ui.enabled=false",
    ]  # fmt: skip
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)  # fmt: skip
    try:
        deadline = time.monotonic() + 180
        while not _listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"Spark Connect server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield f"sc://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


CLIENT = """
import json, sys
from catchment import materialize
from catchment_spark import SparkIOManager, SparkResource, spark_asset

seen = {}

@spark_asset
def numbers(spark):
    seen["session"] = type(spark).__module__
    return spark.range(5).withColumnRenamed("id", "n")

@spark_asset
def evens(spark, numbers):
    return numbers.filter("n % 2 = 0")

resource = SparkResource(remote=sys.argv[1])
result = materialize(
    [numbers, evens],
    resources={"spark": resource},
    io_managers={"spark": SparkIOManager(sys.argv[2])},
)
rows = {e.asset_key: e.data["metadata"]["rows"] for e in result.materializations}
print(json.dumps({"session": seen["session"], "rows": rows, "stopped": resource._session is None}))
"""


def test_a_function_asset_runs_through_spark_connect(connect_url, warehouse_dir, tmp_path):
    # Its own process: pyspark refuses a remote session next to the shared local one.
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    done = subprocess.run(
        [sys.executable, str(script), connect_url, str(warehouse_dir)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["session"].startswith("pyspark.sql.connect")
    assert report["rows"] == {"numbers": 5, "evens": 3}
    assert report["stopped"]  # not shared: stopped on teardown
    assert any((warehouse_dir / "evens").glob("*.parquet"))

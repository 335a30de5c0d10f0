"""SparkResource settings, and the shared local session it starts."""

from __future__ import annotations

import pytest
from catchment_spark import SparkResource
from pydantic import ValidationError


def test_remote_must_be_a_spark_connect_url():
    with pytest.raises(ValidationError, match="sc://host:port"):
        SparkResource(remote="http://spark:15002")


def test_conf_values_become_strings():
    resource = SparkResource(conf={"spark.sql.shuffle.partitions": 4, "spark.x": True})
    assert resource.conf == {"spark.sql.shuffle.partitions": "4", "spark.x": "true"}


@pytest.mark.slow
def test_local_sessions_bind_to_loopback_with_the_ui_off(spark_resource, spark):
    conf = spark.sparkContext.getConf()
    assert conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.sql.shuffle.partitions") == "2"
    assert spark.sparkContext.uiWebUrl is None
    spark_resource.teardown()  # shared: teardown leaves the session running
    assert spark.range(3).count() == 3

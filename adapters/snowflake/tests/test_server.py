"""Over the wire: the real connector logs in to ``fakesnow.server()`` on loopback HTTP (Snowflake's
cloud cannot be reached here) and our resource, IO manager and component run unpatched.

fakesnow 0.11.4's server cannot run ``write_pandas`` (its PUT to a temporary stage fails), so
the IO manager uses ``write_method="insert"`` here; ``write_pandas`` is covered in patch mode.
The server keeps one in-memory database per process: each test uses its own database name.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import fakesnow
import pandas as pd
import pyarrow as pa
import pytest
from catchment import asset
from catchment.execution.api import materialize
from catchment_snowflake.io_manager import SnowflakeIOManager
from catchment_snowflake.resource import SnowflakeResource


@pytest.fixture(scope="module")
def server() -> Iterator[dict[str, Any]]:
    with fakesnow.server() as kwargs:
        yield kwargs


@pytest.fixture
def remote(server: dict[str, Any], password: str) -> SnowflakeResource:
    return SnowflakeResource(
        account=server["account"],
        user=server["user"],
        password=password,  # the emulator accepts any password
        database=f"db_{uuid.uuid4().hex[:8]}",
        schema="public",
        login_timeout=10,
        connect_args={
            "host": server["host"],
            "port": server["port"],
            "protocol": server["protocol"],
            "network_timeout": 30,
        },
    )


def test_io_manager_round_trip_over_loopback(remote: SnowflakeResource) -> None:
    io = SnowflakeIOManager(remote, write_method="insert")

    @asset(key="raw/orders", io_manager_key="sf")
    def orders() -> pd.DataFrame:
        return pd.DataFrame({"order_id": [1, 2, 3], "amount": [1.5, 2.5, None]})

    @asset(
        key="marts/summary",
        io_manager_key="sf",
        ins={"orders": "raw/orders"},
        metadata={"dataframe": "pyarrow"},
    )
    def summary(orders: pd.DataFrame) -> pa.Table:
        return pa.table({"n": [len(orders)], "total": [float(orders["amount"].sum())]})

    first = materialize([orders, summary], io_managers={"sf": io})
    again = materialize([orders, summary], io_managers={"sf": io})  # rewrite: same rows, once
    for result in (first, again):
        loaded = result.output_for("raw/orders").sort_values("order_id")
        assert loaded["order_id"].tolist() == [1, 2, 3]
        assert loaded["amount"].tolist()[:2] == [1.5, 2.5]
        assert result.output_for("marts/summary").to_pylist() == [{"n": 3, "total": 4.0}]


def test_component_creates_then_issues_no_ddl_over_loopback(
    remote: SnowflakeResource, project_root: Any
) -> None:
    from catchment.components import ComponentContext, ProjectDefaults
    from catchment_snowflake.attributes import SnowflakeAttributes
    from catchment_snowflake.component import build

    attrs = SnowflakeAttributes.model_validate(
        {
            "connection": "sf",
            "objects": [
                {"kind": "stage", "name": "landing", "schema": "raw"},
                {
                    "kind": "table",
                    "name": "t",
                    "schema": "raw",
                    "columns": [{"name": "a", "type": "int"}],
                },
                {"kind": "view", "name": "v", "schema": "raw", "query": "select a from raw.t"},
            ],
        }
    )
    ctx = ComponentContext(
        name="objects",
        project=ProjectDefaults.for_root(project_root),
        source="catchment.yaml:3",
        resources={"sf": remote},
    )
    (defn,) = build(attrs, ctx)
    first = materialize([defn], resources={"sf": remote})
    assert {e.data["metadata"]["action"] for e in first.materializations} == {"created"}
    second = materialize([defn], resources={"sf": remote})
    assert [e.data["metadata"]["statements"] for e in second.materializations] == [[], [], []]
    assert {e.data["metadata"]["action"] for e in second.materializations} == {"unchanged"}

"""``role:`` per managed object (issue 25): its DDL runs under that role (``USE ROLE``) and the
session's role comes back after. fakesnow cannot run USE ROLE ("Unexpected parent kind:
ROLE"), so these tests let it accept USE ROLE as a no-op and check the statements sent, in
order; the objects themselves are really created by the emulator."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import fakesnow
import pytest
from catchment import materialize
from catchment_snowflake.ddl import use_role_sql
from catchment_snowflake.objects import normalise
from catchment_snowflake.resource import SnowflakeResource

from .conftest import FILE_FORMAT_NOPS

OBJECTS = [
    {
        "kind": "table",
        "name": "orders",
        "schema": "raw",
        "role": "loader",
        "columns": [{"name": "id", "type": "number"}],
    },
    {"kind": "view", "name": "v_orders", "schema": "raw", "query": "select id from raw.orders"},
]


@pytest.fixture
def fake_roles() -> Iterator[None]:
    with fakesnow.patch(nop_regexes=[*FILE_FORMAT_NOPS, r"USE ROLE .*"]):
        yield


def test_use_role_sql_resolves_like_snowflake() -> None:
    assert use_role_sql("loader") == 'USE ROLE "LOADER"'
    assert use_role_sql('"MixedRole"') == 'USE ROLE "MixedRole"'


@pytest.mark.usefixtures("fake_roles")
def test_an_objects_ddl_runs_under_its_role_and_the_session_role_returns(
    build_objects: Any, resource: SnowflakeResource, sql_log: Any, run_sql: Any
) -> None:
    defn = build_objects(OBJECTS)
    result = materialize([defn], resources={"sf": resource})
    assert result.success, result.failures
    meta = {e.asset_key: e.data["metadata"] for e in result.materializations}
    assert meta["raw/orders"]["statements"][0] == 'USE ROLE "LOADER"'
    assert not any(s.startswith("USE ROLE") for s in meta["raw/v_orders"]["statements"])
    ddl = sql_log.ddl()
    at = ddl.index('USE ROLE "LOADER"')
    create = next(
        i for i, s in enumerate(ddl) if s.startswith('CREATE TABLE IF NOT EXISTS "ANALYTICS"."RAW"')
    )
    back = next(i for i, s in enumerate(ddl) if s.startswith("USE ROLE") and i > at)
    assert at < create < back  # the table was created under LOADER, then the role came back
    assert run_sql("SELECT COUNT(*) FROM ANALYTICS.RAW.ORDERS") == [(0,)]


def test_setting_a_role_changes_the_definition_only_when_set() -> None:
    from catchment_snowflake.identifiers import Relation
    from catchment_snowflake.objects import ManagedObject
    from pydantic import TypeAdapter

    rel = Relation("ANALYTICS", "RAW", "ORDERS")
    plain = TypeAdapter(ManagedObject).validate_python({**OBJECTS[0], "role": None})
    with_role = TypeAdapter(ManagedObject).validate_python(OBJECTS[0])
    assert "role" not in normalise(plain, rel)  # existing objects keep their applied hash
    assert normalise(with_role, rel)["role"] == "LOADER"

"""The ``snowflake`` component: discovery (specs, identity, lineage, code versions, bad input)
and materialization through the real engine against fakesnow (Snowflake's cloud cannot be
reached here; fakesnow 0.11.4 + the real connector stand in)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest
import snowflake.connector
import yaml
from catchment import asset
from catchment.errors import ConfigError
from catchment.execution.api import materialize
from catchment.graph import AssetGraph
from catchment.keys import AssetKey
from catchment.tables import table
from catchment_snowflake.attributes import SnowflakeAttributes
from catchment_snowflake.component import build
from catchment_snowflake.io_manager import SnowflakeIOManager
from catchment_snowflake.resource import SnowflakeResource
from pydantic import ValidationError

LANDING: list[dict[str, Any]] = [
    {"kind": "file_format", "name": "csv_format", "schema": "raw", "type": "csv",
     "options": {"skip_header": 1, "field_optionally_enclosed_by": '"'}},
    {"kind": "stage", "name": "landing", "schema": "raw", "file_format": "csv_format",
     "comment": "files from partners"},
    {"kind": "table", "name": "orders", "schema": "raw", "group": "ingest",
     "columns": [{"name": "id", "type": "number(38,0)", "nullable": False},
                 {"name": "amount", "type": "number(10,2)"}]},
    {"kind": "view", "name": "big_orders", "schema": "marts",
     "query": "select id, amount from raw.orders where amount > 100"},
]  # fmt: skip


def connect_calls() -> list[Any]:
    """The sessions opened so far (fakesnow's patch records calls to connect)."""
    return list(snowflake.connector.connect.call_args_list)


def _specs(defn: Any) -> dict[str, Any]:
    return {str(s.key): s for s in defn.specs}


def test_each_object_is_an_asset_with_identity_kinds_and_lineage(build_objects: Any) -> None:
    defn = build_objects(LANDING)
    specs = _specs(defn)
    assert list(specs) == ["raw/csv_format", "raw/landing", "raw/orders", "marts/big_orders"]
    orders = specs["raw/orders"]
    assert orders.kinds == ("snowflake", "table")
    assert orders.table == table(
        "snowflake", "orders", schema="raw", database="analytics", location="acme-prod"
    )
    assert orders.group == "ingest"
    assert len(orders.code_version or "") == 16
    assert specs["raw/landing"].reads == (specs["raw/csv_format"].table,)
    assert specs["marts/big_orders"].reads == (orders.table,)
    assert defn.adapter == "snowflake"
    assert defn.can_subset
    assert defn.required_resources == frozenset({"sf"})
    graph = AssetGraph.build([defn])
    assert graph.upstream(AssetKey("marts/big_orders")) == {AssetKey("raw/orders")}
    assert graph.upstream(AssetKey("raw/landing")) == {AssetKey("raw/csv_format")}


def test_a_view_over_an_io_manager_table_links_to_that_asset(
    build_objects: Any, resource: SnowflakeResource
) -> None:
    io = SnowflakeIOManager(resource)

    @asset(key="raw/customers", io_manager_key="sf")
    def customers() -> pd.DataFrame:
        return pd.DataFrame({"id": [1]})

    defn = build_objects(
        [
            {
                "kind": "view",
                "name": "active",
                "schema": "marts",
                "query": "select * from analytics.raw.customers",
            }
        ]
    )
    graph = AssetGraph.build(
        [customers, defn], io_tables=lambda s: io.table_for(s.key) if s.io_manager_key else None
    )
    assert graph.upstream(AssetKey("marts/active")) == {AssetKey("raw/customers")}


def test_code_version_ignores_layout_but_not_meaning(build_objects: Any) -> None:
    base = {"kind": "view", "name": "v", "query": "select id from t where x = 1"}
    same = {**base, "query": "SELECT ID\n  FROM T -- tidy\n WHERE x = 1", "description": "new docs"}
    changed = {**base, "query": "select id from t where x = 2"}
    version = lambda o: build_objects([o]).specs[0].code_version  # noqa: E731
    assert version(base) == version(same)
    assert version(base) != version(changed)
    assert version(base) != version({**base, "grants": {"select": ["analyst"]}})


def test_bad_input_names_the_object_and_the_field(
    build_objects: Any, resource: SnowflakeResource, project_root: Any
) -> None:
    columns = [{"name": "a", "type": "int"}]
    with pytest.raises(ConfigError) as info:
        build_objects(
            [
                {"kind": "table", "name": "t", "columns": columns},
                {"kind": "table", "name": "T", "columns": columns},
            ]
        )
    assert "table ANALYTICS.PUBLIC.T is declared twice" in info.value.message
    assert "attributes.objects[1] (T)" in str(info.value.where)
    with pytest.raises(ConfigError) as info:
        build_objects(
            [{"kind": "external_table", "name": "e", "location": "landing", "file_format": "f"}]
        )
    assert "must start with @" in info.value.message
    with pytest.raises(ValidationError, match="type must be one of CSV"):
        SnowflakeAttributes.model_validate(
            {"objects": [{"kind": "file_format", "name": "f", "type": "xlsx"}]}
        )
    with pytest.raises(ValidationError, match="kind"):
        SnowflakeAttributes.model_validate({"objects": [{"kind": "pipe", "name": "p"}]})
    from catchment.components import ComponentContext, ProjectDefaults

    ctx = ComponentContext(
        name="c",
        project=ProjectDefaults.for_root(project_root),
        source="catchment.yaml:9",
        resources={},
    )
    attrs = SnowflakeAttributes.model_validate({"connection": "wh", "objects": LANDING})
    with pytest.raises(ConfigError, match="resource 'wh' is not configured") as missing:
        build(attrs, ctx)
    assert missing.value.where == "catchment.yaml:9 attributes.connection"
    suggested = missing.value.hint.split("`")[1]  # the YAML the hint tells the user to add
    assert yaml.safe_load(suggested)["wh"]["type"] == "snowflake"
    no_db = ComponentContext(
        name="c", project=ctx.project, source="catchment.yaml:9",
        resources={"wh": resource.model_copy(update={"database": None})},
    )  # fmt: skip
    with pytest.raises(ConfigError, match="has no database"):
        build(attrs, no_db)


@pytest.mark.usefixtures("fake")
def test_stage_file_format_and_table_are_created_then_left_alone(
    build_objects: Any, resource: SnowflakeResource, sql_log: Any, run_sql: Any
) -> None:
    defn = build_objects(LANDING)
    first = materialize([defn], resources={"sf": resource})
    meta = {e.asset_key: e.data["metadata"] for e in first.materializations}
    assert {k: m["action"] for k, m in meta.items()} == dict.fromkeys(meta, "created")
    assert meta["raw/csv_format"]["statements"] == [
        'CREATE SCHEMA IF NOT EXISTS "ANALYTICS"."RAW"',
        'CREATE FILE FORMAT IF NOT EXISTS "ANALYTICS"."RAW"."CSV_FORMAT" TYPE = \'CSV\' '
        "SKIP_HEADER = 1 FIELD_OPTIONALLY_ENCLOSED_BY = '\"'",
    ]
    # fakesnow cannot run CREATE FILE FORMAT (accepted as a no-op, see conftest): the stage,
    # the table and the view are real.
    assert meta["raw/landing"]["statements"] == [
        'CREATE STAGE IF NOT EXISTS "ANALYTICS"."RAW"."LANDING" '
        "FILE_FORMAT = (FORMAT_NAME = 'ANALYTICS.RAW.CSV_FORMAT') COMMENT = 'files from partners'"
    ]
    assert [r[1] for r in run_sql("SHOW STAGES IN SCHEMA ANALYTICS.RAW")] == ["LANDING"]
    assert run_sql(
        "SELECT column_name, data_type, is_nullable FROM ANALYTICS.information_schema.columns "
        "WHERE table_schema = 'RAW' AND table_name = 'ORDERS' ORDER BY ordinal_position"
    ) == [("ID", "NUMBER", "NO"), ("AMOUNT", "NUMBER", "YES")]
    run_sql("INSERT INTO ANALYTICS.RAW.ORDERS VALUES (1, 50), (2, 150)")
    assert run_sql("SELECT ID FROM ANALYTICS.MARTS.BIG_ORDERS") == [(2,)]
    # Applied definitions are recorded in the state table (default: the connection's schema).
    assert run_sql("SELECT OBJECT_KEY FROM ANALYTICS.PUBLIC.CATCHMENT_STATE ORDER BY 1") == [
        ("file_format:ANALYTICS.RAW.CSV_FORMAT",),
        ("stage:ANALYTICS.RAW.LANDING",),
        ("table:ANALYTICS.RAW.ORDERS",),
        ("view:ANALYTICS.MARTS.BIG_ORDERS",),
    ]
    # The step's one session was tagged with the run and its assets.
    tags = [json.loads(c.kwargs["session_parameters"]["QUERY_TAG"]) for c in connect_calls()]
    assert {"app": "catchment", "run_id": first.run_id, "step": "objects",
            "asset_keys": sorted(meta)} in tags  # fmt: skip

    sql_log.clear()
    second = materialize([defn], resources={"sf": resource})
    meta = {e.asset_key: e.data["metadata"] for e in second.materializations}
    assert {m["action"] for m in meta.values()} == {"unchanged"}
    assert all(m["statements"] == [] for m in meta.values())
    assert sql_log.statements, "the repeat run read the state"
    assert sql_log.ddl() == []  # no DDL (nor DML) reached Snowflake on the repeat
    assert run_sql("SELECT COUNT(*) FROM ANALYTICS.RAW.ORDERS") == [(2,)]


@pytest.mark.usefixtures("fake")
def test_changes_alter_tables_replace_views_and_dropped_objects_come_back(
    build_objects: Any, resource: SnowflakeResource, run_sql: Any
) -> None:
    materialize([build_objects(LANDING)], resources={"sf": resource})
    run_sql("INSERT INTO ANALYTICS.RAW.ORDERS VALUES (1, 500)")
    changed = [dict(o) for o in LANDING]
    changed[2] = {
        **LANDING[2],
        "columns": [*LANDING[2]["columns"], {"name": "note", "type": "varchar"}],
    }
    changed[3] = {
        **LANDING[3],
        "query": "select id, amount, note from raw.orders where amount > 10",
    }
    result = materialize(
        [build_objects(changed)],
        resources={"sf": resource},
        selection=["raw/orders", "marts/big_orders"],
    )
    meta = {e.asset_key: e.data["metadata"] for e in result.materializations}
    assert meta["raw/orders"]["action"] == "altered"
    assert meta["raw/orders"]["statements"] == [
        'ALTER TABLE "ANALYTICS"."RAW"."ORDERS" ADD COLUMN "NOTE" VARCHAR'
    ]
    assert meta["marts/big_orders"]["action"] == "replaced"
    assert run_sql("SELECT ID, AMOUNT, NOTE FROM ANALYTICS.MARTS.BIG_ORDERS") == [(1, 500, None)]

    run_sql("DROP VIEW ANALYTICS.MARTS.BIG_ORDERS")
    again = materialize([build_objects(changed)], resources={"sf": resource})
    actions = {e.asset_key: e.data["metadata"]["action"] for e in again.materializations}
    assert actions["marts/big_orders"] == "created"
    assert actions["raw/orders"] == "unchanged"


@pytest.mark.usefixtures("fake")
def test_a_failing_object_fails_alone_and_its_readers_are_skipped(
    build_objects: Any, resource: SnowflakeResource, password: str
) -> None:
    objects = [
        {"kind": "table", "name": "ok", "columns": [{"name": "a", "type": "int"}]},
        {"kind": "view", "name": "broken", "query": "select * from no_such_table"},
        {"kind": "view", "name": "on_broken", "query": "select * from broken"},
    ]
    result = materialize(
        [build_objects(objects)], resources={"sf": resource}, raise_on_failure=False
    )
    assert result.status_of("public/ok") == "success"
    assert result.status_of("public/broken") == "failed"
    assert result.status_of("public/on_broken") == "skipped"
    (failure,) = [e for e in result.failures if e.asset_key == "public/broken"]
    assert failure.data["message"].startswith("view ANALYTICS.PUBLIC.BROKEN: ")
    assert "NO_SUCH_TABLE" in failure.data["message"].upper()
    assert (
        failure.data["where"]
        == "catchment.yaml:5 (component objects) attributes.objects[1] (broken)"
    )
    assert password not in repr(result.events)


@pytest.mark.usefixtures("fake")
def test_changing_what_alter_cannot_change_is_refused_with_a_hint(
    build_objects: Any, resource: SnowflakeResource
) -> None:
    t = {"kind": "table", "name": "keep", "columns": [{"name": "a", "type": "int"}]}
    materialize([build_objects([t])], resources={"sf": resource})
    result = materialize(
        [build_objects([{**t, "transient": True}])],
        resources={"sf": resource},
        raise_on_failure=False,
    )
    (failure,) = result.failures
    message = failure.data["message"]
    assert "changing the TRANSIENT flag needs CREATE OR REPLACE" in message
    assert message.count("KEEP") == 1, message  # the relation is named once
    assert "on_change: replace" in failure.data["hint"]

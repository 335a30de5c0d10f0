"""The generated SQL, for what fakesnow cannot execute: external tables, ALTER STAGE, GRANT /
REVOKE, stage credentials, and table ALTERs beyond what fakesnow parses. These tests check the
statements themselves (fakesnow 0.11.4 fails on CREATE EXTERNAL TABLE, GRANT and ALTER STAGE)."""

from __future__ import annotations

from typing import Any

import pytest
from catchment_snowflake.ddl import (
    NeedsReplace,
    alter_stage_sql,
    alter_table_sql,
    create_sql,
    grants_sql,
    refresh_sql,
)
from catchment_snowflake.identifiers import Relation, qualify
from catchment_snowflake.objects import (
    ExternalTableObject,
    FileFormatObject,
    StageObject,
    TableObject,
    ViewObject,
    normalise,
)
from pydantic import TypeAdapter

REL = Relation("ANALYTICS", "RAW", "EVENTS")


def obj(**fields: Any) -> Any:
    from catchment_snowflake.objects import ManagedObject

    return TypeAdapter(ManagedObject).validate_python(fields)


def test_external_table_sql_with_stage_format_partitions_and_refresh() -> None:
    ext = obj(
        kind="external_table",
        name="events",
        location="@landing/events/",
        file_format="json_format",
        columns=[
            {"name": "day", "type": "date", "expression": "to_date(value:day::string)"},
            {"name": "payload", "type": "variant", "expression": "value"},
        ],
        partition_by=["day"],
        pattern=".*[.]json",
        refresh=True,
        comment="raw events",
    )
    assert isinstance(ext, ExternalTableObject)
    assert create_sql(ext, REL) == (
        'CREATE EXTERNAL TABLE IF NOT EXISTS "ANALYTICS"."RAW"."EVENTS" '
        '("DAY" DATE AS (to_date(value:day::string)), "PAYLOAD" VARIANT AS (value)) '
        'PARTITION BY ("DAY") LOCATION = @"ANALYTICS"."RAW"."LANDING"/events/ '
        "PATTERN = '.*[.]json' AUTO_REFRESH = FALSE "
        "FILE_FORMAT = (FORMAT_NAME = 'ANALYTICS.RAW.JSON_FORMAT') COMMENT = 'raw events'"
    )
    assert create_sql(ext, REL, replace=True).startswith(
        'CREATE OR REPLACE EXTERNAL TABLE "ANALYTICS"."RAW"."EVENTS" ('
    )
    assert refresh_sql(ext, REL) == 'ALTER EXTERNAL TABLE "ANALYTICS"."RAW"."EVENTS" REFRESH'


def test_grants_and_revokes_follow_the_declared_roles() -> None:
    view = obj(kind="view", name="v", query="select 1", grants={"select": ["analyst", "bi"]})
    rel = Relation("DB", "MARTS", "V")
    wanted = normalise(view, rel)["grants"]
    assert wanted == {"SELECT": ["ANALYST", "BI"]}
    assert grants_sql("view", rel, wanted) == [
        'GRANT SELECT ON VIEW "DB"."MARTS"."V" TO ROLE "ANALYST"',
        'GRANT SELECT ON VIEW "DB"."MARTS"."V" TO ROLE "BI"',
    ]
    before = {"SELECT": ["ANALYST", "OLD_ROLE"]}
    assert grants_sql("view", rel, wanted, before) == [
        'GRANT SELECT ON VIEW "DB"."MARTS"."V" TO ROLE "BI"',
        'REVOKE SELECT ON VIEW "DB"."MARTS"."V" FROM ROLE "OLD_ROLE"',
    ]
    assert grants_sql("file_format", rel, {"USAGE": ["R"]}) == [
        'GRANT USAGE ON FILE FORMAT "DB"."MARTS"."V" TO ROLE "R"'
    ]


def test_stage_sql_external_with_integration_inline_format_and_alter() -> None:
    stage = obj(
        kind="stage",
        name="landing",
        url="s3://bucket/landing/",
        storage_integration="s3_int",
        file_format={"type": "csv", "skip_header": 1, "null_if": ["", "NULL"]},
        directory=True,
        refresh=True,
        on_change="alter",
    )
    rel = Relation("DB", "RAW", "LANDING")
    props = (
        "URL = 's3://bucket/landing/' STORAGE_INTEGRATION = \"S3_INT\" "
        "FILE_FORMAT = (TYPE = 'csv' SKIP_HEADER = 1 NULL_IF = ('', 'NULL')) "
        "DIRECTORY = (ENABLE = TRUE)"
    )
    assert create_sql(stage, rel) == f'CREATE STAGE IF NOT EXISTS "DB"."RAW"."LANDING" {props}'
    assert alter_stage_sql(stage, rel) == [f'ALTER STAGE "DB"."RAW"."LANDING" SET {props}']
    assert refresh_sql(stage, rel) == 'ALTER STAGE "DB"."RAW"."LANDING" REFRESH'


def test_stage_credentials_are_in_the_sql_but_not_in_the_definition() -> None:
    stage = obj(
        kind="stage",
        name="s",
        url="s3://b/",
        credentials={"aws_key_id": "AKIAEXAMPLE", "aws_secret_key": "very-secret-value"},
    )
    assert isinstance(stage, StageObject)
    rel = Relation("DB", "RAW", "S")
    assert "AWS_SECRET_KEY = 'very-secret-value'" in create_sql(stage, rel)
    definition = normalise(stage, rel)
    assert "very-secret-value" not in repr(definition)
    assert "AKIAEXAMPLE" not in repr(definition)
    assert "very-secret-value" not in repr(stage)
    rotated = obj(
        **{
            **stage.model_dump(by_alias=True),
            "credentials": {"aws_key_id": "AKIAEXAMPLE", "aws_secret_key": "new"},
        }
    )
    assert normalise(rotated, rel)["credentials"] != definition["credentials"]


def test_file_format_and_view_and_table_sql() -> None:
    ff = obj(kind="file_format", name="csv_format", type="csv", options={"skip_header": 1})
    assert isinstance(ff, FileFormatObject)
    assert create_sql(ff, Relation("DB", "RAW", "CSV_FORMAT")) == (
        'CREATE FILE FORMAT IF NOT EXISTS "DB"."RAW"."CSV_FORMAT" TYPE = \'CSV\' SKIP_HEADER = 1'
    )
    view = obj(kind="view", name="v", query="select * from t;", secure=True, comment="it's")
    assert isinstance(view, ViewObject)
    assert create_sql(view, Relation("DB", "S", "V"), replace=True) == (
        'CREATE OR REPLACE SECURE VIEW "DB"."S"."V" COMMENT = \'it\'\'s\' AS select * from t'
    )
    table = obj(
        kind="table",
        name="orders",
        transient=True,
        columns=[
            {"name": "id", "type": "number(38,0)", "nullable": False},
            {"name": "at", "type": "timestamp_ntz", "default": "current_timestamp()"},
        ],
        cluster_by=["to_date(at)"],
        options={"data_retention_time_in_days": 0, "change_tracking": True},
    )
    assert isinstance(table, TableObject)
    assert create_sql(table, Relation("DB", "S", "ORDERS")) == (
        'CREATE TRANSIENT TABLE IF NOT EXISTS "DB"."S"."ORDERS" ("ID" NUMBER(38,0) NOT NULL, '
        '"AT" TIMESTAMP_NTZ DEFAULT current_timestamp()) CLUSTER BY (to_date(at)) '
        "DATA_RETENTION_TIME_IN_DAYS = 0 CHANGE_TRACKING = TRUE"
    )


def _table(**fields: Any) -> TableObject:
    base: dict[str, Any] = {
        "kind": "table",
        "name": "t",
        "columns": [{"name": "id", "type": "int"}, {"name": "note", "type": "varchar"}],
    }
    t = obj(**{**base, **fields})
    assert isinstance(t, TableObject)
    return t


def test_alter_table_adds_drops_retypes_and_sets_options() -> None:
    rel = Relation("DB", "S", "T")
    before = normalise(_table(options={"data_retention_time_in_days": 1}), rel)
    after = _table(
        columns=[
            {"name": "id", "type": "number(20,0)", "nullable": False, "comment": "key"},
            {"name": "amount", "type": "float"},
        ],
        cluster_by=["id"],
        options={"change_tracking": True},
        comment="orders",
    )
    statements, warnings = alter_table_sql(after, rel, before, ["ID", "NOTE", "LOADED_AT"])
    t = 'ALTER TABLE "DB"."S"."T"'
    assert statements == [
        f'{t} ADD COLUMN "AMOUNT" FLOAT',
        f'{t} DROP COLUMN "NOTE"',
        f'{t} ALTER COLUMN "ID" SET DATA TYPE NUMBER(20,0)',
        f'{t} ALTER COLUMN "ID" SET NOT NULL',
        f"{t} ALTER COLUMN \"ID\" COMMENT 'key'",
        f"{t} CLUSTER BY (id)",
        f"{t} SET CHANGE_TRACKING = TRUE",
        f"{t} UNSET DATA_RETENTION_TIME_IN_DAYS",
        f"{t} SET COMMENT = 'orders'",
    ]
    # A column nobody declared is never dropped, only reported.
    assert warnings == ["table DB.S.T has undeclared columns ['LOADED_AT']; left as they are"]


def test_same_type_spelled_differently_needs_no_alter() -> None:
    rel = Relation("DB", "S", "T")
    before = normalise(_table(), rel)
    same = _table(columns=[{"name": "ID", "type": "INTEGER"}, {"name": "note", "type": "text"}])
    assert normalise(same, rel) == before
    assert alter_table_sql(same, rel, before, ["ID", "NOTE"]) == ([], [])


def test_what_alter_cannot_do_needs_replace() -> None:
    rel = Relation("DB", "S", "T")
    before = normalise(_table(), rel)
    with pytest.raises(NeedsReplace, match="TRANSIENT"):
        alter_table_sql(_table(transient=True), rel, before, ["ID", "NOTE"])
    with_default = _table(
        columns=[{"name": "id", "type": "int", "default": "1"}, {"name": "note", "type": "varchar"}]
    )
    with pytest.raises(NeedsReplace, match="default of column ID"):
        alter_table_sql(with_default, rel, before, ["ID", "NOTE"])


def test_an_adopted_table_only_gains_missing_columns() -> None:
    rel = Relation("DB", "S", "T")
    statements, _ = alter_table_sql(_table(), rel, None, ["ID", "OTHER"])
    assert statements == ['ALTER TABLE "DB"."S"."T" ADD COLUMN "NOTE" VARCHAR']


def test_names_resolve_like_snowflake() -> None:
    assert qualify("orders", "analytics", "raw") == Relation("ANALYTICS", "RAW", "ORDERS")
    assert qualify('"Odd.Name"', "db", "s").sql == '"DB"."S"."Odd.Name"'
    assert qualify("other_db.x.y", "db", "s").dotted == "OTHER_DB.X.Y"

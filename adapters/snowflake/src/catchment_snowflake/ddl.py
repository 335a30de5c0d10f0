"""The SQL a managed object needs: CREATE, CREATE OR REPLACE, the ALTERs that turn one
definition of a table (or an internal stage) into another, and REFRESH.

Everything here is pure: it takes a declared object, its location and (for alters) the
previous normalised definition, and returns statements. Executing them is ``apply.py``'s job,
so the SQL of what fakesnow cannot run (external tables, ALTER STAGE) is still testable.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from catchment.sql import quote_identifier

from catchment_snowflake.identifiers import Relation, literal, qualify, resolve
from catchment_snowflake.objects import (
    ExternalTableObject,
    FileFormatObject,
    StageObject,
    TableObject,
    ViewObject,
    norm_type,
    stage_of,
)

_KEYWORD = {
    "stage": "STAGE",
    "file_format": "FILE FORMAT",
    "table": "TABLE",
    "view": "VIEW",
    "external_table": "EXTERNAL TABLE",
}


class NeedsReplace(Exception):
    """The change cannot be made with ALTER; only CREATE OR REPLACE (losing data) can."""


def keyword(kind: str) -> str:
    """``FILE FORMAT`` for ``file_format``, etc."""
    return _KEYWORD[kind]


def value_sql(value: Any) -> str:
    """An option value: TRUE/FALSE, numbers, 'strings', (lists), (K = V nested options)."""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "(" + ", ".join(value_sql(v) for v in value) + ")"
    if isinstance(value, Mapping):
        return "(" + options_sql(value) + ")"
    return literal(str(value))


def options_sql(options: Mapping[str, Any]) -> str:
    """``K1 = V1 K2 = V2`` (keys upper-cased, in the declared order)."""
    return " ".join(f"{str(k).upper()} = {value_sql(v)}" for k, v in options.items())


def _comment(comment: str | None) -> str:
    return f" COMMENT = {literal(comment)}" if comment else ""


def _file_format_sql(value: str | Mapping[str, Any], rel: Relation) -> str:
    if isinstance(value, str):
        ref = qualify(value, rel.database, rel.schema)
        return f"FILE_FORMAT = (FORMAT_NAME = {literal(ref.dotted)})"
    return f"FILE_FORMAT = ({options_sql(value)})"


def _column_sql(c: Any) -> str:
    text = f"{quote_identifier(resolve(c.name))} {c.type.upper()}"
    if not c.nullable:
        text += " NOT NULL"
    if c.default:
        text += f" DEFAULT {c.default}"
    if c.comment:
        text += f" COMMENT {literal(c.comment)}"
    return text


def create_sql(obj: Any, rel: Relation, *, replace: bool = False) -> str:
    """``CREATE [OR REPLACE] <kind> [IF NOT EXISTS] <rel> ...`` for any managed object."""
    head = "CREATE OR REPLACE" if replace else "CREATE"
    guard = "" if replace else " IF NOT EXISTS"
    if isinstance(obj, TableObject):
        kind = "TRANSIENT TABLE" if obj.transient else "TABLE"
        sql = f"{head} {kind}{guard} {rel.sql} ({', '.join(_column_sql(c) for c in obj.columns)})"
        if obj.cluster_by:
            sql += f" CLUSTER BY ({', '.join(obj.cluster_by)})"
        if obj.options:
            sql += " " + options_sql(obj.options)
        return sql + _comment(obj.comment)
    if isinstance(obj, ViewObject):
        kind = "SECURE VIEW" if obj.secure else "VIEW"
        sql = f"{head} {kind}{guard} {rel.sql}"
        if obj.options:
            sql += " " + options_sql(obj.options)
        return f"{sql}{_comment(obj.comment)} AS {obj.query.strip().rstrip(';')}"
    if isinstance(obj, FileFormatObject):
        sql = f"{head} FILE FORMAT{guard} {rel.sql} TYPE = {literal(obj.type)}"
        if obj.options:
            sql += " " + options_sql(obj.options)
        return sql + _comment(obj.comment)
    if isinstance(obj, StageObject):
        return f"{head} STAGE{guard} {rel.sql}" + _stage_properties(obj, rel)
    if isinstance(obj, ExternalTableObject):
        stage, path = stage_of(obj.location, rel.database, rel.schema)
        columns = ", ".join(
            f"{quote_identifier(resolve(c.name))} {c.type.upper()} AS ({c.expression})"
            for c in obj.columns
        )
        sql = f"{head} EXTERNAL TABLE{guard} {rel.sql}"
        if columns:
            sql += f" ({columns})"
        if obj.partition_by:
            keys = ", ".join(quote_identifier(resolve(p)) for p in obj.partition_by)
            sql += f" PARTITION BY ({keys})"
        sql += f" LOCATION = @{stage.sql}/{path}"
        if obj.pattern:
            sql += f" PATTERN = {literal(obj.pattern)}"
        sql += f" AUTO_REFRESH = {value_sql(obj.auto_refresh)}"
        sql += " " + _file_format_sql(obj.file_format, rel)
        if obj.options:
            sql += " " + options_sql(obj.options)
        return sql + _comment(obj.comment)
    raise TypeError(f"not a managed object: {type(obj).__name__}")


def _stage_properties(obj: StageObject, rel: Relation) -> str:
    parts: list[str] = []
    if obj.url:
        parts.append(f"URL = {literal(obj.url)}")
    if obj.storage_integration:
        parts.append(f"STORAGE_INTEGRATION = {quote_identifier(resolve(obj.storage_integration))}")
    if obj.credentials:
        creds = {k.upper(): v.get_secret_value() for k, v in obj.credentials.items()}
        parts.append(f"CREDENTIALS = ({options_sql(creds)})")
    if obj.file_format is not None:
        parts.append(_file_format_sql(obj.file_format, rel))
    if obj.directory is not None:
        parts.append(f"DIRECTORY = (ENABLE = {value_sql(obj.directory)})")
    if obj.options:
        parts.append(options_sql(obj.options))
    text = "".join(" " + p for p in parts)
    return text + _comment(obj.comment)


def alter_stage_sql(obj: StageObject, rel: Relation) -> list[str]:
    """``ALTER STAGE ... SET <every declared property>`` (keeps an internal stage's files)."""
    props = _stage_properties(obj, rel).strip()
    return [f"ALTER STAGE {rel.sql} SET {props}"] if props else []


def use_role_sql(role: str) -> str:
    """``USE ROLE`` for ``role`` as written in YAML (unquoted names resolve upper-case)."""
    return f"USE ROLE {quote_identifier(resolve(role))}"


def grants_sql(
    kind: str,
    rel: Relation,
    wanted: Mapping[str, list[str]],
    previous: Mapping[str, list[str]] | None = None,
) -> list[str]:
    """GRANTs for (privilege, role) pairs not granted before, REVOKEs for pairs dropped.

    Both take normalised grants (``{"SELECT": ["ANALYST"]}``); ``previous`` None means
    nothing is granted yet (a new or replaced object).
    """
    on = f"ON {keyword(kind)} {rel.sql}"
    before = {(p, r) for p, roles in (previous or {}).items() for r in roles}
    after = {(p, r) for p, roles in wanted.items() for r in roles}
    out = [f"GRANT {p} {on} TO ROLE {quote_identifier(r)}" for p, r in sorted(after - before)]
    out += [f"REVOKE {p} {on} FROM ROLE {quote_identifier(r)}" for p, r in sorted(before - after)]
    return out


def refresh_sql(obj: Any, rel: Relation) -> str | None:
    """``ALTER EXTERNAL TABLE ... REFRESH`` / ``ALTER STAGE ... REFRESH`` when asked."""
    if isinstance(obj, ExternalTableObject) and obj.refresh:
        return f"ALTER EXTERNAL TABLE {rel.sql} REFRESH"
    if isinstance(obj, StageObject) and obj.refresh:
        return f"ALTER STAGE {rel.sql} REFRESH"
    return None


def alter_table_sql(
    obj: TableObject,
    rel: Relation,
    previous: Mapping[str, Any] | None,
    existing_columns: Iterable[str] | None,
) -> tuple[list[str], list[str]]:
    """The ALTERs that make table ``rel`` match ``obj``, and warnings to log.

    ``previous`` is the last applied normalised definition (None for a table catchment did
    not create: then only missing columns, comment and options are added). Columns dropped
    are only those the previous definition had. Raises ``NeedsReplace`` for what ALTER cannot
    do (transient flag, column defaults).
    """
    t = f"ALTER TABLE {rel.sql}"
    out: list[str] = []
    warnings: list[str] = []
    prev_cols = {c["name"]: c for c in (previous or {}).get("columns", [])}
    existing = set(existing_columns) if existing_columns is not None else set(prev_cols)
    wanted = {resolve(c.name): c for c in obj.columns}
    if previous is not None and previous.get("transient") != obj.transient:
        raise NeedsReplace("the TRANSIENT flag")
    for name, col in wanted.items():
        if name not in existing:
            out.append(f"{t} ADD COLUMN {_column_sql(col)}")
    for name in prev_cols:
        if name not in wanted and name in existing:
            out.append(f"{t} DROP COLUMN {quote_identifier(name)}")
    extra = sorted(existing - set(wanted) - set(prev_cols))
    if extra:
        warnings.append(f"table {rel.dotted} has undeclared columns {extra}; left as they are")
    for name, col in wanted.items():
        before = prev_cols.get(name)
        if before is None or name not in existing:
            continue
        c = f"{t} ALTER COLUMN {quote_identifier(name)}"
        if before["type"] != norm_type(col.type):
            out.append(f"{c} SET DATA TYPE {col.type.upper()}")
        if before["nullable"] != col.nullable:
            out.append(f"{c} {'DROP' if col.nullable else 'SET'} NOT NULL")
        if before.get("comment") != col.comment:
            out.append(
                f"{c} COMMENT {literal(col.comment)}" if col.comment else f"{c} UNSET COMMENT"
            )
        if bool(before.get("default")) != bool(col.default) or (
            col.default and before.get("default") != _norm_default(col.default)
        ):
            raise NeedsReplace(f"the default of column {name}")
    prev_cluster = (previous or {}).get("cluster_by", [])
    if previous is None or [_norm_default(x) for x in obj.cluster_by] != prev_cluster:
        if obj.cluster_by:
            out.append(f"{t} CLUSTER BY ({', '.join(obj.cluster_by)})")
        elif prev_cluster:
            out.append(f"{t} DROP CLUSTERING KEY")
    prev_opts: dict[str, Any] = dict((previous or {}).get("options", {}))
    changed = {k: v for k, v in obj.options.items() if prev_opts.get(k) != v or previous is None}
    if changed:
        out.append(f"{t} SET {options_sql(changed)}")
    removed = [k for k in prev_opts if k not in obj.options]
    if removed:
        out.append(f"{t} UNSET {', '.join(removed)}")
    if previous is None or previous.get("comment") != obj.comment:
        if obj.comment:
            out.append(f"{t} SET COMMENT = {literal(obj.comment)}")
        elif previous is not None and previous.get("comment"):
            out.append(f"{t} UNSET COMMENT")
    return out, warnings


def _norm_default(text: str) -> str:
    from catchment_snowflake.objects import norm_sql

    return norm_sql(text)

"""Managed Snowflake objects as declared in YAML, and their normalised definitions.

Each object (``kind``: stage, file_format, table, view, external_table) validates with its
pydantic model; ``normalise()`` turns it into a canonical definition (resolved identifiers,
types and SQL normalised by sqlglot, options upper-cased) whose hash is the asset's code
version and the state the DDL compares against. Editing whitespace or case in YAML changes
nothing; changing the object changes the hash.
"""

from __future__ import annotations

import functools
import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from catchment_snowflake.identifiers import Relation, qualify, resolve

OptionValue = str | int | float | bool | list[str | int | float | bool] | dict[str, Any]
Kind = Literal["stage", "file_format", "table", "view", "external_table"]
FILE_FORMAT_TYPES = ("CSV", "JSON", "AVRO", "ORC", "PARQUET", "XML")


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", populate_by_name=True, frozen=True)


class Column(_Strict):
    """A table column."""

    name: str = Field(min_length=1)
    type: str = Field(min_length=1, description="a Snowflake type, e.g. NUMBER(38,0), VARCHAR")
    nullable: bool = True
    default: str | None = Field(default=None, description="a SQL expression")
    comment: str | None = None


class ExternalColumn(_Strict):
    """An external table column: a type and the expression over ``VALUE`` that computes it."""

    name: str = Field(min_length=1)
    type: str = Field(min_length=1)
    expression: str = Field(min_length=1, description="e.g. value:c1::varchar")


class _Object(_Strict):
    """What every managed object declares: where it lives and how it appears as an asset."""

    name: str = Field(min_length=1, description='object name (quote odd names with ")')
    database: str | None = Field(default=None, description="default: the component's")
    schema_: str | None = Field(default=None, alias="schema", description="default: component's")
    comment: str | None = None
    options: dict[str, OptionValue] = Field(
        default_factory=dict, description="more properties, e.g. DATA_RETENTION_TIME_IN_DAYS: 1"
    )
    grants: dict[str, list[str]] = Field(
        default_factory=dict, description="privilege -> roles, e.g. {SELECT: [ANALYST]}"
    )
    role: str | None = Field(
        default=None, description="role that runs this object's DDL (USE ROLE), e.g. LOADER"
    )
    key: str | None = Field(default=None, description="asset key, default <schema>/<name>")
    group: str | None = None
    owners: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    description: str | None = None
    deps: list[str] = Field(default_factory=list, description="upstream asset keys")
    reads: list[str] = Field(default_factory=list, description="relations read: db.schema.name")

    @field_validator("options")
    @classmethod
    def _upper_keys(cls, value: dict[str, OptionValue]) -> dict[str, OptionValue]:
        return {k.upper(): v for k, v in value.items()}

    def relation(self, database: str | None, schema: str | None) -> Relation:
        """This object's resolved location (its own database/schema win over defaults)."""
        return qualify(self.name, self.database or database, self.schema_ or schema)


class TableObject(_Object):
    """``CREATE TABLE``; changes are applied with ``ALTER TABLE`` (add / drop / retype
    columns, comments, clustering, options) unless ``on_change: replace``."""

    kind: Literal["table"]
    columns: list[Column] = Field(min_length=1)
    transient: bool = False
    cluster_by: list[str] = Field(default_factory=list)
    on_change: Literal["alter", "replace"] = Field(
        default="alter", description="replace drops the data: use it knowingly"
    )


class ViewObject(_Object):
    """``CREATE VIEW ... AS <query>``; replaced when the (normalised) query changes."""

    kind: Literal["view"]
    query: str = Field(min_length=1)
    secure: bool = False


class FileFormatObject(_Object):
    """``CREATE FILE FORMAT ... TYPE = <type> <options>``; replaced when it changes."""

    kind: Literal["file_format"]
    type: str = Field(description="CSV, JSON, AVRO, ORC, PARQUET or XML")

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value.upper() not in FILE_FORMAT_TYPES:
            raise ValueError(f"type must be one of {', '.join(FILE_FORMAT_TYPES)}")
        return value.upper()


class StageObject(_Object):
    """``CREATE STAGE``: internal, or external with ``url``. ``refresh: true`` refreshes its
    directory table on every materialization. ``on_change: alter`` keeps an internal stage's
    files (``ALTER STAGE ... SET``) instead of replacing it."""

    kind: Literal["stage"]
    url: str | None = None
    storage_integration: str | None = None
    credentials: dict[str, SecretStr] = Field(
        default_factory=dict, description="prefer storage_integration; values are secrets"
    )
    file_format: str | dict[str, OptionValue] | None = Field(
        default=None, description="a file format name, or inline options {type: csv, ...}"
    )
    directory: bool | None = None
    refresh: bool = False
    on_change: Literal["alter", "replace"] = "replace"


class ExternalTableObject(_Object):
    """``CREATE EXTERNAL TABLE`` over a stage location; ``refresh: true`` runs
    ``ALTER EXTERNAL TABLE ... REFRESH`` on every materialization."""

    kind: Literal["external_table"]
    columns: list[ExternalColumn] = Field(default_factory=list)
    location: str = Field(description="@stage or @db.schema.stage/path/")
    file_format: str | dict[str, OptionValue] = Field(description="a name or inline options")
    pattern: str | None = None
    partition_by: list[str] = Field(default_factory=list)
    auto_refresh: bool = False
    refresh: bool = False


ManagedObject = Annotated[
    StageObject | FileFormatObject | TableObject | ViewObject | ExternalTableObject,
    Field(discriminator="kind"),
]


# -- normalisation ---------------------------------------------------------------------------
@functools.lru_cache(maxsize=4096)
def norm_type(text: str) -> str:
    """``int`` and ``INTEGER`` alike: the type as sqlglot writes it for Snowflake."""
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        return exp.DataType.build(text, dialect="snowflake").sql(dialect="snowflake")
    except (ParseError, ValueError):
        return " ".join(text.upper().split())


def norm_sql(text: str) -> str:
    """A SQL expression or query, formatted canonically (comments and layout dropped)."""
    return analyse_sql(text)[0]


@functools.lru_cache(maxsize=4096)
def analyse_sql(text: str) -> tuple[str, tuple[str, ...]]:
    """One parse of ``text``: its canonical form (identifiers resolved like Snowflake does,
    comments and layout dropped) and the tables it reads (``db.schema.name`` as written, CTE
    names left out). Text sqlglot cannot parse keeps its words and reads nothing."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError, TokenError
    from sqlglot.optimizer.normalize_identifiers import normalize_identifiers

    try:
        tree = sqlglot.parse_one(text, read="snowflake")
    except (ParseError, TokenError, ValueError):
        return " ".join(text.split()), ()
    ctes = {c.alias_or_name.upper() for c in tree.find_all(exp.CTE)}
    tables = tuple(
        ".".join(p.sql(dialect="snowflake") for p in t.parts)
        for t in tree.find_all(exp.Table)
        if t.name and not (not t.db and t.name.upper() in ctes)
    )
    canonical = normalize_identifiers(tree, dialect="snowflake").sql(
        dialect="snowflake", comments=False
    )
    return canonical, tables


def norm_value(value: Any) -> Any:
    """Option values: booleans and numbers as they are, strings trimmed, mappings by key."""
    if isinstance(value, dict):
        return {str(k).upper(): norm_value(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [norm_value(v) for v in value]
    if isinstance(value, str):
        return value.strip()
    return value


def norm_file_format(value: str | dict[str, OptionValue] | None, database: str, schema: str) -> Any:
    """A named format resolves to ``DB.SCHEMA.NAME``; inline options normalise."""
    if value is None:
        return None
    if isinstance(value, str):
        return {"FORMAT_NAME": qualify(value, database, schema).dotted}
    out = norm_value(value)
    if "TYPE" in out:
        out["TYPE"] = str(out["TYPE"]).upper()
    return out


def stage_of(location: str, database: str, schema: str) -> tuple[Relation, str]:
    """``@db.schema.stage/path/`` -> (the stage, ``path/``)."""
    text = location.strip()
    if not text.startswith("@"):
        raise ValueError(f"location {location!r} must start with @ (a stage)")
    ref, _, path = text[1:].partition("/")
    return qualify(ref, database, schema), path


def normalise(obj: Any, rel: Relation) -> dict[str, Any]:
    """The canonical definition of ``obj`` at ``rel`` (what the code version hashes)."""
    db, sch = rel.database, rel.schema
    d: dict[str, Any] = {
        "kind": obj.kind,
        "relation": rel.dotted,
        "comment": obj.comment,
        "options": norm_value(obj.options),
        "grants": {
            " ".join(p.upper().split()): sorted({resolve(r) for r in roles})
            for p, roles in sorted(obj.grants.items())
            if roles
        },
    }
    if obj.role:  # only when set, so objects without one keep their applied hash
        d["role"] = resolve(obj.role)
    if isinstance(obj, TableObject):
        d["columns"] = [
            {
                "name": resolve(c.name),
                "type": norm_type(c.type),
                "nullable": c.nullable,
                "default": norm_sql(c.default) if c.default else None,
                "comment": c.comment,
            }
            for c in obj.columns
        ]
        d["transient"] = obj.transient
        d["cluster_by"] = [norm_sql(c) for c in obj.cluster_by]
    elif isinstance(obj, ViewObject):
        d["query"] = norm_sql(obj.query)
        d["secure"] = obj.secure
    elif isinstance(obj, FileFormatObject):
        d["type"] = obj.type
    elif isinstance(obj, StageObject):
        d["url"] = obj.url.strip() if obj.url else None
        d["storage_integration"] = (
            resolve(obj.storage_integration) if obj.storage_integration else None
        )
        # Only a digest of the credentials: rotating them re-applies the stage, and the
        # definition (stored in the state table) never holds them.
        d["credentials"] = (
            _digest({k.upper(): v.get_secret_value() for k, v in obj.credentials.items()})
            if obj.credentials
            else None
        )
        d["file_format"] = norm_file_format(obj.file_format, db, sch)
        d["directory"] = obj.directory
    elif isinstance(obj, ExternalTableObject):
        stage, path = stage_of(obj.location, db, sch)
        d["columns"] = [
            {
                "name": resolve(c.name),
                "type": norm_type(c.type),
                "expression": norm_sql(c.expression),
            }
            for c in obj.columns
        ]
        d["location"] = {"stage": stage.dotted, "path": path}
        d["file_format"] = norm_file_format(obj.file_format, db, sch)
        d["pattern"] = obj.pattern
        d["partition_by"] = [resolve(p) for p in obj.partition_by]
        d["auto_refresh"] = obj.auto_refresh
    return d


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def definition_hash(definition: dict[str, Any]) -> str:
    """The 16-hex-digit hash of a normalised definition (the asset's code version)."""
    return _digest(definition)[:16]

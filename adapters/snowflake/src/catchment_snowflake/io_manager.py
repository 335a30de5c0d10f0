"""``SnowflakeIOManager``: store pandas / pyarrow (and polars) frames as Snowflake tables.

Asset ``a/b`` is table ``A.B`` (``a/b/c`` -> ``A.B__C``; a one-segment key goes to the
configured schema) in the configured database; ``table_for`` gives its identity, so a dbt
model or a Sling stream reading that table links to the asset. Writes go through
``write_pandas`` (a staged PUT + COPY INTO) or plain ``INSERT``s, then swap rows in one
transaction: readers never see a half-written table. Partitioned assets replace only their
partitions' rows, found by a declared column (``metadata["partition_column"]``).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from typing import Any, Literal

from catchment.components import ProjectDefaults
from catchment.errors import ConfigError, ExecutionError
from catchment.frames import FRAME_LIBRARIES, frame_library
from catchment.io import InputContext, OutputContext
from catchment.keys import AssetKey
from catchment.sql import quote_identifier
from catchment.tables import TableRef
from pydantic import BaseModel, ConfigDict, Field

from catchment_snowflake.errors import connector_error_types, query_error
from catchment_snowflake.frames import (
    column_name,
    frame_name,
    snowflake_type,
    to_arrow,
)
from catchment_snowflake.identifiers import Relation, resolve
from catchment_snowflake.resource import SnowflakeResource, query_tag

WriteMethod = Literal["write_pandas", "insert"]
_MISSING_OBJECT = 2003  # "does not exist or not authorized"


class SnowflakeIOManager:
    """Store frames as tables of one Snowflake database.

    ``schema`` holds one-segment keys (default: the resource's schema); ``database`` defaults
    to the resource's. ``write_method``: ``write_pandas`` (bulk, staged) or ``insert``
    (``INSERT ... VALUES``, for small frames or proxies that block stage uploads).
    ``normalize_columns`` stores ``order_id`` as ``ORDER_ID`` and reads it back as ``order_id``.
    """

    def __init__(
        self,
        resource: SnowflakeResource,
        *,
        database: str | None = None,
        schema: str | None = None,
        partition_column: str = "partition_key",
        write_method: WriteMethod = "write_pandas",
        normalize_columns: bool = True,
    ):
        db = database or resource.database
        if not db:
            raise ConfigError(
                "the Snowflake IO manager needs a database",
                where=f"snowflake account {resource.account}",
                hint="set database on the IO manager or on its connection",
            )
        self.resource = resource
        self.database = resolve(db)
        schema = schema or resource.schema_
        self.default_schema = resolve(schema) if schema else None
        self.partition_column = partition_column
        self.write_method: WriteMethod = write_method
        self.normalize_columns = normalize_columns

    # -- naming --------------------------------------------------------------------------
    def relation_for(self, key: AssetKey) -> Relation:
        """``a/b`` -> ``DB.A.B``; ``a/b/c`` -> ``DB.A.B__C``; ``x`` -> ``DB.<schema>.X``."""
        path = key.path
        if len(path) == 1:
            if not self.default_schema:
                raise ConfigError(
                    f"asset {key} has a one-segment key, and the Snowflake IO manager has no "
                    "schema for it",
                    where=f"asset {key}",
                    hint="set schema on the IO manager (or its connection), or give the asset "
                    "a key like raw/orders (schema RAW)",
                )
            return Relation(self.database, self.default_schema, resolve(path[0]))
        return Relation(self.database, resolve(path[0]), resolve("__".join(path[1:])))

    def table_for(self, key: AssetKey) -> TableRef:
        """The relation this manager writes for ``key`` (how other tools' reads link to it)."""
        return self.relation_for(key).ref(self.resource.account)

    def observer(self) -> Any:
        """The observer of the account this manager writes to (its tables' relations)."""
        return self.resource.observer()

    # -- store ---------------------------------------------------------------------------
    def handle_output(self, context: OutputContext, obj: Any) -> Mapping[str, Any] | None:
        """Write ``obj`` to the asset's table: replace it, or replace its partitions' rows."""
        library = frame_library(obj)
        if library is None:
            raise ExecutionError(
                f"asset {context.key} returned a {type(obj).__module__}.{type(obj).__name__}, "
                "but the Snowflake IO manager stores only pandas, pyarrow and polars frames",
                where=f"asset {context.key}",
                hint="return a dataframe, or give the asset another io_manager_key",
            )
        rel = self.relation_for(context.key)
        data = self._rename(to_arrow(obj, library))
        parts = (context.partition_key,) if context.partition_key else context.partition_keys
        pcol = None
        if parts:
            data, pcol = self._with_partition_column(context, data, parts)
        columns = [(f.name, snowflake_type(f.type)) for f in data.schema]
        tag = query_tag(context.run_id, [context.key])
        errors = connector_error_types()
        with self.resource.connect(query_tag=tag, autocommit=False) as conn:
            cur = conn.cursor()
            try:
                existing = self._columns(cur, rel)
                if not existing:
                    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {rel.schema_sql}")
                    cur.execute(f"CREATE TABLE {rel.sql} ({_column_defs(columns)})")
                    self._load(conn, cur, rel, data)
                elif sorted(existing) == sorted(c for c, _ in columns):
                    self._swap_rows(conn, cur, rel, data, columns, pcol, parts)
                elif parts:
                    raise ExecutionError(
                        f"table {rel.dotted} of asset {context.key} has columns "
                        f"{sorted(existing)}, the frame has {sorted(c for c, _ in columns)}",
                        where=f"asset {context.key}",
                        hint="a partitioned table keeps its columns: drop the table and write "
                        "every partition again, or return the same columns",
                    )
                else:
                    cur.execute(
                        f"CREATE OR REPLACE TABLE {rel.sql} ({_column_defs(columns)}) COPY GRANTS"
                    )
                    self._load(conn, cur, rel, data)
                conn.commit()
            except errors as exc:
                _rollback(conn)
                raise query_error(
                    exc,
                    what=f"writing asset {context.key} to {rel.dotted}",
                    where=f"asset {context.key}",
                    secrets=self.resource.secrets,
                ) from None
            except BaseException:
                _rollback(conn)
                raise
        meta: dict[str, Any] = {"rows": data.num_rows, "table": rel.dotted}
        if pcol:
            meta["partition_column"] = pcol
        return meta

    def _rename(self, data: Any) -> Any:
        names = [column_name(n, self.normalize_columns) for n in data.column_names]
        if len(set(names)) != len(names):
            raise ExecutionError(
                f"frame columns {data.column_names} collide once resolved to Snowflake names "
                f"{names}",
                hint="rename the columns, or set normalize_columns: false",
            )
        return data.rename_columns(names)

    def _with_partition_column(
        self, context: OutputContext, data: Any, parts: tuple[str, ...]
    ) -> tuple[Any, str]:
        import pyarrow as pa

        declared = str(context.spec.metadata.get("partition_column", self.partition_column))
        col = column_name(declared, self.normalize_columns)
        if col not in data.column_names:
            if len(parts) > 1:
                raise ExecutionError(
                    f"asset {context.key} ran for {len(parts)} partitions, but its frame has "
                    f"no {declared!r} column saying which rows belong to which",
                    where=f"asset {context.key}",
                    hint=f"add a {declared!r} column, or run one partition at a time",
                )
            return data.append_column(col, pa.array([parts[0]] * data.num_rows, pa.string())), col
        values = {str(v) for v in data.column(col).to_pylist()}
        stray = sorted(values - set(parts))
        if stray:
            raise ExecutionError(
                f"asset {context.key} returned rows for partitions outside its run: {stray[:5]}",
                where=f"asset {context.key}",
                hint=f"the {declared!r} column must hold this run's partition keys",
            )
        return data, col

    def _columns(self, cur: Any, rel: Relation) -> list[str]:
        cur.execute(
            f"SELECT column_name FROM {quote_identifier(rel.database)}.information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            (rel.schema, rel.name),
        )
        return [str(row[0]) for row in cur.fetchall()]

    def _swap_rows(
        self,
        conn: Any,
        cur: Any,
        rel: Relation,
        data: Any,
        columns: list[tuple[str, str]],
        pcol: str | None,
        parts: tuple[str, ...],
    ) -> None:
        """Delete the rows being replaced and insert the new ones in ONE transaction."""
        where = ""
        params: tuple[str, ...] = ()
        if pcol:
            where = f" WHERE {quote_identifier(pcol)} IN ({', '.join(['%s'] * len(parts))})"
            params = tuple(parts)
        names = ", ".join(quote_identifier(c) for c in data.column_names)
        if self.write_method == "insert":
            cur.execute(f"DELETE FROM {rel.sql}{where}", params)
            _insert(cur, rel, data)
            return
        # write_pandas creates a temporary stage (DDL, which commits): load a staging table
        # first, then swap rows inside one transaction.
        suffix = uuid.uuid4().hex[:8].upper()
        staging = Relation(rel.database, rel.schema, f"{rel.name}__CATCHMENT_{suffix}")
        cur.execute(f"CREATE TRANSIENT TABLE {staging.sql} ({_column_defs(columns)})")
        try:
            _write_pandas(conn, staging, data)
            cur.execute(f"DELETE FROM {rel.sql}{where}", params)
            cur.execute(f"INSERT INTO {rel.sql} ({names}) SELECT {names} FROM {staging.sql}")
            conn.commit()
        except BaseException:
            _rollback(conn)  # before the DROP below, whose implicit commit would keep a DELETE
            raise
        finally:
            cur.execute(f"DROP TABLE IF EXISTS {staging.sql}")

    def _load(self, conn: Any, cur: Any, rel: Relation, data: Any) -> None:
        if self.write_method == "insert":
            _insert(cur, rel, data)
        else:
            _write_pandas(conn, rel, data)

    # -- load ----------------------------------------------------------------------------
    def load_input(self, context: InputContext) -> Any:
        """Read the asset's table (only the asked partitions) as pandas (default), pyarrow or
        polars, per the upstream's ``metadata["dataframe"]``."""
        want = str(context.spec.metadata.get("dataframe", "pandas"))
        if want not in FRAME_LIBRARIES:
            raise ConfigError(
                f"asset {context.key} asks for dataframe {want!r}",
                where=f"asset {context.key} metadata['dataframe']",
                hint=f"use one of {', '.join(FRAME_LIBRARIES)}",
            )
        rel = self.relation_for(context.key)
        who = context.downstream_key or context.key
        tag = query_tag(None, [context.key], step=str(who))
        sql = f"SELECT * FROM {rel.sql}"
        params: tuple[str, ...] = ()
        if context.partition_keys:
            declared = str(context.spec.metadata.get("partition_column", self.partition_column))
            col = column_name(declared, self.normalize_columns)
            keys = context.partition_keys
            sql += f" WHERE {quote_identifier(col)} IN ({', '.join(['%s'] * len(keys))})"
            params = tuple(keys)
        with self.resource.connect(query_tag=tag) as conn:
            cur = conn.cursor()
            try:
                cur.execute(sql, params)
                table = _fetch_arrow(cur)
            except connector_error_types() as exc:
                if getattr(exc, "errno", None) == _MISSING_OBJECT:
                    raise ExecutionError(
                        f"table {rel.dotted} of asset {context.key} does not exist",
                        where=f"asset {who}",
                        hint=f"materialize it first (catchment materialize --select {context.key})",
                    ) from None
                raise query_error(
                    exc,
                    what=f"reading asset {context.key} from {rel.dotted}",
                    where=f"asset {who}",
                    secrets=self.resource.secrets,
                ) from None
        table = table.rename_columns(
            [frame_name(n, self.normalize_columns) for n in table.column_names]
        )
        if want == "pyarrow":
            return table
        if want == "polars":
            import polars as pl

            return pl.from_arrow(table)
        return table.to_pandas()


def _column_defs(columns: list[tuple[str, str]]) -> str:
    return ", ".join(f"{quote_identifier(name)} {type_}" for name, type_ in columns)


def _write_pandas(conn: Any, rel: Relation, data: Any) -> None:
    import snowflake.connector.pandas_tools as tools

    frame = data.to_pandas()
    # Through the module attribute, so fakesnow.patch() (tests) can stand in; a session of
    # the resource's emulator (fakesnow without the patch) takes fakesnow's own write_pandas.
    write: Any = tools.write_pandas
    if type(conn).__module__.startswith("fakesnow."):
        from fakesnow.pandas_tools import write_pandas as fake_write_pandas

        write = fake_write_pandas
    ok, _, _, _ = write(
        conn,
        frame,
        table_name=rel.name,
        database=rel.database,
        schema=rel.schema,
        quote_identifiers=True,
        auto_create_table=False,
        use_logical_type=True,
    )
    if not ok:
        raise ExecutionError(f"write_pandas into {rel.dotted} reported failure", where=rel.dotted)


def _insert(cur: Any, rel: Relation, data: Any) -> None:
    if data.num_rows == 0:
        return
    names = ", ".join(quote_identifier(c) for c in data.column_names)
    marks = ", ".join(["%s"] * data.num_columns)
    rows = [tuple(r.values()) for r in data.to_pylist()]
    cur.executemany(f"INSERT INTO {rel.sql} ({names}) VALUES ({marks})", rows)


def _fetch_arrow(cur: Any) -> Any:
    """The result as a pyarrow Table (also when empty, and on cursors without Arrow fetch)."""
    import pyarrow as pa

    fetch = getattr(cur, "fetch_arrow_all", None)
    if fetch is not None:
        table = fetch(force_return_table=True)
        if table is not None:
            return table
    return pa.Table.from_pandas(cur.fetch_pandas_all(), preserve_index=False)


def _rollback(conn: Any) -> None:
    # The session may already be gone; the original error is what matters.
    with contextlib.suppress(Exception):
        conn.rollback()


# -- YAML ----------------------------------------------------------------------------------
class SnowflakeIOManagerConfig(BaseModel):
    """``io_managers: {name: {type: snowflake, config: ...}}`` in catchment.yaml."""

    model_config = ConfigDict(defer_build=True, extra="forbid", populate_by_name=True)

    connection: SnowflakeResource = Field(description="the same fields as a snowflake resource")
    database: str | None = Field(default=None, description="default: the connection's")
    schema_: str | None = Field(
        default=None, alias="schema", description="schema of one-segment keys"
    )
    partition_column: str = "partition_key"
    write_method: WriteMethod = "write_pandas"
    normalize_columns: bool = True


def make_io_manager(config: dict[str, Any], defaults: ProjectDefaults) -> SnowflakeIOManager:
    """Build a ``SnowflakeIOManager`` from catchment.yaml config."""
    c = SnowflakeIOManagerConfig.model_validate(config)
    return SnowflakeIOManager(
        c.connection,
        database=c.database,
        schema=c.schema_,
        partition_column=c.partition_column,
        write_method=c.write_method,
        normalize_columns=c.normalize_columns,
    )


__all__ = ["SnowflakeIOManager", "SnowflakeIOManagerConfig", "make_io_manager"]

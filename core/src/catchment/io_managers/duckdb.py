"""An IO manager that stores dataframes as DuckDB tables: the embedded default warehouse.

Asset ``a/b/c`` becomes table ``"a"."b__c"`` (a one-segment key goes to ``default_schema``),
so other tools' reads of that table link to the asset. pandas, pyarrow and polars frames are
accepted; loads return pandas unless the upstream spec's ``metadata["dataframe"]`` says
``"pyarrow"`` or ``"polars"``. Every call opens its own connection and closes it, so several
processes can take turns on one file.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from catchment.errors import ConfigError, ExecutionError
from catchment.frames import FRAME_LIBRARIES, frame_library
from catchment.io import PARTITION_METADATA, InputContext, OutputContext
from catchment.keys import AssetKey
from catchment.sql import quote_identifier
from catchment.tables import TableRef, duckdb_table

_VIEW = "__catchment_output"


class DuckDBIOManager:
    """Store pandas / pyarrow / polars frames as tables of the DuckDB file ``path``.

    A partitioned asset's rows carry its partition key in ``partition_column`` (overridable
    per asset with ``metadata["partition_column"]``); writing a partition replaces its rows.
    """

    def __init__(
        self,
        path: Path | str,
        default_schema: str = "main",
        *,
        partition_column: str = "partition_key",
        lock_timeout: float = 60.0,
    ):
        """``lock_timeout``: seconds to keep retrying while another process holds the file."""
        self.path = Path(path).expanduser().resolve()
        self.default_schema = default_schema
        self.partition_column = partition_column
        self.lock_timeout = lock_timeout

    # -- naming
    def schema_and_table(self, key: AssetKey) -> tuple[str, str]:
        """``a/b/c`` -> (``a``, ``b__c``); ``orders`` -> (default schema, ``orders``)."""
        if len(key.path) == 1:
            return self.default_schema, AssetKey._trusted(key.path).to_python_name()
        return (
            AssetKey._trusted(key.path[:1]).to_python_name(),
            AssetKey._trusted(key.path[1:]).to_python_name(),
        )

    def table_for(self, key: AssetKey) -> TableRef:
        """The relation this manager writes for ``key`` (how other tools' reads link to it)."""
        schema, name = self.schema_and_table(key)
        return duckdb_table(self.path, name, schema=schema)

    # -- connections
    def _connect(self) -> Any:
        import duckdb

        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise ExecutionError(
                f"cannot create the folder of the DuckDB file {self.path}: {exc.strerror}",
                where=str(self.path),
                hint=cause_hint(exc, self.path),
            ) from exc
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                if not _is_lock(exc) or time.monotonic() > deadline:
                    raise ExecutionError(
                        f"cannot open the DuckDB file {self.path}: {_first_line(exc)}",
                        where=str(self.path),
                        hint=cause_hint(exc, self.path),
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    # -- store
    def handle_output(self, context: OutputContext, obj: Any) -> Mapping[str, Any] | None:
        """Write ``obj`` to the asset's table (replacing it, or replacing its partitions)."""
        library = frame_library(obj)
        if library is None:
            raise ExecutionError(
                f"asset {context.key} returned a {type(obj).__module__}.{type(obj).__name__}, "
                "but the DuckDB IO manager stores only pandas, pyarrow and polars dataframes",
                where=f"asset {context.key}",
                hint="return a dataframe, or give the asset io_manager_key of a filesystem IO "
                "manager (FilesystemIOManager pickles any value)",
            )
        import duckdb

        schema, name = self.schema_and_table(context.key)
        target = f"{quote_identifier(schema)}.{quote_identifier(name)}"
        con = self._connect()
        try:
            con.register(_VIEW, obj)
            con.execute("BEGIN TRANSACTION")
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}")
            partitions = (
                (context.partition_key,) if context.partition_key else context.partition_keys
            )
            split: dict[str, dict[str, int]] = {}
            if partitions:
                self._write_partitions(con, context, target, schema, name, partitions)
                split = self._rows_by_partition(con, context, partitions)
            else:
                con.execute(f"CREATE OR REPLACE TABLE {target} AS SELECT * FROM {_VIEW}")
            con.execute("COMMIT")
            _checkpoint(con)
        except duckdb.Error as exc:
            _rollback(con)
            raise ExecutionError(
                f"writing asset {context.key} to {schema}.{name} in {self.path} failed: "
                f"{_first_line(exc)}",
                where=f"asset {context.key}",
                hint=cause_hint(
                    exc,
                    self.path,
                    schema_hint="if the columns changed, drop the table or write all "
                    "partitions again",
                ),
            ) from exc
        except BaseException:
            _rollback(con)
            raise
        finally:
            con.close()
        meta: dict[str, Any] = {"rows": len(obj), "table": f"{schema}.{name}"}
        if split:
            meta[PARTITION_METADATA] = split
        return meta

    def _rows_by_partition(
        self, con: Any, context: OutputContext, partitions: tuple[str, ...]
    ) -> dict[str, dict[str, int]]:
        """Rows written per partition of a range run (a single partition has them all)."""
        if len(partitions) < 2:
            return {}
        col = quote_identifier(context.spec.metadata.get("partition_column", self.partition_column))
        counts = dict(
            con.execute(
                f"SELECT CAST({col} AS VARCHAR), count(*) FROM {_VIEW} GROUP BY 1"
            ).fetchall()
        )
        return {p: {"rows": int(counts.get(p, 0))} for p in partitions}

    def _write_partitions(
        self,
        con: Any,
        context: OutputContext,
        target: str,
        schema: str,
        name: str,
        partitions: tuple[str, ...],
    ) -> None:
        col = context.spec.metadata.get("partition_column", self.partition_column)
        qcol = quote_identifier(col)
        columns = [d[0] for d in con.execute(f"SELECT * FROM {_VIEW} LIMIT 0").description]
        if len(partitions) == 1:
            select = (
                f"SELECT * EXCLUDE ({qcol}), ? AS {qcol} FROM {_VIEW}"
                if col in columns
                else f"SELECT *, ? AS {qcol} FROM {_VIEW}"
            )
            params: list[Any] = [partitions[0]]
        else:
            if col not in columns:
                raise ExecutionError(
                    f"asset {context.key} ran for {len(partitions)} partitions, but its "
                    f"frame has no {col!r} column saying which rows belong to which",
                    where=f"asset {context.key}",
                    hint=f"add a {col!r} column, or run one partition at a time",
                )
            select = f"SELECT * REPLACE (CAST({qcol} AS VARCHAR) AS {qcol}) FROM {_VIEW}"
            params = []
            stray = con.execute(
                f"SELECT DISTINCT CAST({qcol} AS VARCHAR) FROM {_VIEW} "
                f"WHERE CAST({qcol} AS VARCHAR) NOT IN (SELECT unnest(?))",
                [list(partitions)],
            ).fetchall()
            if stray:
                raise ExecutionError(
                    f"asset {context.key} returned rows for partitions outside its run: "
                    f"{sorted(str(r[0]) for r in stray)[:5]}",
                    where=f"asset {context.key}",
                )
        exists = con.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_schema = ? AND table_name = ?",
            [schema, name],
        ).fetchone()[0]
        if exists:
            con.execute(
                f"DELETE FROM {target} WHERE {qcol} IN (SELECT unnest(?))", [list(partitions)]
            )
            con.execute(f"INSERT INTO {target} BY NAME {select}", params)
        else:
            con.execute(f"CREATE TABLE {target} AS {select}", params)

    # -- load
    def load_input(self, context: InputContext) -> Any:
        """Read the asset's table (only the asked partitions) as pandas, pyarrow or polars."""
        want = context.spec.metadata.get("dataframe", "pandas")
        if want not in FRAME_LIBRARIES:
            raise ConfigError(
                f"asset {context.key} asks for dataframe {want!r}",
                where=f"asset {context.key} metadata['dataframe']",
                hint=f"use one of {', '.join(FRAME_LIBRARIES)}",
            )
        import duckdb

        schema, name = self.schema_and_table(context.key)
        if not self.path.exists():
            raise self._missing(context, schema, name)
        con = self._connect()
        try:
            columns = con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [schema, name],
            ).fetchall()
            if not columns:
                raise self._missing(context, schema, name)
            col = context.spec.metadata.get("partition_column", self.partition_column)
            query = f"SELECT * FROM {quote_identifier(schema)}.{quote_identifier(name)}"
            params: list[Any] = []
            if context.partition_keys and (col,) in columns:
                query += f" WHERE {quote_identifier(col)} IN (SELECT unnest(?))"
                params.append(list(context.partition_keys))
            result = con.execute(query, params)
            if want == "polars":
                return result.pl()
            if want == "pyarrow":
                return _arrow(result)
            return result.df()
        except duckdb.Error as exc:
            raise ExecutionError(
                f"reading asset {context.key} from {schema}.{name} in {self.path} failed: "
                f"{_first_line(exc)}",
                where=f"asset {context.downstream_key or context.key}",
                hint=cause_hint(exc, self.path),
            ) from exc
        finally:
            con.close()

    def _missing(self, context: InputContext, schema: str, name: str) -> ExecutionError:
        return ExecutionError(
            f"table {schema}.{name} for asset {context.key} does not exist in {self.path}",
            where=f"asset {context.downstream_key or context.key}",
            hint=f"materialize it first (catchment materialize --select {context.key})",
        )


_FULL = ("no space left", "file too large", "disk quota", "disk is full")
_NOT_WRITABLE = (
    "read-only file system",
    "permission denied",
    "operation not permitted",
    "read-only mode",
    "readonly",
)
_CORRUPT = ("not a valid duckdb database", "corrupt", "checksum", "invalid magic", "serializ")


def _first_line(exc: BaseException) -> str:
    """The message of a DuckDB error without the native stack trace a fatal error carries."""
    return str(exc).split("\n\nStack Trace", 1)[0].strip().splitlines()[0]


def _is_lock(exc: BaseException) -> bool:
    text = str(exc).lower()
    return "could not set lock" in text or "conflicting lock" in text


def cause_hint(exc: BaseException, path: Path, schema_hint: str | None = None) -> str:
    """The hint that matches what a DuckDB error says happened to the warehouse file ``path``:
    a full disk (or file size limit), a file or folder that cannot be written, a corrupt
    file, a lock held by another process; else ``schema_hint`` (a table that no longer fits)."""
    import errno

    text = str(exc).lower()
    code = exc.errno if isinstance(exc, OSError) else None
    if code in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT) or any(s in text for s in _FULL):
        return (
            f"the disk under {path.parent} is full (or a file size limit was hit): free "
            "space there, or move the warehouse (defaults.warehouse) to a bigger disk"
        )
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or any(s in text for s in _NOT_WRITABLE):
        return (
            f"{path} or its folder cannot be written (read-only file system or permissions): "
            "make it writable, or point defaults.warehouse somewhere writable"
        )
    if any(s in text for s in _CORRUPT):
        return (
            f"{path} is damaged or not a DuckDB file: move it aside and materialize again "
            "(or restore it from a backup); DuckDB files of another major version also fail here"
        )
    if _is_lock(exc):
        return "another process holds the file; wait for it or raise lock_timeout"
    return schema_hint or "see the DuckDB message above"


def _checkpoint(con: Any) -> None:
    """Write the committed data into the file now, so a full disk fails the step instead of
    a silent ``close()``; skipped while another connection of this process is in a
    transaction (DuckDB then checkpoints later)."""
    import duckdb

    try:
        con.execute("CHECKPOINT")
    except duckdb.Error as exc:
        if "transactions active" not in _first_line(exc).lower():
            raise


def _rollback(con: Any) -> None:
    import duckdb

    with contextlib.suppress(duckdb.Error):  # no transaction was open
        con.execute("ROLLBACK")


def _arrow(result: Any) -> Any:
    """A pyarrow Table from a DuckDB result, across DuckDB versions."""
    fetch = getattr(result, "fetch_arrow_table", None)
    if fetch is not None:
        return fetch()
    out = result.arrow()
    return out.read_all() if hasattr(out, "read_all") else out

"""The YAML ``attributes:`` of a ``type: spark`` component: PySpark scripts with the relations
they write (outputs) and read (inputs), validated by pydantic (an example is in component.py).
"""

from __future__ import annotations

from typing import Any, Literal

from catchment.components import ComponentContext
from catchment.tables import TableRef, duckdb_table, file_table, table
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(defer_build=True, extra="forbid", frozen=True)


def _check_identity(rel: Relation, asset: str | None) -> None:
    given = [n for n in ("path", "duckdb", "table") if getattr(rel, n)]
    if asset:
        if given:
            raise ValueError(f"give either asset or one of path, duckdb, table (got {given[0]})")
        return
    if len(given) != 1:
        raise ValueError(
            "give exactly one of path, duckdb or table"
            + (f" (got {', '.join(given)})" if given else "")
        )
    if rel.duckdb_file and not rel.duckdb:
        raise ValueError("duckdb_file only applies with duckdb")


class Relation(_Strict):
    """A relation by physical identity: exactly one of ``path``, ``duckdb`` or ``table``."""

    path: str | None = Field(
        default=None,
        description="a file or directory (parquet by default), relative to the project",
    )
    duckdb: str | None = Field(
        default=None, description="a DuckDB table as schema.name (or name, schema main)"
    )
    duckdb_file: str | None = Field(
        default=None, description="the DuckDB file of `duckdb` (default: the project warehouse)"
    )
    table: str | None = Field(
        default=None, description="a table as [database.]schema.name in `system` (default spark)"
    )
    system: str = Field(default="spark", description="the system of `table` (spark, postgres...)")
    location: str | None = Field(default=None, description="the instance of `table` (host:port...)")

    @model_validator(mode="after")
    def _one_identity(self) -> Relation:
        _check_identity(self, getattr(self, "asset", None))
        return self

    def ref(self, context: ComponentContext) -> TableRef:
        """The normalised identity (paths resolve against the project folder)."""
        if self.path:
            return file_table(context.path(self.path))
        if self.duckdb:
            schema, _, name = self.duckdb.rpartition(".")
            db_file = (
                context.path(self.duckdb_file) if self.duckdb_file else context.project.warehouse
            )
            return duckdb_table(db_file, name, schema=schema or "main")
        assert self.table is not None
        parts = self.table.split(".")
        schema_part = parts[-2] if len(parts) > 1 else None
        database = parts[-3] if len(parts) > 2 else None
        return table(
            self.system, parts[-1], schema=schema_part, database=database, location=self.location
        )


class Input(Relation):
    """Something the job reads: an asset key, or a relation another tool writes."""

    asset: str | None = Field(default=None, description="an asset key the job depends on")


class Check(_Strict):
    """A check the script reports with ``report_check(name, passed, asset_key=...)``."""

    name: str
    severity: Literal["error", "warn"] = "error"
    description: str | None = None
    blocking: bool = True


class Output(Relation):
    """An asset the job writes: its key and its identity (``path`` or ``table``)."""

    key: str = Field(description="the asset key, e.g. spark/revenue_daily")
    description: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    checks: list[Check] = Field(default_factory=list)


class Job(_Strict):
    """One PySpark script: what it writes, what it reads, how to run it."""

    name: str = Field(description="unique within the component; names the step")
    script: str = Field(description="the PySpark script, relative to the project folder")
    args: list[str] = Field(default_factory=list, description="arguments after the script")
    outputs: list[Output] = Field(min_length=1, description="assets the script reports")
    inputs: list[Input] = Field(default_factory=list, description="what the script reads")
    conf: dict[str, str] = Field(default_factory=dict, description="Spark conf for this job")
    env: dict[str, str] = Field(default_factory=dict, description="extra environment variables")
    description: str | None = None
    group: str | None = None
    owners: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)
    timeout: float | None = Field(default=None, description="kill the job after this many seconds")


class SparkAttributes(_Strict):
    """Attributes of a ``spark`` component: shared settings and the script jobs."""

    jobs: list[Job] = Field(min_length=1)
    master: str = Field(default="local[*]", description="Spark master for spark-submit")
    conf: dict[str, str] = Field(default_factory=dict, description="Spark conf for every job")
    env: dict[str, str] = Field(default_factory=dict, description="environment for every job")
    spark_submit: str | None = Field(
        default=None, description="path to spark-submit (default: SPARK_HOME, pyspark, PATH)"
    )
    group: str | None = Field(default=None, description="group of jobs that set none")
    owners: list[str] = Field(default_factory=list, description="owners of jobs that set none")

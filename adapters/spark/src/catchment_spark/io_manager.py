"""``SparkIOManager``: store Spark assets as parquet paths (or Spark tables) and load upstreams
as Spark DataFrames. Its location is the asset's physical identity, so other tools that read
the same path or table link to it in the graph."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from catchment.components import ProjectDefaults
from catchment.errors import ConfigError
from catchment.io import InputContext, OutputContext
from catchment.keys import AssetKey
from catchment.tables import TableRef, file_table, table
from pydantic import BaseModel, ConfigDict, Field

from catchment_spark.reading import is_spark_dataframe, to_spark

PARTITION_COLUMN = "partition"


class SparkIOManager:
    """Write each asset to ``base_dir/<key segments>`` (``format`` files, overwritten), or,
    with ``tables=True``, to the Spark table ``<database>.<key as name>``.

    A partitioned asset writes ``.../partition=<key>`` per partition and loads the partitions
    asked for. The session comes from the resource named ``resource_key`` (default ``spark``).
    """

    def __init__(
        self,
        base_dir: str | Path | None = None,
        *,
        tables: bool = False,
        database: str = "default",
        format: Literal["parquet", "orc", "json", "csv"] = "parquet",
        resource_key: str = "spark",
        count_rows: bool = True,
    ):
        if base_dir is None and not tables:
            raise ConfigError(
                "SparkIOManager needs base_dir (where parquet files go) or tables=True",
                where="io_managers spark",
                hint="e.g. SparkIOManager(base_dir='data/spark')",
            )
        self.base_dir = None if base_dir is None else Path(base_dir).expanduser().resolve()
        self.tables = tables
        self.database = database
        self.format = format
        self.resource_key = resource_key
        self.count_rows = count_rows

    # -- identity -------------------------------------------------------------------------

    def path_for(self, key: AssetKey) -> Path:
        """Where the asset's files live."""
        if self.base_dir is None:
            raise ConfigError("this SparkIOManager stores tables, not paths", where=str(key))
        return self.base_dir.joinpath(*key.path)

    def table_name_for(self, key: AssetKey) -> str:
        """The Spark table of the asset: ``<database>.<key as identifier>``."""
        return f"{self.database}.{key.to_python_name()}"

    def table_for(self, key: AssetKey) -> TableRef:
        """The asset's physical identity (a file path, or a Spark table)."""
        if self.tables:
            return table("spark", key.to_python_name(), schema=self.database)
        return file_table(self.path_for(key))

    # -- store and load ---------------------------------------------------------------------

    def handle_output(self, context: OutputContext, obj: Any) -> Mapping[str, Any] | None:
        """Write the DataFrame (pandas/arrow/polars values are converted first)."""
        if obj is None:
            return None
        spark = obj.sparkSession if is_spark_dataframe(obj) else self._session(context.resources)
        df = to_spark(spark, obj)
        key = context.key
        meta: dict[str, Any] = {"table": str(self.table_for(key))}
        if self.tables:
            name = self.table_name_for(key)
            if context.partition_key is not None:
                raise ConfigError(
                    "partitioned assets need path storage, not tables=True",
                    where=f"asset {key}",
                    hint="use SparkIOManager(base_dir=...) for partitioned Spark assets",
                )
            df.write.mode("overwrite").format(self.format).saveAsTable(name)
            meta["spark_table"] = name
            written = spark.table(name)
        else:
            path = self.path_for(key)
            if context.partition_key is not None:
                path = path / f"{PARTITION_COLUMN}={context.partition_key}"
            writer = df.write.mode("overwrite").format(self.format)
            if self.format == "csv":
                writer = writer.option("header", "true")
            writer.save(str(path))
            meta["path"] = str(path)
            written = self._read(spark, [str(path)])
        meta["format"] = self.format
        if self.count_rows:
            meta["rows"] = written.count()
        return meta

    def load_input(self, context: InputContext) -> Any:
        """The upstream asset as a Spark DataFrame (only the partitions asked for)."""
        spark = self._session(context.resources)
        key = context.key
        if self.tables:
            return spark.table(self.table_name_for(key))
        base = self.path_for(key)
        if context.partition_keys:
            paths = [str(base / f"{PARTITION_COLUMN}={p}") for p in context.partition_keys]
        else:
            paths = [str(base)]
        missing = [p for p in paths if not Path(p).exists()]
        if missing:
            raise ConfigError(
                f"asset {key} has no data at {missing[0]}",
                where=f"asset {key}",
                hint="materialize it first (catchment materialize -s ...)",
            )
        return self._read(spark, paths)

    def _read(self, spark: Any, paths: list[str]) -> Any:
        reader = spark.read.format(self.format)
        if self.format == "csv":
            reader = reader.option("header", "true").option("inferSchema", "true")
        return reader.load(paths)

    def _session(self, resources: Mapping[str, Any]) -> Any:
        from catchment_spark.resource import SparkResource

        value = resources.get(self.resource_key)
        if isinstance(value, SparkResource):  # not opened (e.g. OutputContext): join its session
            value = value.session()
        if value is not None:
            return value
        from pyspark.sql import SparkSession

        active = SparkSession.getActiveSession()
        if active is None:
            raise ConfigError(
                f"no Spark session: resource {self.resource_key!r} is not configured",
                where="io_managers spark",
                hint=f"add resources: {{{self.resource_key}: SparkResource()}}",
            )
        return active


class SparkIOManagerConfig(BaseModel):
    """YAML config of ``type: spark`` IO managers."""

    model_config = ConfigDict(defer_build=True, extra="forbid")

    base_dir: str = Field(
        default="data/spark", description="where parquet files go (project-relative)"
    )
    tables: bool = Field(default=False, description="store Spark tables instead of paths")
    database: str = Field(default="default", description="database of tables")
    format: Literal["parquet", "orc", "json", "csv"] = "parquet"
    resource_key: str = Field(default="spark", description="the SparkResource to use")


def make_io_manager(config: dict[str, Any], defaults: ProjectDefaults) -> SparkIOManager:
    """Build a SparkIOManager from YAML config; ``base_dir`` resolves against the project."""
    c = SparkIOManagerConfig.model_validate(config)
    base = Path(c.base_dir).expanduser()
    return SparkIOManager(
        base if base.is_absolute() else defaults.root / base,
        tables=c.tables,
        database=c.database,
        format=c.format,
        resource_key=c.resource_key,
    )

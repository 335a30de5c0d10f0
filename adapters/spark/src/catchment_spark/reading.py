"""Bring other tools' data into Spark: any dataframe value, or a relation named by its TableRef
(a DuckDB table, a parquet path, a Spark table)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from catchment.errors import ConfigError
from catchment.tables import TableRef


def is_spark_dataframe(value: Any) -> bool:
    """True for classic and Spark Connect DataFrames (without importing pyspark needlessly)."""
    if not type(value).__module__.startswith("pyspark."):
        return False
    from pyspark.sql import DataFrame

    return isinstance(value, DataFrame)


def to_spark(spark: Any, value: Any) -> Any:
    """A Spark DataFrame for ``value``: Spark DataFrames pass through; pandas, pyarrow and
    polars frames are converted (through Arrow)."""
    if is_spark_dataframe(value):
        return value
    module = type(value).__module__
    if module.startswith("polars"):
        value = value.to_arrow()
        module = type(value).__module__
    if module.startswith("pyarrow"):
        return spark.createDataFrame(value.to_pandas())
    if module.startswith("pandas"):
        return spark.createDataFrame(value)
    raise ConfigError(
        f"cannot turn a {type(value).__name__} into a Spark DataFrame",
        hint="return or load a Spark, pandas, pyarrow or polars DataFrame",
    )


def file_path(ref: TableRef) -> Path:
    """The filesystem path of a ``file`` TableRef."""
    return Path(ref.location) / ref.name


def read_table(spark: Any, ref: TableRef) -> Any:
    """Read the relation ``ref`` names into a Spark DataFrame: DuckDB tables through the
    duckdb package, files with Spark's readers (by suffix, parquet by default), Spark tables
    by name."""
    if ref.system == "duckdb":
        return to_spark(spark, read_duckdb(ref))
    if ref.system == "file":
        path = file_path(ref)
        suffix = path.suffix.lower()
        if suffix == ".csv":
            return spark.read.option("header", "true").option("inferSchema", "true").csv(str(path))
        if suffix in (".json", ".jsonl", ".ndjson"):
            return spark.read.json(str(path))
        return spark.read.parquet(str(path))
    if ref.system == "spark":
        return spark.table(ref.qualified_name)
    raise ConfigError(
        f"catchment-spark cannot read {ref} ({ref.system}) by itself",
        hint="read it in the asset with spark.read.jdbc(...) or the system's connector",
    )


def read_duckdb(ref: TableRef) -> Any:
    """A DuckDB table as a pyarrow Table (the file is opened read-only when no one in this
    process has it open for writing)."""
    try:
        import duckdb
    except ImportError as e:
        raise ConfigError(
            f"reading {ref} needs the duckdb package",
            hint="pip install 'catchment-spark[duckdb]'",
        ) from e
    if ref.location != ":memory:" and not Path(ref.location).is_file():
        raise ConfigError(
            f"DuckDB file {ref.location} does not exist (reading {ref.qualified_name})",
            hint="materialize the asset that writes it first",
        )
    relation = ".".join(f'"{p}"' for p in (ref.database, ref.schema, ref.name) if p)
    con = duckdb.connect(ref.location)
    try:
        return con.execute(f"select * from {relation}").fetch_arrow_table()
    finally:
        con.close()

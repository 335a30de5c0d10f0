"""Dataframes on their way into and out of Snowflake: one Arrow path for pandas, pyarrow and
polars, Arrow types mapped to Snowflake column types, and column-name resolution."""

from __future__ import annotations

from typing import Any

from catchment_snowflake.identifiers import is_simple, resolve


def to_arrow(obj: Any, library: str) -> Any:
    """A ``pyarrow.Table`` of a pandas / pyarrow / polars frame."""
    import pyarrow as pa

    if library == "pyarrow":
        return obj
    if library == "polars":
        return obj.to_arrow()
    return pa.Table.from_pandas(obj, preserve_index=False)


def column_name(name: str, normalize: bool) -> str:
    """The Snowflake column for a frame column: simple names resolve as if unquoted
    (``order_id`` -> ``ORDER_ID``) when ``normalize``; others keep their exact spelling."""
    text = str(name)
    return resolve(text) if normalize and is_simple(text) else text


def frame_name(column: str, normalize: bool) -> str:
    """The frame column for a Snowflake column: ``ORDER_ID`` -> ``order_id`` when
    ``normalize``."""
    return (
        column.lower() if normalize and is_simple(column) and column == column.upper() else column
    )


def snowflake_type(arrow_type: Any) -> str:
    """The Snowflake column type that holds values of ``arrow_type``."""
    import pyarrow as pa
    import pyarrow.types as t

    if t.is_dictionary(arrow_type):
        return snowflake_type(arrow_type.value_type)
    if t.is_boolean(arrow_type):
        return "BOOLEAN"
    if t.is_integer(arrow_type):
        return "NUMBER(38,0)"
    if t.is_floating(arrow_type):
        return "FLOAT"
    if t.is_decimal(arrow_type):
        return f"NUMBER({min(arrow_type.precision, 38)},{arrow_type.scale})"
    if t.is_string(arrow_type) or t.is_large_string(arrow_type) or t.is_null(arrow_type):
        return "VARCHAR"
    if t.is_binary(arrow_type) or t.is_large_binary(arrow_type):
        return "BINARY"
    if t.is_date(arrow_type):
        return "DATE"
    if t.is_timestamp(arrow_type):
        return "TIMESTAMP_TZ" if arrow_type.tz else "TIMESTAMP_NTZ"
    if t.is_time(arrow_type):
        return "TIME"
    if isinstance(arrow_type, pa.DataType) and (
        t.is_list(arrow_type) or t.is_struct(arrow_type) or t.is_map(arrow_type)
    ):
        return "VARIANT"
    return "VARCHAR"

"""How the built-in IO managers split outputs by partition and assemble partitioned inputs."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from catchment.errors import ExecutionError
from catchment.io import InputContext, OutputContext


def output_parts(context: OutputContext, obj: Any, manager: str) -> list[tuple[str | None, Any]]:
    """``(partition_key, value)`` pairs to store: one for an unpartitioned or single-partition
    run; for a range run the compute must return ``{partition_key: value}`` for its range."""
    if context.partition_key is not None:
        return [(context.partition_key, obj)]
    keys = context.partition_keys
    if not keys:
        return [(None, obj)]
    if len(keys) == 1:
        return [(keys[0], obj)]
    if isinstance(obj, Mapping) and set(obj) == set(keys):
        return [(k, obj[k]) for k in keys]
    raise ExecutionError(
        f"asset {context.key} ran for {len(keys)} partitions ({keys[0]} ... {keys[-1]}) but "
        f"returned one {type(obj).__name__}; the {manager} IO manager stores one value per "
        "partition",
        where=f"asset {context.key}",
        hint="return a dict {partition_key: value} covering the range, or run one partition",
    )


def assemble(
    context: InputContext,
    available: Iterable[str],
    has_unpartitioned: bool,
    load: Callable[[str | None], Any],
    manager: str,
) -> Any:
    """The value of an input: the unpartitioned value, one partition's value, or a dict
    ``{partition_key: value}`` when several (or, unasked, all stored) partitions are read."""
    stored = list(available)
    if not context.partition_keys:
        if has_unpartitioned:
            return load(None)
        if stored:
            return {k: load(k) for k in stored}
        raise missing(context, manager)
    absent = [k for k in context.partition_keys if k not in set(stored)]
    if absent:
        raise missing(context, manager, absent)
    if len(context.partition_keys) == 1:
        return load(context.partition_keys[0])
    return {k: load(k) for k in context.partition_keys}


def missing(context: InputContext, manager: str, partitions: list[str] | None = None) -> Exception:
    """The error for an input that was never stored."""
    what = f"partitions {partitions} of asset" if partitions else "asset"
    return ExecutionError(
        f"the {manager} IO manager has no stored value for {what} {context.key}",
        where=f"asset {context.downstream_key or context.key}",
        hint=f"materialize {context.key} first (catchment materialize --select {context.key})",
    )

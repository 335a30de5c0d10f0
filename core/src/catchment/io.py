"""IO managers: how an asset's value is stored after its compute and loaded for downstreams.

Swapping the IO manager is how one graph runs in a test (memory), on a laptop (DuckDB) and in
production (a warehouse) unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

import msgspec

from catchment.keys import AssetKey
from catchment.specs import AssetSpec
from catchment.tables import TableRef

PARTITION_METADATA = "partition_metadata"
"""Key of ``handle_output``'s metadata holding ``{partition_key: {name: value}}`` (a range
run's rows per partition); the step records it per partition, not as a value."""

__all__ = ["IOManager", "InputContext", "OutputContext", "TableIOManager"]


class OutputContext(msgspec.Struct, frozen=True, kw_only=True):
    """What ``handle_output`` knows about the value it stores."""

    key: AssetKey
    spec: AssetSpec
    run_id: str
    partition_key: str | None = None
    partition_keys: tuple[str, ...] = ()
    resources: Mapping[str, Any] = msgspec.field(default_factory=dict)


class InputContext(msgspec.Struct, frozen=True, kw_only=True):
    """What ``load_input`` knows: the upstream asset, and who asks for it."""

    key: AssetKey
    spec: AssetSpec
    downstream_key: AssetKey | None = None
    partition_keys: tuple[str, ...] = ()
    resources: Mapping[str, Any] = msgspec.field(default_factory=dict)


@runtime_checkable
class IOManager(Protocol):
    """Store and load asset values. ``handle_output`` may return metadata (row count, table)."""

    def handle_output(self, context: OutputContext, obj: Any) -> Mapping[str, Any] | None:
        """Store ``obj`` as the value of ``context.key`` (its partitions when partitioned);
        return metadata to record with the materialization, or None (per partition of a
        range run under ``PARTITION_METADATA``)."""
        ...

    def load_input(self, context: InputContext) -> Any:
        """The stored value of ``context.key`` (of ``context.partition_keys`` if any)."""
        ...


@runtime_checkable
class TableIOManager(IOManager, Protocol):
    """An IO manager that stores each asset in a table it can name before anything runs,
    so assets it stores link to other tools' reads of that table."""

    def table_for(self, key: AssetKey) -> TableRef:
        """The relation this manager writes for ``key``; the graph links reads of it."""
        ...

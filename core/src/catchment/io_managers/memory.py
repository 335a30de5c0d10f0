"""An IO manager that keeps values in a dict: for tests and single-process runs."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from catchment.io import InputContext, OutputContext
from catchment.io_managers._partitions import assemble, output_parts
from catchment.keys import AssetKey


class MemoryIOManager:
    """Store asset values in this process's memory; they vanish when it exits."""

    def __init__(self) -> None:
        """Start empty."""
        self._values: dict[AssetKey, dict[str | None, Any]] = {}

    def handle_output(self, context: OutputContext, obj: Any) -> Mapping[str, Any] | None:
        """Keep ``obj`` (per partition when the run is partitioned)."""
        slot = self._values.setdefault(context.key, {})
        for partition, value in output_parts(context, obj, "memory"):
            slot[partition] = value
        return None

    def load_input(self, context: InputContext) -> Any:
        """Return the stored value (a dict ``{partition: value}`` for several partitions)."""
        slot = self._values.get(context.key, {})
        return assemble(
            context,
            [k for k in slot if k is not None],
            None in slot,
            slot.__getitem__,
            "memory",
        )

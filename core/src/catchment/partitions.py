"""Partitions: how an asset is split (static keys or time windows) and how partitioned
assets map onto their upstreams.

This module holds the contract; the concrete sets and mappings are defined below it.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence


class PartitionsDefinition(ABC):
    """An ordered set of partition keys an asset is materialized by."""

    @abstractmethod
    def keys(self) -> Sequence[str]:
        """Every partition key, in order."""

    def contains(self, key: str) -> bool:
        return key in self.keys()

    def range(self, start: str, end: str) -> list[str]:
        """The keys from ``start`` to ``end``, both included, in order."""
        all_keys = list(self.keys())
        from catchment.errors import ConfigError

        for k in (start, end):
            if k not in all_keys:
                raise ConfigError(
                    f"unknown partition key {k!r}", hint=f"known keys: {_preview(all_keys)}"
                )
        i, j = all_keys.index(start), all_keys.index(end)
        if i > j:
            raise ConfigError(f"partition range {start!r}...{end!r} runs backwards")
        return all_keys[i : j + 1]

    def validate(self, key: str) -> str:
        from catchment.errors import ConfigError

        if not self.contains(key):
            raise ConfigError(
                f"unknown partition key {key!r}", hint=f"known keys: {_preview(list(self.keys()))}"
            )
        return key


class PartitionMapping(ABC):
    """Which upstream partitions a downstream partition reads."""

    @abstractmethod
    def upstream_keys(
        self,
        downstream_key: str | None,
        downstream: PartitionsDefinition | None,
        upstream: PartitionsDefinition,
    ) -> list[str]:
        """The upstream partition keys that ``downstream_key`` depends on."""


def _preview(keys: list[str], n: int = 5) -> str:
    if len(keys) <= 2 * n:
        return ", ".join(keys)
    return ", ".join(keys[:n]) + ", ..., " + ", ".join(keys[-n:])

"""What an asset IS, independent of how it is computed: ``AssetSpec`` and its parts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

import msgspec

from catchment.automation.conditions import AnyCondition, AutomationCondition
from catchment.automation.policy import FreshnessPolicy, as_freshness_policy
from catchment.keys import AssetKey, CheckKey, CoercibleToKey
from catchment.partitions import (
    PartitionMapping,
    PartitionScope,
    PartitionsDefinition,
    as_partition_scope,
)
from catchment.tables import TableRef

__all__ = ["AssetDep", "AssetSpec", "CheckSpec", "RetryPolicy", "Severity", "spec"]

Severity = Literal["error", "warn"]


class AssetDep(msgspec.Struct, frozen=True):
    """A dependency on an upstream asset, optionally with a partition mapping."""

    key: AssetKey
    partition_mapping: PartitionMapping | None = None


class CheckSpec(msgspec.Struct, frozen=True, kw_only=True):
    """A named check on an asset. A failed ``error`` check stops the asset's downstream
    (when ``blocking``); a failed ``warn`` check is recorded and nothing stops."""

    name: str
    asset: AssetKey
    severity: Severity = "error"
    description: str | None = None
    blocking: bool = True
    metadata: Mapping[str, Any] = msgspec.field(default_factory=dict)

    @property
    def key(self) -> CheckKey:
        """The check's identity: its asset and name."""
        return CheckKey(self.asset, self.name)

    @property
    def id(self) -> str:
        """``asset/key:check_name``, how plans, steps and records name the check."""
        return self.key.to_string()


class RetryPolicy(msgspec.Struct, frozen=True, kw_only=True):
    """Retry a failed step up to ``max_retries`` times, waiting ``delay * backoff**attempt``."""

    max_retries: int = 0
    delay: float = 0.0
    backoff: float = 1.0

    def wait_for(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt + 1`` (``attempt`` counts from 0)."""
        return self.delay * (self.backoff**attempt)


class AssetSpec(msgspec.Struct, frozen=True, kw_only=True):
    """The declaration of one asset: identity, lineage, ownership and physical identity.

    Immutable and cheap, since a large dbt project holds thousands. ``table`` is the relation the
    asset writes; ``reads`` are relations it reads that it cannot name as asset keys (a dbt
    source, a Spark job's input). The graph links each read to the asset that writes it.
    ``writes_own_data`` says the compute writes the data itself and hands no value to an IO
    manager (an ``@asset`` annotated ``-> MaterializeResult`` or ``-> None``): the graph then
    fills no IO-manager table for it, and no downstream may load it as an input.
    """

    key: AssetKey
    deps: tuple[AssetDep, ...] = ()
    description: str | None = None
    group: str | None = None
    owners: tuple[str, ...] = ()
    tags: Mapping[str, str] = msgspec.field(default_factory=dict)
    kinds: tuple[str, ...] = ()
    metadata: Mapping[str, Any] = msgspec.field(default_factory=dict)
    code_version: str | None = None
    partitions: PartitionsDefinition | None = None
    io_manager_key: str | None = None
    checks: tuple[CheckSpec, ...] = ()
    table: TableRef | None = None
    reads: tuple[TableRef, ...] = ()
    automation: AnyCondition | None = None
    partition_scope: PartitionScope | None = None
    freshness: FreshnessPolicy | None = None
    writes_own_data: bool = False

    @property
    def dep_keys(self) -> tuple[AssetKey, ...]:
        """The keys of ``deps`` (reads linked by table are the graph's business)."""
        return tuple(d.key for d in self.deps)

    def replace(self, **changes: Any) -> AssetSpec:
        """A copy with ``changes`` applied (specs are immutable)."""
        return msgspec.structs.replace(self, **changes)


def spec(
    key: CoercibleToKey,
    *,
    deps: Iterable[CoercibleToKey | AssetDep] = (),
    description: str | None = None,
    group: str | None = None,
    owners: Iterable[str] = (),
    tags: Mapping[str, str] | None = None,
    kinds: Iterable[str] = (),
    metadata: Mapping[str, Any] | None = None,
    code_version: str | None = None,
    partitions: PartitionsDefinition | None = None,
    io_manager_key: str | None = None,
    checks: Iterable[CheckSpec] = (),
    table: TableRef | None = None,
    reads: Iterable[TableRef] = (),
    automation: AutomationCondition | str | None = None,
    partition_scope: PartitionScope | str | int | None = None,
    freshness: FreshnessPolicy | str | float | Mapping[str, Any] | None = None,
) -> AssetSpec:
    """Build an ``AssetSpec`` from loose inputs (strings for keys, lists for tuples, an
    expression for ``automation``, ``'last 7'`` for ``partition_scope``, ``'36h'`` or a
    mapping for ``freshness``)."""
    from catchment.automation.expression import as_condition

    return AssetSpec(
        key=AssetKey.parse(key),
        deps=tuple(d if isinstance(d, AssetDep) else AssetDep(AssetKey.parse(d)) for d in deps),
        description=description,
        group=group,
        owners=tuple(owners),
        tags=dict(tags or {}),
        kinds=tuple(kinds),
        metadata=dict(metadata or {}),
        code_version=code_version,
        partitions=partitions,
        io_manager_key=io_manager_key,
        checks=tuple(checks),
        table=table,
        reads=tuple(reads),
        automation=as_condition(automation),
        partition_scope=as_partition_scope(partition_scope),
        freshness=as_freshness_policy(
            dict(freshness) if isinstance(freshness, Mapping) else freshness
        ),
    )

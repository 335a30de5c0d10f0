"""What a compute yields while it runs; the engine turns these into recorded events.

A compute for a step yields, for each selected asset, exactly one of ``Output`` (a value the
IO manager stores), ``MaterializeResult`` (the compute wrote the data itself), ``AssetFailure``
or ``AssetSkipped``; plus any ``CheckResult`` for its checks. A selected asset the compute never
reports on is recorded as failed, never as success.

In a partition range run, ``partition_metadata`` (``{partition_key: {name: value}}``) gives
what differs per partition (its row count); each partition's record merges it over
``metadata``.

``key`` may be a string (``"raw/orders"``, parsed here) and may be left out by the compute of a
one-asset definition (an ``@asset``): the result is then that asset's. A definition of many
assets must name it; the step says so when it does not. ``CheckResult.asset_key`` may be left
out the same way, and inside ``MaterializeResult(check_results=[...])`` it defaults to that
result's asset. ``CheckResult.check_name`` may be left out where the definition declares one
check on that asset (an ``@asset_check``, an ``@asset(check_specs=[one])``): it is that one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from catchment.keys import AssetKey, CoercibleToKey
from catchment.specs import Severity

__all__ = [
    "AssetFailure",
    "AssetSkipped",
    "CheckResult",
    "MaterializeResult",
    "Output",
    "StepResult",
]


def _parse_key(result: Any) -> None:
    """Turn a key given as a string or segments into an ``AssetKey`` (the structs are frozen)."""
    key: CoercibleToKey = result.key
    msgspec.structs.force_setattr(result, "key", AssetKey.parse(key))


class Output(msgspec.Struct, frozen=True, kw_only=True):
    """A value for the asset's IO manager to store."""

    key: AssetKey | None = None
    value: Any
    metadata: Mapping[str, Any] = msgspec.field(default_factory=dict)
    data_version: str | None = None
    partition_metadata: Mapping[str, Mapping[str, Any]] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.key.__class__ is not AssetKey and self.key is not None:
            _parse_key(self)

    if TYPE_CHECKING:  # the key may be given as text or segments (parsed above)

        def __init__(
            self,
            *,
            key: CoercibleToKey | None = None,
            value: Any,
            metadata: Mapping[str, Any] = ...,
            data_version: str | None = None,
            partition_metadata: Mapping[str, Mapping[str, Any]] = ...,
        ) -> None: ...


class CheckResult(msgspec.Struct, frozen=True, kw_only=True):
    """The outcome of one check on one asset. ``asset_key`` may be left out where the step can
    tell the asset (a one-asset definition, or inside that asset's ``MaterializeResult``), and
    ``check_name`` where the definition declares one check on that asset (its name is used)."""

    asset_key: AssetKey | None = None
    check_name: str | None = None
    passed: bool
    severity: Severity | None = None
    description: str | None = None
    metadata: Mapping[str, Any] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        key = self.asset_key
        if key.__class__ is not AssetKey and key is not None:
            msgspec.structs.force_setattr(self, "asset_key", AssetKey.parse(key))

    if TYPE_CHECKING:  # the key may be given as text or segments (parsed above)

        def __init__(
            self,
            *,
            asset_key: CoercibleToKey | None = None,
            check_name: str | None = None,
            passed: bool,
            severity: Severity | None = None,
            description: str | None = None,
            metadata: Mapping[str, Any] = ...,
        ) -> None: ...


class MaterializeResult(msgspec.Struct, frozen=True, kw_only=True):
    """The compute materialized the asset itself (dbt, Sling, a remote job); ``check_results``
    are checks it evaluated on the way (recorded after the materialization, as in Dagster)."""

    key: AssetKey | None = None
    metadata: Mapping[str, Any] = msgspec.field(default_factory=dict)
    data_version: str | None = None
    partition_metadata: Mapping[str, Mapping[str, Any]] = msgspec.field(default_factory=dict)
    check_results: tuple[CheckResult, ...] = ()

    def __post_init__(self) -> None:
        if self.key.__class__ is not AssetKey and self.key is not None:
            _parse_key(self)
        if self.check_results.__class__ is not tuple:
            msgspec.structs.force_setattr(self, "check_results", tuple(self.check_results))

    if TYPE_CHECKING:  # the key may be given as text or segments (parsed above)

        def __init__(
            self,
            *,
            key: CoercibleToKey | None = None,
            metadata: Mapping[str, Any] = ...,
            data_version: str | None = None,
            partition_metadata: Mapping[str, Mapping[str, Any]] = ...,
            check_results: Sequence[CheckResult] = (),
        ) -> None: ...


class AssetFailure(msgspec.Struct, frozen=True, kw_only=True):
    """One asset of the step failed; the others may still succeed. ``hint`` says what to do."""

    key: AssetKey | None = None
    message: str
    error_class: str | None = None
    where: str | None = None
    output: str | None = None
    hint: str | None = None

    def __post_init__(self) -> None:
        if self.key.__class__ is not AssetKey and self.key is not None:
            _parse_key(self)

    if TYPE_CHECKING:  # the key may be given as text or segments (parsed above)

        def __init__(
            self,
            *,
            key: CoercibleToKey | None = None,
            message: str,
            error_class: str | None = None,
            where: str | None = None,
            output: str | None = None,
            hint: str | None = None,
        ) -> None: ...


class AssetSkipped(msgspec.Struct, frozen=True, kw_only=True):
    """The compute did not build the asset (e.g. its upstream failed inside the same tool)."""

    key: AssetKey | None = None
    reason: str

    def __post_init__(self) -> None:
        if self.key.__class__ is not AssetKey and self.key is not None:
            _parse_key(self)

    if TYPE_CHECKING:  # the key may be given as text or segments (parsed above)

        def __init__(self, *, key: CoercibleToKey | None = None, reason: str) -> None: ...


StepResult = Output | MaterializeResult | CheckResult | AssetFailure | AssetSkipped

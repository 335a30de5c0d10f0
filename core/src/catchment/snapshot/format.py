"""The definitions snapshot's format: plain msgspec structs for everything a read-only command
needs from a loaded project (specs, checks, partitions, automation, provenance, problems; and
for the UI and the daemon its schedules, sensors, adapters and resource names), and
the hooks that encode the core's few non-struct types (keys, partition sets and mappings).

Computes are not in it: a snapshot rebuilds a graph whose definitions cannot run.
"""

from __future__ import annotations

from datetime import datetime
from itertools import chain, repeat
from operator import attrgetter, is_not
from typing import Any

import msgspec

from catchment.keys import AssetKey, interning_dec_hook
from catchment.multi_partitions import MultiPartitions
from catchment.partitions import (
    AllPartitionsMapping,
    DynamicPartitions,
    IdentityMapping,
    PartitionMapping,
    PartitionsDefinition,
    StaticMapping,
    StaticPartitions,
    TimeWindowMapping,
    TimeWindowPartitions,
)
from catchment.schedules import ScheduleDefinition
from catchment.sensors.definition import SensorDefinition
from catchment.specs import AssetSpec, CheckSpec, RetryPolicy

__all__ = [
    "FORMAT_VERSION",
    "DefaultsRecord",
    "DefinitionRecord",
    "ProblemRecord",
    "Snapshot",
    "UnsnapshotableError",
    "decode",
    "encode",
    "head",
]

FORMAT_VERSION = 3
"""Bumped whenever a struct below changes shape: an older file is then stale, not misread."""


class UnsnapshotableError(TypeError):
    """A definition holds a value the snapshot cannot encode (a custom partition set, an
    object in metadata): the project is then loaded, not cached."""


class DefinitionRecord(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """An ``AssetsDefinition`` without its compute."""

    name: str
    specs: tuple[AssetSpec, ...]
    check_specs: tuple[CheckSpec, ...] = ()
    can_subset: bool = False
    required_resources: frozenset[str] = frozenset()
    retry: RetryPolicy | None = None
    source: str | None = None
    component: str | None = None
    adapter: str = "python"
    metadata: dict[str, Any] = {}
    timeout: float | None = None
    pool: str | None = None
    pool_slots: int = 1
    # (system, location) of each observer the loaded definition carries (connections are not
    # kept: observing those relations loads its component); None in older snapshots: unknown
    observers: tuple[tuple[str, str], ...] | None = None


class ProblemRecord(msgspec.Struct, frozen=True, array_like=True):
    """A ``Problem`` of the load, kept so a hit warns exactly like a fresh load."""

    kind: str
    where: str
    message: str
    hint: str | None = None


class DefaultsRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The project's ``defaults:``/``queue:``/``pools:``; ``storage_url`` is None when it is
    not the default one (it may hold a password: it is then read from catchment.yaml again)."""

    warehouse: str
    storage_url: str | None
    timeout: float | None = None
    executor: dict[str, Any] | None = None
    max_concurrent_runs: int | None = None
    tag_limits: tuple[tuple[str, str | None, int], ...] = ()
    pools: dict[str, int] = {}
    pool_lease_seconds: float = 60.0


class Snapshot(msgspec.Struct, kw_only=True):
    """One project's definitions as loaded, and the key they were loaded under."""

    format: int
    catchment_version: str
    key: str
    name: str
    root: str
    file: str
    defaults: DefaultsRecord
    definitions: tuple[DefinitionRecord, ...]
    components: dict[str, str]
    problems: tuple[ProblemRecord, ...]
    graph_built: bool
    watched: tuple[str, ...] = ()  # folders outside the project that components point at
    racy_after: int = 0  # files modified after this (ns) are in the key by content too
    # what the UI and the daemon read besides the graph (format 2): a sensor is its definition
    # (its function runs in a subprocess of its own), adapters are ``catchment plugins --json``
    schedules: tuple[ScheduleDefinition, ...] = ()
    sensors: tuple[SensorDefinition, ...] = ()
    adapters: tuple[dict[str, Any], ...] = ()
    resources: tuple[str, ...] = ()


class _Head(msgspec.Struct):
    """The fields read before trusting the rest: a different format is stale, not decoded."""

    format: int
    key: str


# -- non-struct types ----------------------------------------------------------------------
class _Boxed:
    """A partition mapping on its way to the encoder: some mappings are dataclasses, which
    msgspec would write as plain (untagged) objects without asking ``_enc_hook``."""

    __slots__ = ("mapping",)

    def __init__(self, mapping: PartitionMapping):
        self.mapping = mapping


_mapping_of = attrgetter("partition_mapping")
_deps_of = attrgetter("deps")


def _maps_partitions(specs: tuple[AssetSpec, ...]) -> bool:
    """Whether a dependency of ``specs`` has a partition mapping: one scan in C over every
    dep (no frame per spec; most projects have none)."""
    mappings = map(_mapping_of, chain.from_iterable(map(_deps_of, specs)))
    return any(map(is_not, mappings, repeat(None)))


def _box_spec(s: AssetSpec) -> AssetSpec:
    deps = s.deps
    if not deps or [*map(_mapping_of, deps)].count(None) == len(deps):
        return s
    deps = tuple(
        d
        if d.partition_mapping is None
        else msgspec.structs.replace(d, partition_mapping=_Boxed(d.partition_mapping))
        for d in s.deps
    )
    return s.replace(deps=deps)


def _boxed(snapshot: Snapshot) -> Snapshot:
    """``snapshot`` with every dependency's partition mapping boxed (see ``_Boxed``)."""
    records = []
    changed = False
    for d in snapshot.definitions:
        if _maps_partitions(d.specs):
            specs = tuple(_box_spec(s) for s in d.specs)
            changed = True
            d = msgspec.structs.replace(d, specs=specs)
        records.append(d)
    return msgspec.structs.replace(snapshot, definitions=tuple(records)) if changed else snapshot


def _enc_hook(obj: Any) -> Any:
    """AssetKey -> ``a/b``; partition sets and mappings -> tagged objects; anything else
    cannot be snapshotted."""
    if isinstance(obj, AssetKey):
        return obj.to_string()
    if isinstance(obj, StaticPartitions):
        return {"static": list(obj.keys())}
    if isinstance(obj, DynamicPartitions):
        return {"dynamic": obj.name}
    if isinstance(obj, MultiPartitions):
        return {"multi": {"time": _enc_hook(obj.time), "static": list(obj.static.keys())}}
    if isinstance(obj, TimeWindowPartitions):
        end = obj._end.isoformat() if obj._end is not None else None
        return {
            "time_window": {
                "start": obj._start.isoformat(),
                "end": end,
                "cadence": obj.cadence,
                "timezone": obj.timezone,
                "fmt": obj.fmt,
            }
        }
    if isinstance(obj, _Boxed):
        obj = obj.mapping
    if isinstance(obj, IdentityMapping):
        return {"mapping": "identity"}
    if isinstance(obj, AllPartitionsMapping):
        return {"mapping": "all"}
    if isinstance(obj, TimeWindowMapping):
        return {"mapping": "time_window", "start": obj.start_offset, "end": obj.end_offset}
    if isinstance(obj, StaticMapping):
        return {"mapping": "static", "map": {k: list(v) for k, v in obj.mapping.items()}}
    raise UnsnapshotableError(f"a {type(obj).__module__}.{type(obj).__qualname__} value")


def _partitions(obj: Any) -> PartitionsDefinition:
    if "static" in obj:
        return StaticPartitions(obj["static"])
    if "dynamic" in obj:
        return DynamicPartitions(obj["dynamic"])
    if "multi" in obj:
        time = _partitions(obj["multi"]["time"])
        assert isinstance(time, TimeWindowPartitions)
        return MultiPartitions(time, obj["multi"]["static"])
    tw = obj["time_window"]
    end = datetime.fromisoformat(tw["end"]) if tw["end"] is not None else None
    return TimeWindowPartitions(
        datetime.fromisoformat(tw["start"]),
        end,
        cadence=tw["cadence"],
        timezone=tw["timezone"],
        fmt=tw["fmt"],
    )


def _mapping(obj: Any) -> PartitionMapping:
    kind = obj["mapping"]
    if kind == "identity":
        return IdentityMapping()
    if kind == "all":
        return AllPartitionsMapping()
    if kind == "time_window":
        return TimeWindowMapping(start_offset=obj["start"], end_offset=obj["end"])
    if kind == "static":
        return StaticMapping(obj["map"])
    raise ValueError(f"unknown partition mapping {kind!r}")


def _dec_hook(type_: type, obj: Any) -> Any:
    """Partition sets and mappings from their tagged objects (keys: ``interning_dec_hook``)."""
    if type_ is PartitionsDefinition:
        return _partitions(obj)
    if type_ is PartitionMapping:
        return _mapping(obj)
    raise NotImplementedError(f"no decoder for {type_}")


_encoder = msgspec.msgpack.Encoder(enc_hook=_enc_hook)
_head = msgspec.msgpack.Decoder(_Head)


def encode(snapshot: Snapshot) -> bytes:
    """The snapshot as msgpack bytes; ``UnsnapshotableError`` if a value has no encoding."""
    try:
        return _encoder.encode(_boxed(snapshot))
    except UnsnapshotableError:
        raise
    except (TypeError, ValueError, OverflowError) as exc:
        raise UnsnapshotableError(str(exc)) from None


def head(data: bytes) -> tuple[int, str]:
    """The format version and key of an encoded snapshot (cheap: the rest is skipped)."""
    h = _head.decode(data)
    return h.format, h.key


def decode(data: bytes) -> Snapshot:
    """A snapshot from bytes; ``msgspec.DecodeError``/``ValueError`` when corrupt."""
    decoder = msgspec.msgpack.Decoder(Snapshot, dec_hook=interning_dec_hook(_dec_hook))
    return decoder.decode(data)

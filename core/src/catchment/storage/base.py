"""The storage protocol: where runs and their events are recorded, and the queries on them.

Backends (SQLite, PostgreSQL) keep one append-only ``events`` table and one ``runs`` table;
every write is one transaction, so a killed process never leaves a partial record.
"""

from __future__ import annotations

import functools
import os
import socket
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal, Protocol, runtime_checkable

import msgspec

from catchment.errors import CatchmentError
from catchment.events import Event, EventType
from catchment.keys import AssetKey
from catchment.storage.control import ControlStore
from catchment.storage.queue import QueueStore

SCHEMA_VERSION = 4
"""Bumped when the tables change; recorded in ``schema_version`` by every backend.
1: runs, events. 2: dynamic_partitions; asset failures indexed by asset and partition; ticks,
cursors, run_keys, leases; runs may be ``queued``. 3: run_queue (priority, wait reason),
pools, pool_claims, backfills; runs may be ``starting`` and ``canceling``. 4: runs indexed by
``(created_at DESC, run_id)``, the order of ``list_runs``."""

RunStatus = Literal[
    "queued", "starting", "started", "canceling", "success", "failure", "canceled", "abandoned"
]
"""``queued``: recorded, waiting for the queue; ``starting``: the queue let it start and a
process was launched to claim it; ``canceling``: asked to stop while it runs."""

ACTIVE_RUN_STATUSES = ("queued", "starting", "started", "canceling")
"""Statuses of runs that have not ended: automation treats their targets as in progress."""

Subject = tuple[AssetKey, str | None]
"""One asset partition (None: the unpartitioned asset): what automation decides about."""

STALE_HEARTBEAT_SECONDS = 300.0
"""A run on another host whose heartbeat is older than this is considered abandoned."""


class StorageError(CatchmentError):
    """The run store cannot be opened, reached or written."""


class RunRecord(msgspec.Struct, kw_only=True):
    """One run: what it was asked to build, who runs it, and how it ended."""

    run_id: str
    status: RunStatus = "started"
    created_at: float = msgspec.field(default_factory=time.time)
    finished_at: float | None = None
    heartbeat_at: float | None = None
    pid: int | None = None
    host: str | None = None
    parent_run_id: str | None = None
    selection: str | None = None
    asset_keys: tuple[str, ...] = ()
    check_ids: tuple[str, ...] = ()
    partition_keys: tuple[str, ...] = ()
    tags: dict[str, str] = msgspec.field(default_factory=dict)


@functools.lru_cache(maxsize=65536)
def stored_key(name: str | None) -> AssetKey:
    """The key of a stored event: validated when it was recorded, so parsed without checks
    (and cached: a tick reads thousands of records of the same keys)."""
    return AssetKey._trusted(tuple((name or "").split("/")))


class MaterializationRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The stored facts of one materialization, as reconciliation reads them."""

    asset_key: AssetKey
    partition: str | None
    run_id: str
    seq: int
    timestamp: float
    code_version: str | None = None
    data_version: str | None = None
    input_versions: Mapping[str, str | None] = msgspec.field(default_factory=dict)
    metadata: Mapping[str, Any] = msgspec.field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Event, key: AssetKey | None = None) -> MaterializationRecord:
        """The record of ``event`` (``key``: its asset key, when the caller has it)."""
        data = event.materialization
        return cls(
            asset_key=key or stored_key(event.asset_key),
            partition=event.partition,
            run_id=event.run_id,
            seq=event.seq or 0,
            timestamp=event.timestamp,
            code_version=data.code_version,
            data_version=data.data_version,
            input_versions=data.input_versions,
            metadata=data.metadata,
        )


class FailureRecord(msgspec.Struct, frozen=True, kw_only=True):
    """The newest ``asset_failed`` event of one asset partition."""

    asset_key: AssetKey
    partition: str | None
    run_id: str
    seq: int
    timestamp: float
    message: str | None = None

    @classmethod
    def from_event(cls, event: Event, key: AssetKey | None = None) -> FailureRecord:
        """The record of ``event`` (``key``: its asset key, when the caller has it)."""
        return cls(
            asset_key=key or stored_key(event.asset_key),
            partition=event.partition,
            run_id=event.run_id,
            seq=event.seq or 0,
            timestamp=event.timestamp,
            message=event.failure.message,
        )


class CheckRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One stored check evaluation."""

    asset_key: AssetKey
    check_name: str
    passed: bool
    severity: str | None
    run_id: str
    seq: int
    timestamp: float
    partition: str | None = None
    metadata: Mapping[str, Any] = msgspec.field(default_factory=dict)

    @classmethod
    def from_event(cls, event: Event) -> CheckRecord:
        data = event.check
        return cls(
            asset_key=stored_key(event.asset_key),
            check_name=data.check_name,
            passed=data.passed,
            severity=data.severity,
            run_id=event.run_id,
            seq=event.seq or 0,
            timestamp=event.timestamp,
            partition=event.partition,
            metadata=data.metadata,
        )


@runtime_checkable
class Storage(ControlStore, QueueStore, Protocol):
    """Record runs and events; answer the queries the CLI, reconciliation and retries need."""

    url: str

    def create_run(self, run: RunRecord) -> None:
        """Insert a new run (status ``started``, with its pid/host and a first heartbeat)."""
        ...

    def update_run_status(self, run_id: str, status: RunStatus) -> None:
        """Set a run's final status (and ``finished_at``)."""
        ...

    def heartbeat(self, run_id: str) -> None:
        """Record that the run's process is alive."""
        ...

    def append_events(self, events: Sequence[Event]) -> None:
        """Append ``events`` in ONE transaction and set each event's ``seq``."""
        ...

    def get_run(self, run_id: str) -> RunRecord | None:
        """The run with this exact id, or None."""
        ...

    def list_runs(self, limit: int = 50, status: str | None = None) -> list[RunRecord]:
        """Newest first."""
        ...

    def events_for_run(
        self, run_id: str, types: Iterable[EventType] | None = None, after: int = 0
    ) -> list[Event]:
        """The run's events in ``seq`` order, optionally only of ``types`` and with ``seq``
        above ``after`` (what a live log has not shown yet)."""
        ...

    def latest_materializations(
        self, keys: Iterable[AssetKey] | None = None
    ) -> dict[AssetKey, MaterializationRecord]:
        """The newest materialization of each asset (any partition)."""
        ...

    def latest_materializations_by_partition(
        self, key: AssetKey
    ) -> dict[str | None, MaterializationRecord]:
        """The newest materialization of ``key`` for each partition (None: unpartitioned)."""
        ...

    def partition_materializations(
        self, keys: Iterable[AssetKey] | None = None, partitions: Iterable[str] | None = None
    ) -> dict[AssetKey, dict[str | None, MaterializationRecord]]:
        """The newest materialization of each asset of ``keys`` (None: all) for each partition
        of ``partitions`` (None: all; the unpartitioned record always counts), in ONE query."""
        ...

    def check_history(
        self, key: AssetKey, check_name: str | None = None, limit: int = 20
    ) -> list[CheckRecord]:
        """Check evaluations of ``key``, newest first."""
        ...

    def materialization_history(
        self, key: AssetKey, limit: int = 30
    ) -> list[MaterializationRecord]:
        """The newest ``limit`` materializations of ``key`` (any partition), newest first."""
        ...

    # -- what automation reads: each ONE query, however many assets and partitions ----------
    def latest_event_seq(self) -> int:
        """The highest event ``seq`` (0 when there are none): one primary-key lookup."""
        ...

    def materializations_of(
        self, subjects: Iterable[Subject], up_to: int | None = None
    ) -> dict[Subject, MaterializationRecord]:
        """The newest materialization of each asset partition (``seq <= up_to``)."""
        ...

    def failures_of(
        self, subjects: Iterable[Subject], up_to: int | None = None
    ) -> dict[Subject, FailureRecord]:
        """The newest ``asset_failed`` event of each asset partition (``seq <= up_to``)."""
        ...

    def latest_checks(
        self, checks: Iterable[tuple[AssetKey, str]], up_to: int | None = None
    ) -> dict[tuple[AssetKey, str], CheckRecord]:
        """The newest evaluation of each ``(asset, check name)`` (``seq <= up_to``)."""
        ...

    def active_runs(self) -> list[RunRecord]:
        """Runs that have not ended (queued or started), oldest first."""
        ...

    def runs_by_id(self, run_ids: Iterable[str]) -> dict[str, RunRecord]:
        """The runs of these ids that exist, by id (what automation asks of the runs that
        made new materializations: which assets they targeted)."""
        ...

    # -- dynamic partitions ----------------------------------------------------------------
    def add_dynamic_partitions(
        self, set_name: str, keys: Iterable[str], now: float | None = None
    ) -> list[str]:
        """Add ``keys`` to the set in ONE transaction; returns those that were new."""
        ...

    def delete_dynamic_partitions(self, set_name: str, keys: Iterable[str]) -> int:
        """Remove ``keys`` from the set; how many were there."""
        ...

    def dynamic_partitions(self, set_names: Iterable[str] | None = None) -> dict[str, list[str]]:
        """set name -> its keys in the order they were added (all sets when None)."""
        ...

    def mark_abandoned_runs(self, stale_after: float = STALE_HEARTBEAT_SECONDS) -> list[str]:
        """Mark ``started`` runs whose process is gone (or heartbeat stale) ``abandoned``."""
        ...

    def schema_version(self) -> int:
        """The table layout version the store has (``SCHEMA_VERSION`` when current)."""
        ...

    def close(self) -> None:
        """Release the connection; the store is not used afterwards."""
        ...


# -- helpers shared by the backends -------------------------------------------------------

HOSTNAME = socket.gethostname()


def process_alive(pid: int) -> bool:
    """Whether ``pid`` is a live (not zombie) process on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read()
        return stat[stat.rfind(b")") + 2 : stat.rfind(b")") + 3] != b"Z"
    except OSError:
        return True


def is_abandoned(run: RunRecord, now: float, stale_after: float) -> bool:
    """A ``started`` run is abandoned when its process on this host is gone, or its heartbeat
    is older than ``stale_after`` seconds (another host) or four times that (this host: the
    pid may have been reused by another process)."""
    if run.status != "started":
        return False
    silent = now - (run.heartbeat_at or run.created_at)
    if run.host == HOSTNAME and run.pid is not None:
        return not process_alive(run.pid) or silent > 4 * stale_after
    return silent > stale_after


_run_info_encoder = msgspec.json.Encoder()


class RunInfoColumns(msgspec.Struct, kw_only=True):
    """The run fields stored as one JSON column."""

    asset_keys: tuple[str, ...] = ()
    check_ids: tuple[str, ...] = ()
    partition_keys: tuple[str, ...] = ()
    tags: dict[str, str] = msgspec.field(default_factory=dict)


_run_info_decoder = msgspec.json.Decoder(RunInfoColumns)


def encode_run_info(run: RunRecord) -> str:
    info = RunInfoColumns(
        asset_keys=run.asset_keys,
        check_ids=run.check_ids,
        partition_keys=run.partition_keys,
        tags=run.tags,
    )
    return _run_info_encoder.encode(info).decode()


RUN_COLUMNS = (
    "run_id, status, created_at, finished_at, heartbeat_at, pid, host, parent_run_id, "
    "selection, info"
)


def run_from_row(row: Sequence[Any]) -> RunRecord:
    info = _run_info_decoder.decode(row[9] or "{}")
    return RunRecord(
        run_id=row[0],
        status=row[1],
        created_at=row[2],
        finished_at=row[3],
        heartbeat_at=row[4],
        pid=row[5],
        host=row[6],
        parent_run_id=row[7],
        selection=row[8],
        asset_keys=info.asset_keys,
        check_ids=info.check_ids,
        partition_keys=info.partition_keys,
        tags=info.tags,
    )


def redact_url(url: str) -> str:
    """``url`` with any password replaced by ``***`` (``catchment.redact``, kept for callers
    of this name)."""
    from catchment.secrets import redact

    return redact(url)

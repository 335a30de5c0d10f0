"""Run events: the append-only record of what happened, stored and streamed.

Every event is one ``Event`` with a ``type`` and that type's payload struct (``data``);
storage keeps them as JSON. The payloads read records written by earlier versions.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Any, Generic, TypeVar, overload

import msgspec

from catchment.specs import Severity


class EventType(StrEnum):
    """What kind of thing an ``Event`` records; the value is what storage keeps."""

    RUN_STARTED = "run_started"
    RUN_FINISHED = "run_finished"
    STEP_STARTED = "step_started"
    STEP_FINISHED = "step_finished"
    STEP_FAILED = "step_failed"
    STEP_RETRY = "step_retry"
    MATERIALIZATION = "materialization"
    ASSET_FAILED = "asset_failed"
    ASSET_SKIPPED = "asset_skipped"
    CHECK_EVALUATED = "check_evaluated"
    LOG = "log"
    ASSET_OBSERVED = "asset_observed"


class EventData(msgspec.Struct, kw_only=True):
    """Base of the payloads: each event type's ``data`` has one struct, below.

    Every field has a default, so a record written before a field existed still reads.
    """

    def to_data(self) -> dict[str, Any]:
        """The JSON-ready dict an ``Event`` keeps as ``data``."""
        data: dict[str, Any] = msgspec.to_builtins(self)
        return data


class RunStartedData(EventData):
    """``run_started``: what the run was asked to build, and who runs it."""

    selection: str | None = None
    asset_keys: list[str] = msgspec.field(default_factory=list)
    steps: int = 0
    partition_keys: list[str] = msgspec.field(default_factory=list)
    parent_run_id: str | None = None
    pid: int | None = None
    host: str | None = None


class RunFinishedData(EventData, omit_defaults=True):
    """``run_finished``: how the run ended, and how many assets ended in each state (a state
    no asset reached is left out); ``reason`` says why a run was marked abandoned."""

    status: str = ""
    success: int = 0
    failed: int = 0
    skipped: int = 0
    check_failed: int = 0
    reason: str | None = None


class StepStartedData(EventData):
    """``step_started``: the assets and checks the step runs."""

    asset_keys: list[str] = msgspec.field(default_factory=list)
    check_ids: list[str] = msgspec.field(default_factory=list)


class StepFinishedData(EventData):
    """``step_finished``: its outcome, wall time and number of attempts."""

    status: str = ""
    duration: float = 0.0
    attempts: int = 1


class FailureData(EventData):
    """``asset_failed`` and ``step_failed``: the error, where it happened, the captured
    output and, when the error has one, a hint."""

    error_class: str | None = None
    message: str | None = None
    where: str | None = None
    output: str = ""
    hint: str | None = None

    def to_data(self) -> dict[str, Any]:
        """As stored: the four fields always, ``hint`` only when there is one."""
        return {
            "error_class": self.error_class,
            "message": self.message,
            "where": self.where,
            "output": self.output,
            **({"hint": self.hint} if self.hint else {}),
        }


class StepRetryData(EventData):
    """``step_retry``: which attempt comes next, after how long, and what failed."""

    attempt: int = 0
    of: int = 0
    wait: float = 0.0
    failed: list[str] = msgspec.field(default_factory=list)
    error_class: str | None = None
    message: str | None = None
    where: str | None = None


class MaterializationData(EventData):
    """``materialization``: metadata, the code and data versions, the versions of the inputs
    it read, and the table it wrote."""

    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    code_version: str | None = None
    data_version: str | None = None
    input_versions: dict[str, str | None] = msgspec.field(default_factory=dict)
    table: str | None = None


class SkippedData(EventData):
    """``asset_skipped``: why the asset was not built."""

    reason: str | None = None


class CheckData(EventData):
    """``check_evaluated``: the check, its verdict and severity; ``description`` when given."""

    check_name: str = ""
    passed: bool = False
    severity: Severity | None = None
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)
    description: str | None = None

    def to_data(self) -> dict[str, Any]:
        """As stored: ``description`` only when there is one."""
        data = {
            "check_name": self.check_name,
            "passed": self.passed,
            "severity": self.severity,
            "metadata": self.metadata,
        }
        return {**data, "description": self.description} if self.description else data


class LogData(EventData):
    """``log``: a line a compute logged."""

    level: str = "info"
    message: str = ""


class ObservedData(EventData, omit_defaults=True):
    """``asset_observed``: what the warehouse held for the asset (``exists`` None: unknown,
    with the cause in ``error``), and the relation looked at."""

    exists: bool | None = None
    row_count: int | None = None
    columns: dict[str, str] | None = None
    last_modified: float | None = None
    data_version: str | None = None
    error: str | None = None
    observed_at: float = 0.0
    table: str | None = None


PAYLOADS: dict[EventType, type[EventData]] = {
    EventType.RUN_STARTED: RunStartedData,
    EventType.RUN_FINISHED: RunFinishedData,
    EventType.STEP_STARTED: StepStartedData,
    EventType.STEP_FINISHED: StepFinishedData,
    EventType.STEP_FAILED: FailureData,
    EventType.STEP_RETRY: StepRetryData,
    EventType.MATERIALIZATION: MaterializationData,
    EventType.ASSET_FAILED: FailureData,
    EventType.ASSET_SKIPPED: SkippedData,
    EventType.CHECK_EVALUATED: CheckData,
    EventType.LOG: LogData,
    EventType.ASSET_OBSERVED: ObservedData,
}
"""The payload struct of each event type."""

_D = TypeVar("_D", bound=EventData)


class _Payload(Generic[_D]):
    """A typed accessor on ``Event``: the stored ``data`` read as the struct of its type (a
    ``TypeError`` on an event of another type)."""

    def __init__(self, kind: type[_D], *types: EventType):
        self.kind = kind
        self.types = types

    @overload
    def __get__(self, event: None, owner: type[Event]) -> _Payload[_D]: ...
    @overload
    def __get__(self, event: Event, owner: type[Event] | None = None) -> _D: ...
    def __get__(self, event: Event | None, owner: type[Event] | None = None) -> _D | _Payload[_D]:
        if event is None:
            return self
        if event.type not in self.types:
            raise TypeError(f"a {event.type} event has no {self.kind.__name__}")
        return msgspec.convert(event.data, self.kind)


class Event(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One thing that happened in a run.

    ``asset_key`` is the canonical string form; ``data`` is the type's payload as stored (a
    JSON object). Build events with :meth:`of` from a payload struct, and read them through
    the typed accessors (``event.materialization``, ``event.failure``, ``event.check``...),
    never by string key.
    """

    run_id: str
    type: EventType
    timestamp: float = msgspec.field(default_factory=time.time)
    step_key: str | None = None
    asset_key: str | None = None
    partition: str | None = None
    data: dict[str, Any] = msgspec.field(default_factory=dict)
    seq: int | None = None

    @classmethod
    def of(
        cls,
        run_id: str,
        type: EventType,
        payload: EventData,
        *,
        step_key: str | None = None,
        asset_key: str | None = None,
        partition: str | None = None,
        timestamp: float | None = None,
    ) -> Event:
        """An event of ``type`` carrying ``payload`` (which must be that type's struct)."""
        if not isinstance(payload, PAYLOADS[type]):
            raise TypeError(f"a {type} event carries {PAYLOADS[type].__name__}, not {payload!r}")
        event = cls(
            run_id=run_id,
            type=type,
            step_key=step_key,
            asset_key=asset_key,
            partition=partition,
            data=payload.to_data(),
        )
        if timestamp is not None:
            event.timestamp = timestamp
        return event

    run_started = _Payload(RunStartedData, EventType.RUN_STARTED)
    """The payload of a ``run_started`` event."""
    run_finished = _Payload(RunFinishedData, EventType.RUN_FINISHED)
    """The payload of a ``run_finished`` event."""
    step_started = _Payload(StepStartedData, EventType.STEP_STARTED)
    """The payload of a ``step_started`` event."""
    step_finished = _Payload(StepFinishedData, EventType.STEP_FINISHED)
    """The payload of a ``step_finished`` event."""
    failure = _Payload(FailureData, EventType.ASSET_FAILED, EventType.STEP_FAILED)
    """The payload of an ``asset_failed`` or ``step_failed`` event."""
    retry = _Payload(StepRetryData, EventType.STEP_RETRY)
    """The payload of a ``step_retry`` event."""
    materialization = _Payload(MaterializationData, EventType.MATERIALIZATION)
    """The payload of a ``materialization`` event."""
    skipped = _Payload(SkippedData, EventType.ASSET_SKIPPED)
    """The payload of an ``asset_skipped`` event."""
    check = _Payload(CheckData, EventType.CHECK_EVALUATED)
    """The payload of a ``check_evaluated`` event."""
    log_line = _Payload(LogData, EventType.LOG)
    """The payload of a ``log`` event."""
    observed = _Payload(ObservedData, EventType.ASSET_OBSERVED)
    """The payload of an ``asset_observed`` event."""


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Event)


def encode_event(event: Event) -> bytes:
    """The JSON bytes storage keeps for ``event``."""
    return _encoder.encode(event)


def decode_event(raw: bytes | str) -> Event:
    """The ``Event`` back from its stored JSON."""
    return _decoder.decode(raw)

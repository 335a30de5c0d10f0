"""Run events: the append-only record of what happened, stored and streamed.

Every event is one ``Event`` with a ``type`` and a typed payload; storage keeps them as JSON.
"""

from __future__ import annotations

import time
from enum import StrEnum
from typing import Any

import msgspec


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


class Event(msgspec.Struct, kw_only=True, omit_defaults=True):
    """One thing that happened in a run.

    ``asset_key`` is the canonical string form; ``data`` carries the type's payload:
    materialization: metadata, code_version, data_version, input_versions, table;
    check_evaluated: check_name, passed, severity, metadata;
    asset_failed / step_failed: error_class, message, where, output;
    log: level, message.
    """

    run_id: str
    type: EventType
    timestamp: float = msgspec.field(default_factory=time.time)
    step_key: str | None = None
    asset_key: str | None = None
    partition: str | None = None
    data: dict[str, Any] = msgspec.field(default_factory=dict)
    seq: int | None = None


_encoder = msgspec.json.Encoder()
_decoder = msgspec.json.Decoder(Event)


def encode_event(event: Event) -> bytes:
    """The JSON bytes storage keeps for ``event``."""
    return _encoder.encode(event)


def decode_event(raw: bytes | str) -> Event:
    """The ``Event`` back from its stored JSON."""
    return _decoder.decode(raw)

"""Events: one payload struct per type, built with ``Event.of`` and read with typed accessors;
what storage keeps is the same JSON object 0.1 kept."""

from __future__ import annotations

import msgspec
import pytest
from catchment.events import (
    PAYLOADS,
    CheckData,
    Event,
    EventType,
    FailureData,
    LogData,
    MaterializationData,
    RunFinishedData,
    decode_event,
    encode_event,
)


def test_every_event_type_has_a_payload() -> None:
    assert set(PAYLOADS) == set(EventType)


def test_an_event_round_trips_through_storage_json() -> None:
    event = Event.of(
        "r1",
        EventType.MATERIALIZATION,
        MaterializationData(metadata={"rows": 3}, data_version="abc", table=None),
        step_key="s",
        asset_key="raw/orders",
        partition="2024-01-01",
    )
    back = decode_event(encode_event(event))
    assert back == event
    assert back.materialization.metadata == {"rows": 3}
    assert back.materialization.data_version == "abc"
    assert back.partition == "2024-01-01"


def test_the_stored_objects_have_the_keys_0_1_wrote() -> None:
    """Optional keys stay out when unset, as before: a hint, a description, a zero count."""
    failure = FailureData(error_class="E", message="m", where=None, output="")
    assert failure.to_data() == {"error_class": "E", "message": "m", "where": None, "output": ""}
    assert FailureData(error_class="E", message="m", hint="do x").to_data()["hint"] == "do x"
    check = CheckData(check_name="c", passed=True, severity="error")
    assert check.to_data() == {
        "check_name": "c",
        "passed": True,
        "severity": "error",
        "metadata": {},
    }
    assert "description" in CheckData(check_name="c", description="why").to_data()
    assert RunFinishedData(status="success", success=2).to_data() == {
        "status": "success",
        "success": 2,
    }
    assert LogData(level="info", message="hi").to_data() == {"level": "info", "message": "hi"}


def test_a_payload_of_the_wrong_type_is_refused() -> None:
    with pytest.raises(TypeError, match="a materialization event carries MaterializationData"):
        Event.of("r1", EventType.MATERIALIZATION, LogData(message="hi"))


def test_an_accessor_of_another_type_is_refused() -> None:
    log = Event.of("r1", EventType.LOG, LogData(message="hi"))
    assert log.log_line.message == "hi"
    with pytest.raises(TypeError, match="a log event has no FailureData"):
        _ = log.failure


def test_both_failure_types_share_one_payload() -> None:
    failure = FailureData(error_class="E", message="m")
    for type in (EventType.ASSET_FAILED, EventType.STEP_FAILED):
        assert Event.of("r1", type, failure).failure == failure


def test_a_record_missing_newer_fields_reads_with_their_defaults() -> None:
    """A stored object from before a field existed (here: no hint, no attempts)."""
    raw = (
        b'{"run_id":"r","type":"asset_failed","timestamp":1.0,'
        b'"data":{"error_class":"E","message":"m","where":null,"output":""}}'
    )
    assert decode_event(raw).failure.hint is None
    finished = decode_event(b'{"run_id":"r","type":"step_finished","data":{"status":"success"}}')
    assert finished.step_finished.attempts == 1


def test_a_malformed_payload_is_a_validation_error_naming_the_field() -> None:
    bad = Event(run_id="r", type=EventType.CHECK_EVALUATED, data={"passed": "perhaps"})
    with pytest.raises(msgspec.ValidationError, match="passed"):
        _ = bad.check

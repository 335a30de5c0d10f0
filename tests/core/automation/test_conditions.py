"""Conditions: combinators, printing as the expression that builds them, JSON round trips."""

from __future__ import annotations

import msgspec
import pytest
from catchment.automation.conditions import (
    And,
    AnyCondition,
    AutomationCondition,
    Not,
    Or,
    Prebuilt,
    all_of,
    any_of,
    check_failed,
    code_changed,
    cron_tick_passed,
    eager,
    in_progress,
    missing,
    newly_updated,
    not_,
    on_cron,
    on_missing,
    stale,
    upstream_in_progress,
    upstream_updated,
    upstream_will_be_requested,
)
from catchment.errors import ConfigError


def test_combinators_flatten_and_print_with_the_fewest_parentheses() -> None:
    c = missing() & stale() & ~in_progress()
    assert isinstance(c, And)
    assert len(c.children) == 3
    assert str(c) == "missing() & stale() & ~in_progress()"
    assert str((missing() | stale()) & ~(failed_or := upstream_updated() | code_changed())) == (
        "(missing() | stale()) & ~(upstream_updated() | code_changed())"
    )
    assert isinstance(failed_or, Or)
    assert str((missing() | stale()).since(newly_updated())) == (
        "(missing() | stale()).since(newly_updated())"
    )
    assert str(missing().newly_true()) == "missing().newly_true()"
    assert str(check_failed("not_null") | check_failed()) == (
        "check_failed('not_null') | check_failed()"
    )


def test_template_friendly_spellings_build_the_same_trees() -> None:
    assert all_of(missing(), stale()) == missing() & stale()
    assert any_of(missing(), stale(), code_changed()) == missing() | stale() | code_changed()
    assert not_(missing()) == Not(child=missing())
    with pytest.raises(TypeError, match="combines automation conditions"):
        missing() & "stale()"  # type: ignore[operator]


def test_prebuilt_conditions_print_by_name_and_explain_as_their_tree() -> None:
    e = eager()
    assert str(e) == "eager()"
    assert isinstance(e, Prebuilt)
    assert e.stateful
    assert str(e.condition) == (
        "(missing().newly_true() | upstream_newly_updated() | upstream_will_be_requested())"
        ".since(newly_requested() | newly_updated()) & ~in_progress() & ~upstream_missing() "
        "& ~upstream_in_progress()"
    )
    assert str(on_cron("0 3 * * *")) == "on_cron('0 3 * * *')"
    assert str(on_cron("0 3 * * *", "Europe/Berlin")) == (
        "on_cron('0 3 * * *', timezone='Europe/Berlin')"
    )
    assert str(on_missing()) == "on_missing()"
    assert [path for path, _ in missing().walk()] == ["0"]
    assert [path for path, _ in (missing() | stale()).walk()] == ["0", "0.0", "0.1"]


@pytest.mark.parametrize(
    "condition",
    [
        eager(),
        on_cron("15 4 * * 1-5", "Europe/Berlin"),
        on_missing() & ~check_failed("rows"),
        (missing() | stale()).since(newly_updated()).newly_true(),
        cron_tick_passed("@daily") | code_changed(),
        upstream_will_be_requested() & ~upstream_in_progress(),
    ],
    ids=str,
)
def test_conditions_survive_a_json_round_trip_and_stay_hashable(
    condition: AutomationCondition,
) -> None:
    raw = msgspec.json.encode(condition)
    back = msgspec.json.decode(raw, type=AnyCondition)
    assert back == condition
    assert str(back) == str(condition)
    assert hash(back) == hash(condition)
    assert msgspec.msgpack.decode(msgspec.msgpack.encode(condition), type=AnyCondition) == condition


def test_a_bad_cron_string_fails_where_the_condition_is_written() -> None:
    with pytest.raises(ConfigError) as err:
        on_cron("0 25 * * *")
    assert "invalid cron schedule '0 25 * * *'" in err.value.message
    assert err.value.where is not None
    assert err.value.where.startswith(__file__)

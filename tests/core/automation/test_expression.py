"""Reading conditions from text: safe (nothing is evaluated), round-trips, clear errors."""

from __future__ import annotations

import pytest
from catchment.automation.conditions import check_failed, eager, missing, on_cron, stale
from catchment.automation.expression import TemplateHelpers, as_condition, parse_condition
from catchment.errors import ConfigError


@pytest.mark.parametrize(
    "text",
    [
        "eager()",
        "on_cron('0 3 * * *', timezone='Europe/Berlin')",
        "eager() & ~check_failed('not_null')",
        "(missing() | stale()).since(newly_requested() | newly_updated())",
        "missing().newly_true() | upstream_updated() & ~in_progress()",
        "cron_tick_passed('@hourly') & ~failed() & ~upstream_missing()",
        "(upstream_newly_updated() | upstream_will_be_requested()).since(newly_requested())",
    ],
)
def test_printed_conditions_read_back_to_the_same_tree(text: str) -> None:
    condition = parse_condition(text)
    assert parse_condition(str(condition)) == condition
    assert str(parse_condition(str(condition))) == str(condition)


def test_template_spellings_and_python_words_read_as_the_operators() -> None:
    assert parse_condition("automation_condition.on_cron('0 3 * * *')") == on_cron("0 3 * * *")
    assert parse_condition("not missing()") == ~missing()
    assert parse_condition("all_of(missing(), stale())") == missing() & stale()
    assert parse_condition("  eager()\n  & ~check_failed()  ") == eager() & ~check_failed()
    assert as_condition(None) is None
    assert as_condition(eager()) == eager()
    assert as_condition("missing() | stale()") == missing() | stale()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("eagre()", "unknown operand eagre()"),
        ("on_cron('0 3 * *')", "invalid cron schedule '0 3 * *': Wrong number of fields"),
        ("on_cron('0 3 * * *', timezone='Mars/Base')", "unknown timezone 'Mars/Base'"),
        ("missing", "missing is not called"),
        ("missing() and stale()", "use & instead of 'and'"),
        ("__import__('os').system('true')", "only the operands can be called"),
        ("os.system('true')", "unknown name 'os'"),
        ("missing().since()", ".since() takes one condition"),
        ("missing(", "does not parse"),
        ("check_failed('a', 'b')", "check_failed():"),
        ("1 + 2", "binop is not allowed here"),
    ],
)
def test_bad_expressions_name_the_place_and_the_problem(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_condition(text, where="catchment.yaml:12")
    assert err.value.where == "catchment.yaml:12"
    assert message in err.value.message
    assert err.value.hint


def test_a_non_string_non_condition_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a int"):
        as_condition(3, where="x.py:1")


def test_template_helpers_expose_every_operand_and_nothing_else() -> None:
    helpers = TemplateHelpers()
    assert str(helpers.on_cron("0 3 * * *")) == "on_cron('0 3 * * *')"
    assert helpers.check_failed("x") == check_failed("x")
    assert "eager" in dir(helpers)
    with pytest.raises(AttributeError, match="no nope"):
        helpers.nope  # noqa: B018

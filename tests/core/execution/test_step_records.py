"""What one step records: versions read from upstreams built in the same step, and a value
the IO manager could not store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from catchment import asset
from catchment.definitions import multi_asset
from catchment.execution.api import materialize
from catchment.execution.reconcile import reconcile
from catchment.results import MaterializeResult
from catchment.specs import spec
from catchment.storage.sqlite import SqliteStorage


def test_an_upstream_built_in_the_same_step_is_not_newer_afterwards() -> None:
    @multi_asset(specs=[spec("a"), spec("b", deps=["a"])], name="both")
    def both(context: Any) -> Iterator[MaterializeResult]:
        for key in ("a", "b"):  # like dbt: b is built after a, inside one invocation
            yield MaterializeResult(key=spec(key).key)

    storage = SqliteStorage(":memory:")
    materialize([both], storage=storage)
    statuses = {str(s.key): (s.state, s.reasons) for s in reconcile_all(both, storage)}
    assert statuses == {"a": ("fresh", ()), "b": ("fresh", ())}


def reconcile_all(defn: Any, storage: SqliteStorage) -> list[Any]:
    from catchment.graph import AssetGraph

    return reconcile(AssetGraph.build([defn]), storage)


def test_a_value_the_io_manager_cannot_store_fails_the_asset() -> None:
    class Refusing:
        def handle_output(self, context: Any, obj: Any) -> None:
            raise ValueError("disk full")

        def load_input(self, context: Any) -> Any:
            raise AssertionError("never loaded")

    @asset
    def value() -> int:
        return 1

    result = materialize([value], io_managers={"default": Refusing()}, raise_on_failure=False)
    assert not result.success
    assert result.status_of("value") == "failed"
    assert "disk full" in str([e.data for e in result.failures])


def test_an_asset_failure_keeps_its_hint_in_the_record() -> None:
    from catchment.results import AssetFailure

    @multi_asset(specs=[spec("t")], name="ddl")
    def ddl(context: Any) -> Iterator[AssetFailure]:
        yield AssetFailure(key=spec("t").key, message="needs a replace", hint="set on_change")

    result = materialize([ddl], raise_on_failure=False)
    (failed,) = result.failures
    assert failed.data["message"] == "needs a replace"
    assert failed.data["hint"] == "set on_change"


def test_a_blocking_check_that_never_reports_fails_and_stops_the_downstream() -> None:
    from catchment.specs import CheckSpec

    check = CheckSpec(name="rows_match", asset=spec("orders").key)

    @multi_asset(specs=[spec("orders")], check_specs=[check], name="loader")
    def loader(context: Any) -> Iterator[MaterializeResult]:
        yield MaterializeResult(key=spec("orders").key)  # ...and forgets its check

    @asset(deps=["orders"])
    def report() -> int:
        return 1

    result = materialize([loader, report], raise_on_failure=False)
    (verdict,) = result.check_results
    assert (verdict.check_name, verdict.passed) == ("rows_match", False)
    assert "did not report it" in verdict.metadata["reason"]
    assert result.status_of("orders") != "failed"
    assert result.status_of("report") != "success"
    assert not result.success


def test_a_retry_after_a_crash_rebuilds_only_what_was_not_built() -> None:
    from catchment.specs import RetryPolicy

    calls: list[list[str]] = []

    @multi_asset(specs=[spec("a"), spec("b")], name="pair", retry=RetryPolicy(max_retries=1))
    def pair(context: Any) -> Iterator[MaterializeResult]:
        selected = sorted(str(k) for k in context.selected_keys)
        calls.append(selected)
        for key in selected:
            yield MaterializeResult(key=spec(key).key)
            if len(calls) == 1:
                raise ConnectionError("warehouse went away")  # after building "a"

    result = materialize([pair])
    assert result.success
    assert calls == [["a", "b"], ["b"]]


def test_a_retry_rebuilds_what_the_tool_skipped_because_of_a_failure() -> None:
    from catchment.results import AssetFailure, AssetSkipped
    from catchment.specs import RetryPolicy

    calls: list[list[str]] = []

    @multi_asset(
        specs=[spec("a"), spec("b", deps=["a"])], name="tool", retry=RetryPolicy(max_retries=1)
    )
    def tool(context: Any) -> Iterator[Any]:
        calls.append(sorted(str(k) for k in context.selected_keys))
        if len(calls) == 1:  # like dbt: a fails, so the tool skips b
            yield AssetFailure(key=spec("a").key, message="flaky")
            yield AssetSkipped(key=spec("b").key, reason="upstream a failed")
            return
        for key in calls[-1]:
            yield MaterializeResult(key=spec(key).key)

    result = materialize([tool])
    assert result.success
    assert calls == [["a", "b"], ["a", "b"]]
    assert result.status_of("b") == "success"


def test_a_keyless_result_of_a_multi_asset_fails_naming_the_definition() -> None:
    @multi_asset(specs=[spec("a"), spec("b")], name="pair")
    def pair(context: Any) -> Iterator[MaterializeResult]:
        yield MaterializeResult(metadata={"rows": 1})

    result = materialize([pair], raise_on_failure=False)
    assert not result.success
    messages = [e.data["message"] for e in result.failures]
    assert (
        "the compute of pair yielded a MaterializeResult without a key, but the definition "
        "has 2 assets"
    ) in messages[0]
    assert "pass key=" in (result.failures[0].data["hint"] or "")


def test_a_keyless_result_of_a_one_asset_multi_asset_is_that_asset() -> None:
    @multi_asset(specs=[spec("only")], name="one")
    def one(context: Any) -> Iterator[MaterializeResult]:
        yield MaterializeResult(metadata={"rows": 5})

    result = materialize([one])
    assert result.status_of("only") == "success"
    (event,) = result.materializations
    assert event.data["metadata"]["rows"] == 5


def test_an_asset_writing_its_own_data_that_returns_a_value_fails_clearly() -> None:
    @asset
    def report() -> None:
        return 7  # type: ignore[func-returns-value]

    result = materialize([report], raise_on_failure=False)
    assert result.status_of("report") == "failed"
    (failure, *_) = result.failures
    assert "asset report returned a int value" in failure.data["message"]
    assert "-> None" in failure.data["message"]


def test_loading_an_asset_writing_its_own_data_at_run_time_says_use_deps() -> None:
    @asset
    def report() -> MaterializeResult:
        return MaterializeResult()

    @multi_asset(specs=[spec("summary", deps=["report"])], name="summary")
    def summary(context: Any) -> Iterator[MaterializeResult]:
        context.load_input(report.keys[0])
        yield MaterializeResult()

    result = materialize([report, summary], raise_on_failure=False)
    assert result.status_of("report") == "success"
    assert result.status_of("summary") == "failed"
    (failure, *_) = result.failures
    assert "asset report returns MaterializeResult" in failure.data["message"]
    assert "deps=['report']" in (failure.data["hint"] or "")


# ------------------------------------------------ check results that leave out their asset


def test_a_one_asset_definition_s_check_results_need_no_asset_key() -> None:
    from catchment import asset_check
    from catchment.results import CheckResult
    from catchment.specs import CheckSpec

    @asset
    def orders() -> MaterializeResult:
        return MaterializeResult(check_results=[CheckResult(passed=True, check_name="rows")])

    rows_match = CheckSpec(name="rows_match", asset=spec("loaded").key)

    @multi_asset(specs=[spec("loaded")], check_specs=[rows_match], name="loader")
    def loader(context: Any) -> Iterator[MaterializeResult | CheckResult]:
        yield MaterializeResult()
        yield CheckResult(passed=False, check_name="rows_match", metadata={"rows": 0})

    @asset_check(asset=orders)
    def own_verdict() -> CheckResult:
        return CheckResult(passed=True, check_name="own_verdict")

    result = materialize([orders, loader, own_verdict], raise_on_failure=False)
    verdicts = {(str(c.asset_key), c.check_name): c for c in result.check_results}
    assert set(verdicts) == {
        ("orders", "rows"),
        ("loaded", "rows_match"),
        ("orders", "own_verdict"),
    }
    assert verdicts["orders", "rows"].passed
    # the declared check counts as reported (its own verdict, not "did not report it")
    assert verdicts["loaded", "rows_match"].metadata == {"rows": 0}
    assert result.status_of("orders") == result.status_of("loaded") == "success"


def test_a_check_result_inside_a_materialize_result_is_that_asset_s() -> None:
    from catchment.results import CheckResult

    @multi_asset(specs=[spec("a"), spec("b")], name="pair")
    def pair(context: Any) -> Iterator[MaterializeResult]:
        yield MaterializeResult(key="a", check_results=[CheckResult(passed=True, check_name="x")])
        yield MaterializeResult(key="b")

    result = materialize([pair])
    ((key, name),) = [(str(c.asset_key), c.check_name) for c in result.check_results]
    assert (key, name) == ("a", "x")


def test_a_key_less_check_result_of_several_assets_fails_naming_the_definition() -> None:
    from catchment.results import CheckResult

    @multi_asset(specs=[spec("a"), spec("b")], name="pair")
    def pair(context: Any) -> Iterator[MaterializeResult | CheckResult]:
        yield MaterializeResult(key="a")
        yield CheckResult(passed=True, check_name="x")
        yield MaterializeResult(key="b")

    result = materialize([pair], raise_on_failure=False)
    assert result.status_of("b") == "failed"
    step = next(e for e in result.failures if e.type.value == "step_failed")
    assert (
        "the compute of pair yielded CheckResult 'x' without an asset_key" in (step.data["message"])
    )
    assert "2 assets (a, b)" in step.data["message"]
    assert "CheckResult(asset_key='a', check_name='x'" in (step.data["hint"] or "")


def test_a_check_result_on_an_asset_the_definition_does_not_have_fails_clearly() -> None:
    from catchment.results import CheckResult

    @asset
    def other() -> int:
        return 1

    @asset
    def orders() -> MaterializeResult:
        return MaterializeResult(
            check_results=[CheckResult(asset_key="other", passed=True, check_name="x")]
        )

    result = materialize([other, orders], raise_on_failure=False)
    assert result.status_of("orders") == "failed"
    assert not result.check_results
    step = next(e for e in result.failures if e.type.value == "step_failed")
    assert (
        "reported check 'x' on asset other, which this definition does not declare"
        in (step.data["message"])
    )
    assert "@asset_check(asset=...)" in (step.data["hint"] or "")


def test_an_asset_declares_the_checks_its_materialize_result_reports() -> None:
    from catchment.results import CheckResult
    from catchment.specs import CheckSpec

    declared = [
        CheckSpec(name="rows", asset=spec("orders").key, severity="warn"),
        CheckSpec(name="fresh", asset=spec("orders").key),
    ]

    @asset(check_specs=declared)
    def orders() -> MaterializeResult:
        return MaterializeResult(check_results=[CheckResult(check_name="rows", passed=False)])

    result = materialize([orders], raise_on_failure=False)
    verdicts = {c.check_name: c for c in result.check_results}
    assert (verdicts["rows"].passed, verdicts["rows"].severity) == (False, "warn")  # declared
    # a declared check the asset forgot counts as failed, so it cannot let a downstream through
    assert not verdicts["fresh"].passed
    assert "did not report it" in verdicts["fresh"].metadata["reason"]


# ------------------------------------------------ check results that leave out their name


def test_a_check_result_without_a_name_is_the_definition_s_one_check() -> None:
    """As in Dagster: an @asset_check's CheckResult is that check's, and so is one of an
    @asset declaring exactly one check, returned alone or in its MaterializeResult."""
    from catchment import asset_check
    from catchment.results import CheckResult
    from catchment.specs import CheckSpec

    @asset(check_specs=[CheckSpec(name="rows", asset=spec("orders").key, severity="warn")])
    def orders() -> MaterializeResult:
        return MaterializeResult(check_results=[CheckResult(passed=False)])

    @asset(check_specs=[CheckSpec(name="fresh", asset=spec("customers").key)])
    def customers() -> Iterator[MaterializeResult | CheckResult]:
        yield MaterializeResult()
        yield CheckResult(passed=True, metadata={"age": 1})

    @asset_check(asset=orders)
    def not_empty() -> CheckResult:
        return CheckResult(passed=True, description="3 rows")

    result = materialize([orders, customers, not_empty], raise_on_failure=False)
    verdicts = {(str(c.asset_key), c.check_name): c for c in result.check_results}
    assert set(verdicts) == {("orders", "rows"), ("customers", "fresh"), ("orders", "not_empty")}
    assert (verdicts["orders", "rows"].passed, verdicts["orders", "rows"].severity) == (
        False,
        "warn",  # the declared check's severity: it is that check's verdict
    )
    assert verdicts["customers", "fresh"].metadata == {"age": 1}  # its own, not "did not report"
    assert verdicts["orders", "not_empty"].description == "3 rows"
    assert result.status_of("orders") == result.status_of("customers") == "success"


def test_a_nameless_check_result_of_a_definition_with_two_checks_fails_naming_them() -> None:
    from catchment.results import CheckResult
    from catchment.specs import CheckSpec

    declared = [
        CheckSpec(name="rows", asset=spec("orders").key),
        CheckSpec(name="fresh", asset=spec("orders").key),
    ]

    @asset(check_specs=declared)
    def orders() -> MaterializeResult:
        return MaterializeResult(check_results=[CheckResult(passed=True)])

    result = materialize([orders], raise_on_failure=False)
    assert result.status_of("orders") == "failed"
    step = next(e for e in result.failures if e.type.value == "step_failed")
    assert step.data["message"] == (
        "the compute of orders yielded a CheckResult on orders without a check_name, but the "
        "definition declares 2 checks on it (rows, fresh), so it cannot tell which one it is"
    )
    assert "CheckResult(check_name='rows', ...)" in (step.data["hint"] or "")


def test_a_nameless_check_result_of_an_asset_declaring_no_check_says_how_to_declare_one() -> None:
    from catchment.results import CheckResult

    @asset
    def orders() -> MaterializeResult:
        return MaterializeResult(check_results=[CheckResult(passed=True)])

    result = materialize([orders], raise_on_failure=False)
    assert result.status_of("orders") == "failed"
    step = next(e for e in result.failures if e.type.value == "step_failed")
    assert "declares 0 checks on it (none)" in step.data["message"]
    assert "check_specs=[CheckSpec(name='row_count', asset='orders')]" in (step.data["hint"] or "")


def test_a_check_result_without_asset_or_name_of_several_assets_names_neither() -> None:
    from catchment.results import CheckResult

    @multi_asset(specs=[spec("a"), spec("b")], name="pair")
    def pair(context: Any) -> Iterator[MaterializeResult | CheckResult]:
        yield MaterializeResult(key="a")
        yield CheckResult(passed=True)

    result = materialize([pair], raise_on_failure=False)
    step = next(e for e in result.failures if e.type.value == "step_failed")
    assert "yielded CheckResult without an asset_key" in step.data["message"]
    assert "CheckResult(asset_key='a', ...)" in (step.data["hint"] or "")

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

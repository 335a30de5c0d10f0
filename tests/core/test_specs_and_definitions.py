"""AssetSpec and the ways to define assets: @asset, ins, @multi_asset, @asset_check."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from catchment.definitions import AssetsDefinition, asset, asset_check, multi_asset
from catchment.errors import DefinitionError
from catchment.keys import AssetKey
from catchment.partitions import StaticPartitions, TimeWindowMapping
from catchment.results import CheckResult, MaterializeResult, Output
from catchment.specs import AssetDep, AssetSpec, CheckSpec, RetryPolicy, spec
from catchment.tables import duckdb_table


class FakeContext:
    """The smallest StepContext the computes here use: inputs from a dict."""

    def __init__(self, inputs: dict[AssetKey, Any] | None = None, **resources: Any):
        self.inputs = inputs or {}
        self.resources = resources
        self.selected_keys: frozenset[AssetKey] = frozenset()

    def load_input(self, key: AssetKey) -> Any:
        return self.inputs[key]


def run(definition: AssetsDefinition, context: FakeContext) -> list[Any]:
    return list(definition.compute(context))  # type: ignore[arg-type]


def test_spec_builds_from_loose_inputs() -> None:
    mapping = TimeWindowMapping(-1, -1)
    s = spec(
        "marts/orders",
        deps=["raw/orders", AssetDep(AssetKey("raw/days"), mapping)],
        owners=["team@x"],
        tags={"pii": "true"},
        kinds=["dbt"],
        partitions=StaticPartitions(["eu", "us"]),
        table=duckdb_table(":memory:", "orders"),
    )
    assert s.key == AssetKey("marts/orders")
    assert s.dep_keys == (AssetKey("raw/orders"), AssetKey("raw/days"))
    assert s.deps[1].partition_mapping == mapping
    assert s.owners == ("team@x",)
    assert s.kinds == ("dbt",)
    assert s == spec(
        "marts/orders",
        deps=["raw/orders", AssetDep(AssetKey("raw/days"), TimeWindowMapping(-1, -1))],
        owners=["team@x"],
        tags={"pii": "true"},
        kinds=["dbt"],
        partitions=StaticPartitions(["eu", "us"]),
        table=duckdb_table(":memory:", "orders"),
    )


def test_spec_is_immutable_and_replace_copies() -> None:
    s = spec("a", group="g")
    with pytest.raises(AttributeError):
        s.group = "h"  # type: ignore[misc]
    t = s.replace(group="h")
    assert (s.group, t.group, t.key) == ("g", "h", s.key)


def test_check_spec_id_and_retry_policy() -> None:
    c = CheckSpec(name="not_null", asset=AssetKey("a/b"), severity="warn")
    assert c.id == "a/b:not_null"
    assert RetryPolicy(max_retries=3, delay=1.0, backoff=2.0).wait_for(2) == 4.0


def test_asset_parameters_name_upstream_assets() -> None:
    @asset(key_prefix="marts", group="sales", tags={"tier": "1"})
    def orders(customers: list[int], context: Any) -> list[int]:
        """Orders joined to customers."""
        return [*customers, 3]

    assert isinstance(orders, AssetsDefinition)
    (s,) = orders.specs
    assert s.key == AssetKey("marts/orders")
    assert s.dep_keys == (AssetKey("marts/customers"),)  # prefix applies to inputs too
    assert s.description == "Orders joined to customers."
    assert s.kinds == ("python",)
    assert s.group == "sales"
    assert orders.name == "marts/orders"
    assert orders.source
    assert orders.source.endswith(f"{Path(__file__).name}:{_line(orders)}")
    out = run(orders, FakeContext({AssetKey("marts/customers"): [1, 2]}))
    assert out == [Output(key=AssetKey("marts/orders"), value=[1, 2, 3])]


def _line(d: AssetsDefinition) -> str:
    assert d.source is not None
    return d.source.rsplit(":", 1)[1]


def test_ins_maps_parameters_to_other_keys_and_deps_add_unloaded_upstreams() -> None:
    @asset(ins={"src": "raw/orders"}, deps=["raw/audit"], resources=["db"])
    def cleaned(src: list[int], db: str) -> MaterializeResult:
        return MaterializeResult(key=AssetKey("cleaned"), metadata={"n": len(src), "db": db})

    (s,) = cleaned.specs
    assert s.dep_keys == (AssetKey("raw/orders"), AssetKey("raw/audit"))
    assert cleaned.required_resources == frozenset({"db"})
    out = run(cleaned, FakeContext({AssetKey("raw/orders"): [1, 2]}, db="duck"))
    assert out == [MaterializeResult(key=AssetKey("cleaned"), metadata={"n": 2, "db": "duck"})]


def test_asset_rejects_unknown_ins_and_varargs() -> None:
    with pytest.raises(DefinitionError, match="unknown parameters") as info:

        @asset(ins={"nope": "x"})
        def a(b: int) -> int:
            return b

    assert info.value.where
    assert "test_specs_and_definitions.py" in info.value.where
    with pytest.raises(DefinitionError, match=r"\*args"):

        @asset
        def c(*rows: int) -> int:
            return 0


def test_multi_asset_serves_many_specs_and_any_subset() -> None:
    specs = [spec("raw/a"), spec("raw/b", deps=["raw/a"])]

    @multi_asset(
        specs=specs, name="loader", check_specs=[CheckSpec(name="c", asset=AssetKey("raw/b"))]
    )
    def load(context: Any) -> Iterator[Any]:
        for key in sorted(context.selected_keys):
            yield MaterializeResult(key=key)

    assert load.name == "loader"
    assert load.can_subset
    assert load.keys == (AssetKey("raw/a"), AssetKey("raw/b"))
    assert [c.id for c in load.all_check_specs] == ["raw/b:c"]
    ctx = FakeContext()
    ctx.selected_keys = frozenset({AssetKey("raw/b")})
    assert run(load, ctx) == [MaterializeResult(key=AssetKey("raw/b"))]
    assert load.label.startswith("loader (")
    assert "test_specs_and_definitions.py" in load.label


def test_asset_check_receives_the_asset_value() -> None:
    @asset_check(asset="marts/orders", severity="warn")
    def has_rows(orders: list[int]) -> bool:
        """At least one order."""
        return len(orders) > 0

    (c,) = has_rows.check_specs
    assert (c.name, c.asset, c.severity, c.description) == (
        "has_rows",
        AssetKey("marts/orders"),
        "warn",
        "At least one order.",
    )
    assert has_rows.specs == ()
    assert has_rows.name == "marts/orders:has_rows"
    [passed] = run(has_rows, FakeContext({AssetKey("marts/orders"): [1]}))
    [failed] = run(has_rows, FakeContext({AssetKey("marts/orders"): []}))
    assert isinstance(passed, CheckResult)
    assert passed.passed
    assert passed.severity == "warn"
    assert isinstance(failed, CheckResult)
    assert not failed.passed


def test_asset_check_takes_at_most_one_value_parameter() -> None:
    with pytest.raises(DefinitionError, match="at most one value parameter"):

        @asset_check(asset="a")
        def two(a: int, b: int) -> bool:
            return True


def test_an_asset_definition_names_its_key_in_checks_and_deps() -> None:
    @asset(key="marts/orders")
    def orders() -> list[int]:
        return [1]

    @asset_check(asset=orders)
    def has_rows(orders: list[int]) -> bool:
        return bool(orders)

    @asset(deps=[orders])
    def report() -> int:
        return 1

    assert [c.asset for c in has_rows.check_specs] == [AssetKey("marts/orders")]
    assert [d.key for d in report.specs[0].deps] == [AssetKey("marts/orders")]


def test_a_multi_asset_cannot_stand_for_one_key() -> None:
    @multi_asset(specs=[AssetSpec(key=AssetKey("a")), AssetSpec(key=AssetKey("b"))])
    def both() -> None:
        return None

    with pytest.raises(DefinitionError, match="materializes 2 assets"):

        @asset_check(asset=both)
        def on_both() -> bool:
            return True


def _load_module(path: Path, name: str) -> Any:
    module_spec = importlib.util.spec_from_file_location(name, path)
    assert module_spec
    assert module_spec.loader
    module = importlib.util.module_from_spec(module_spec)
    sys.modules[name] = module
    module_spec.loader.exec_module(module)
    return module


def test_code_version_changes_when_source_changes(tmp_path: Path) -> None:
    template = "from catchment import asset\n\n@asset\ndef thing():\n    return {value}\n"
    path = tmp_path / "assets_v.py"
    path.write_text(template.format(value=1))
    v1 = _load_module(path, "assets_v1").thing.specs[0].code_version
    path.write_text(template.format(value=1))
    v1_again = _load_module(path, "assets_v1b").thing.specs[0].code_version
    path.write_text(template.format(value=2))
    v2 = _load_module(path, "assets_v2").thing.specs[0].code_version
    assert v1
    assert v2
    assert v1 == v1_again
    assert v1 != v2


def test_explicit_code_version_wins() -> None:
    @asset(code_version="7")
    def pinned() -> int:
        return 1

    assert pinned.specs[0].code_version == "7"


def test_asset_spec_equality_covers_table_and_reads(tmp_path: Path) -> None:
    t = duckdb_table(tmp_path / "w.duckdb", "orders", schema="raw")
    a = AssetSpec(key=AssetKey("x"), reads=(t,))
    assert a == AssetSpec(
        key=AssetKey("x"), reads=(duckdb_table(tmp_path / "w.duckdb", "ORDERS", schema="RAW"),)
    )
    assert a != AssetSpec(key=AssetKey("x"), table=t)


def test_multi_asset_rejects_specs_built_with_string_keys() -> None:
    """AssetSpec(key="orders") used to pass and crash the graph build with a traceback."""
    with pytest.raises(DefinitionError, match=r"spec key 'orders' is a str, not an AssetKey") as e:

        @multi_asset(specs=[AssetSpec(key="orders")])  # type: ignore[arg-type]
        def load(context: Any) -> Iterator[Any]:
            yield MaterializeResult(key=AssetKey.parse("orders"))

    assert e.value.hint is not None
    assert "catchment.spec(" in e.value.hint
    assert e.value.where is not None
    assert "test_specs_and_definitions.py:" in e.value.where
    with pytest.raises(DefinitionError, match="not AssetDep objects"):
        multi_asset(specs=[AssetSpec(key=AssetKey.parse("a"), deps=("b",))])(  # type: ignore[arg-type]
            lambda context: iter(())
        )
    with pytest.raises(DefinitionError, match="specs must be AssetSpec objects, got a str"):
        multi_asset(specs=["orders"])(lambda context: iter(()))  # type: ignore[list-item]


def test_automation_settings_on_specs_survive_a_msgspec_round_trip() -> None:
    """What a definitions snapshot does with a spec: its condition, partition scope and
    freshness policy come back equal (they are msgspec structs, no hooks needed)."""
    import msgspec
    from catchment.automation.conditions import check_failed, eager
    from catchment.automation.policy import FreshnessPolicy
    from catchment.partitions import PartitionScope

    @asset(
        automation=eager() & ~check_failed("rows"),
        partition_scope="last 3",
        freshness={"cron": "0 9 * * *", "max_lag": "6h", "timezone": "Europe/Berlin"},
    )
    def sales() -> int:
        return 1

    (original,) = sales.specs
    assert original.partition_scope == PartitionScope(last=3)
    assert original.freshness == FreshnessPolicy(
        max_lag=21600, cron="0 9 * * *", timezone="Europe/Berlin"
    )

    def enc(obj: object) -> object:
        if isinstance(obj, AssetKey):
            return list(obj.path)
        raise NotImplementedError(type(obj))

    def dec(tp: type, obj: object) -> object:
        if tp is AssetKey:
            return AssetKey(obj)  # type: ignore[arg-type]
        raise NotImplementedError(tp)

    raw = msgspec.msgpack.encode(original, enc_hook=enc)
    back = msgspec.msgpack.decode(raw, type=AssetSpec, dec_hook=dec)
    assert back == original
    assert str(back.automation) == "eager() & ~check_failed('rows')"
    multi = multi_asset(
        specs=[spec("x"), spec("y", automation="on_missing()")], automation="eager()"
    )
    assert [str(s.automation) for s in multi(lambda context: iter(())).specs] == [
        "eager()",
        "on_missing()",
    ]


# ---------------------------------------------------------------- assets writing their own data


def _from_source(tmp_path: Path, source: str, name: str) -> AssetsDefinition:
    """The definition ``name`` of a module written from ``source`` (annotations as written)."""
    path = tmp_path / f"own_{name}_{abs(hash(source))}.py"
    path.write_text(source)
    loaded = importlib.util.spec_from_file_location(path.stem, path)
    assert loaded is not None
    assert loaded.loader is not None
    module = importlib.util.module_from_spec(loaded)
    loaded.loader.exec_module(module)
    found: AssetsDefinition = getattr(module, name)
    return found


@pytest.mark.parametrize(
    "annotation",
    ["MaterializeResult", "None", "catchment.MaterializeResult", "'MaterializeResult'"],
)
def test_a_string_return_annotation_says_the_asset_writes_its_own_data(
    tmp_path: Path, annotation: str
) -> None:
    source = (
        "from __future__ import annotations\n"
        "import catchment\n"
        "from catchment import asset\n"
        # MaterializeResult is not even imported: the annotation is read, never evaluated
        f"@asset\ndef report() -> {annotation}:\n    return None\n"
    )
    (s,) = _from_source(tmp_path, source, "report").specs
    assert s.writes_own_data
    other = source.replace(f"-> {annotation}", "-> int | Undefined")
    (s,) = _from_source(tmp_path, other, "report").specs
    assert not s.writes_own_data


def test_a_return_annotation_of_none_or_materialize_result_writes_its_own_data() -> None:
    @asset
    def nothing() -> None:
        pass

    @asset
    def result() -> MaterializeResult:
        return MaterializeResult(metadata={"rows": 1})

    @asset
    def plain():  # type: ignore[no-untyped-def]
        return 1

    @asset
    def number() -> int:
        return 1

    assert nothing.specs[0].writes_own_data
    assert result.specs[0].writes_own_data
    assert not plain.specs[0].writes_own_data
    assert not number.specs[0].writes_own_data
    assert run(nothing, FakeContext()) == [MaterializeResult(key=AssetKey("nothing"))]
    (done,) = run(result, FakeContext())
    assert done == MaterializeResult(key=AssetKey("result"), metadata={"rows": 1})
    assert run(plain, FakeContext()) == [Output(key=AssetKey("plain"), value=1)]


def test_a_value_returned_despite_the_annotation_fails_naming_asset_and_annotation() -> None:
    @asset(key="sales/report")
    def report() -> MaterializeResult:
        return 42  # type: ignore[return-value]

    with pytest.raises(DefinitionError) as err:
        run(report, FakeContext())
    assert "asset sales/report returned a int value" in err.value.message
    assert "-> MaterializeResult" in err.value.message
    assert err.value.where is not None
    assert err.value.where.endswith(".py:" + str(_line(report)))
    assert "MaterializeResult(metadata=" in (err.value.hint or "")


def _line(definition: AssetsDefinition) -> int:
    return int((definition.source or "").rsplit(":", 1)[1])


def test_a_returned_result_without_key_is_the_assets() -> None:
    from catchment.results import AssetFailure, AssetSkipped

    @asset
    def failing() -> MaterializeResult:
        return AssetFailure(message="no")  # type: ignore[return-value]

    @asset
    def skipping():  # type: ignore[no-untyped-def]
        return AssetSkipped(reason="later")

    @asset
    def valued():  # type: ignore[no-untyped-def]
        return Output(value=3)

    assert run(failing, FakeContext()) == [AssetFailure(key=AssetKey("failing"), message="no")]
    assert run(skipping, FakeContext()) == [AssetSkipped(key=AssetKey("skipping"), reason="later")]
    assert run(valued, FakeContext()) == [Output(key=AssetKey("valued"), value=3)]


def test_a_result_key_given_as_a_string_is_parsed() -> None:
    assert MaterializeResult(key="raw/orders").key == AssetKey("raw/orders")
    assert Output(key=["raw", "orders"], value=1).key == AssetKey("raw/orders")
    assert MaterializeResult().key is None
    assert CheckResult(asset_key="raw/orders", check_name="c", passed=True).asset_key == AssetKey(
        "raw/orders"
    )


def test_check_results_may_leave_out_their_asset_and_ride_in_a_materialize_result() -> None:
    verdict = CheckResult(check_name="rows", passed=True)
    assert verdict.asset_key is None
    result = MaterializeResult(check_results=[verdict])
    assert result.check_results == (verdict,)  # a list is kept as a tuple (results are frozen)
    assert MaterializeResult().check_results == ()


def test_a_check_result_may_leave_out_its_name() -> None:
    verdict = CheckResult(passed=False, metadata={"rows": 0})
    assert (verdict.asset_key, verdict.check_name, verdict.passed) == (None, None, False)


def test_an_asset_writing_its_own_data_keeps_a_declared_table_and_gets_no_io_table() -> None:
    from catchment.graph import AssetGraph

    declared = duckdb_table("wh.duckdb", "report")

    @asset(table=declared)
    def kept() -> None:
        pass

    @asset
    def own() -> None:
        pass

    @asset
    def stored() -> int:
        return 1

    graph = AssetGraph.build(
        [kept, own, stored], io_tables=lambda s: duckdb_table("io.duckdb", s.key.path[-1])
    )
    assert graph.specs[AssetKey("kept")].table == declared
    assert graph.specs[AssetKey("own")].table is None
    assert graph.specs[AssetKey("stored")].table == duckdb_table("io.duckdb", "stored")


def _graph_problems(*defs: AssetsDefinition) -> list[str]:
    """The problems building a graph of ``defs`` raises (it must raise)."""
    from catchment.errors import GraphError
    from catchment.graph import AssetGraph

    with pytest.raises(GraphError) as err:
        AssetGraph.build(list(defs))
    return list(err.value.problems)


def test_loading_an_asset_that_writes_its_own_data_as_a_parameter_is_a_graph_problem() -> None:
    from catchment.graph import AssetGraph

    @asset
    def report() -> MaterializeResult:
        return MaterializeResult()

    @asset
    def summary(report: Any) -> Any:
        return report

    @asset(deps=[report])
    def fine() -> int:
        return 1

    (problem,) = _graph_problems(report, summary, fine)
    assert problem.startswith("summary (")
    assert "takes asset report as a parameter" in problem
    assert "returns MaterializeResult" in problem
    assert "deps=['report']" in problem
    AssetGraph.build([report, fine])


def test_an_asset_check_loading_an_asset_that_writes_its_own_data_is_a_graph_problem() -> None:
    from catchment.graph import AssetGraph

    @asset
    def report() -> MaterializeResult:
        return MaterializeResult()

    @asset_check(asset=report)
    def has_rows(written: Any) -> bool:
        return bool(written)

    @asset_check(asset=report)
    def exists(context: Any) -> bool:
        return True

    (problem,) = _graph_problems(report, has_rows, exists)
    said = [
        "check report:has_rows (",  # the check and where it is defined
        "takes asset report as its parameter 'written', but report returns MaterializeResult",
        "remove the parameter and read the data where report writes it",  # what to do
    ]
    assert [s for s in said if s not in problem] == []
    AssetGraph.build([report, exists])  # a check taking no value is fine

"""Planner: steps per compute, subsets, checks after their asset, order, partitions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from catchment import AssetKey, asset, asset_check, multi_asset, spec
from catchment.context import StepContext
from catchment.errors import ConfigError
from catchment.execution.plan import build_plan, parse_partition
from catchment.graph import AssetGraph
from catchment.partitions import StaticPartitions
from catchment.results import MaterializeResult, StepResult


@asset
def raw() -> int:
    return 1


@asset
def clean(raw: int) -> int:
    return raw + 1


@asset
def report(clean: int) -> int:
    return clean * 2


@asset_check(asset="clean")
def clean_ok(clean: int) -> bool:
    return clean > 0


def _multi(can_subset: bool) -> object:
    @multi_asset(
        specs=[spec("m/x", deps=["raw"]), spec("m/y", deps=["m/x"]), spec("m/z")],
        name="tool",
        can_subset=can_subset,
    )
    def tool(context: StepContext) -> Iterator[StepResult]:
        for k in sorted(context.selected_keys):
            yield MaterializeResult(key=k)

    return tool


def test_one_step_per_definition_in_dependency_order() -> None:
    graph = AssetGraph.build([report, clean, raw, clean_ok])
    plan = build_plan(graph)
    assert [s.name for s in plan.steps] == ["raw", "clean", "clean:clean_ok", "report"]
    assert plan.step("clean").upstream_steps == ("raw",)
    # the downstream waits for the blocking check of its upstream
    assert set(plan.step("report").upstream_steps) == {"clean", "clean:clean_ok"}
    check_step = plan.step("clean:clean_ok")
    assert check_step.is_check_only
    assert check_step.check_ids == ("clean:clean_ok",)


def test_selection_subsets_and_drops_unselected_checks() -> None:
    graph = AssetGraph.build([report, clean, raw, clean_ok])
    plan = build_plan(graph, "report")
    assert [s.name for s in plan.steps] == ["report"]
    assert plan.step("report").upstream_steps == ()
    plan = build_plan(graph, [AssetKey("clean")])
    assert [s.name for s in plan.steps] == ["clean", "clean:clean_ok"]


def test_multi_asset_subset_or_whole() -> None:
    graph = AssetGraph.build([raw, _multi(can_subset=True)])
    plan = build_plan(graph, "m/y")
    assert plan.step("tool").asset_keys == (AssetKey("m/y"),)
    graph = AssetGraph.build([raw, _multi(can_subset=False)])
    plan = build_plan(graph, "m/y")
    assert set(plan.step("tool").asset_keys) == {AssetKey("m/x"), AssetKey("m/y"), AssetKey("m/z")}
    assert plan.step("tool").upstream_steps == ()  # raw is not selected


def test_partitions_single_range_and_errors() -> None:
    parts = StaticPartitions(["a", "b", "c", "d"])

    @asset(partitions=parts)
    def daily() -> int:
        return 1

    graph = AssetGraph.build([daily, raw])
    assert build_plan(graph, "daily", partition="b").partition_keys == ("b",)
    assert build_plan(graph, "daily", partition="b...d").partition_keys == ("b", "c", "d")
    with pytest.raises(ConfigError, match="unknown partition key 'x'"):
        build_plan(graph, "daily", partition="x")
    with pytest.raises(ConfigError, match="say which partitions"):
        build_plan(graph, "daily")
    with pytest.raises(ConfigError, match="no selected asset is partitioned"):
        build_plan(graph, "raw", partition="a")
    with pytest.raises(ConfigError, match="runs backwards"):
        build_plan(graph, "daily", partition="c...a")


def test_parse_partition() -> None:
    assert parse_partition("2024-01-01") == ("2024-01-01", None)
    assert parse_partition("a...b") == ("", ("a", "b"))
    assert parse_partition(None) is None
    with pytest.raises(ConfigError, match="needs both ends"):
        parse_partition("a...")


def test_unknown_key_in_selection_is_an_error() -> None:
    graph = AssetGraph.build([raw])
    with pytest.raises(ConfigError, match="no asset nope"):
        build_plan(graph, [AssetKey("nope")])

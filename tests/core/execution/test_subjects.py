"""Subjects: the partitions in scope of each asset, and which upstream partitions each reads."""

from __future__ import annotations

from datetime import UTC, datetime

from catchment import AssetKey, asset, table
from catchment.execution.subjects import Subjects, subject_label
from catchment.graph import AssetGraph
from catchment.partitions import StaticPartitions, TimeWindowMapping, TimeWindowPartitions
from catchment.specs import AssetDep

NOW = datetime(2026, 3, 5, 12, tzinfo=UTC)
DAILY = TimeWindowPartitions("2026-03-01")


def test_domains_follow_each_asset_s_scope() -> None:
    graph = AssetGraph.build(
        [
            asset(lambda: 1, key="plain"),
            asset(lambda: 1, key="day", partitions=DAILY),
            asset(lambda: 1, key="week", partitions=DAILY, partition_scope="last 3"),
            asset(lambda: 1, key="region", partitions=StaticPartitions(["eu", "us"])),
        ]
    )
    subjects = Subjects(graph, NOW)
    assert subjects.domain(AssetKey("plain")) == (None,)
    assert subjects.domain(AssetKey("day")) == ("2026-03-04",)
    assert subjects.domain(AssetKey("week")) == ("2026-03-02", "2026-03-03", "2026-03-04")
    assert subjects.domain(AssetKey("region")) == ("eu", "us")
    assert subject_label((AssetKey("day"), "2026-03-04")) == "day[2026-03-04]"


def test_upstream_partitions_follow_mappings_and_scopes() -> None:
    graph = AssetGraph.build(
        [
            asset(lambda: 1, key="raw", partitions=DAILY, partition_scope="last 2"),
            asset(
                lambda: 1,
                key="lagged",
                partitions=DAILY,
                deps=[AssetDep(AssetKey("raw"), TimeWindowMapping(-1, -1))],
            ),
            asset(lambda: 1, key="same_day", partitions=DAILY, deps=["raw"]),
            asset(
                lambda: 1,
                key="summary",
                deps=["raw"],
                reads=[table("postgres", "events", schema="app")],
            ),
        ]
    )
    subjects = Subjects(graph, NOW)
    day = "2026-03-04"
    assert subjects.upstream((AssetKey("lagged"), day)) == ((AssetKey("raw"), "2026-03-03"),)
    assert subjects.upstream((AssetKey("same_day"), day)) == ((AssetKey("raw"), day),)
    # an unpartitioned asset reads the upstream's partitions in scope; external sources are
    # not upstream subjects (nothing materializes them)
    assert subjects.upstream((AssetKey("summary"), None)) == (
        (AssetKey("raw"), "2026-03-03"),
        (AssetKey("raw"), day),
    )
    closure = subjects.closure([(AssetKey("lagged"), day)])
    assert closure == {(AssetKey("lagged"), day), (AssetKey("raw"), "2026-03-03")}
    assert subjects.closure([(AssetKey("lagged"), day)], depth=0) == {(AssetKey("lagged"), day)}


def test_a_mapping_that_cannot_map_is_a_problem_not_a_crash() -> None:
    regions = StaticPartitions(["eu", "us"])
    graph = AssetGraph.build(
        [
            asset(lambda: 1, key="raw", partitions=regions),
            asset(
                lambda: 1,
                key="daily",
                partitions=DAILY,
                deps=[AssetDep(AssetKey("raw"), TimeWindowMapping())],
            ),
        ]
    )
    subjects = Subjects(graph, NOW)
    assert subjects.upstream((AssetKey("daily"), "2026-03-04")) == ()
    assert (
        "TimeWindowMapping needs a time-window partitioned upstream"
        in (subjects.problems[AssetKey("daily")])
    )

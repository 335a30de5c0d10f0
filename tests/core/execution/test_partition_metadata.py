"""Per-partition records of a range run carry each partition's own metadata (issue 25)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from catchment import AssetKey, MaterializeResult, asset, materialize
from catchment.context import StepContext
from catchment.io_managers import FilesystemIOManager
from catchment.partitions import StaticPartitions

PARTS = StaticPartitions(["a", "b", "c"])


def _rows(result) -> dict[str, dict]:  # type: ignore[no-untyped-def]
    return {e.partition: e.data["metadata"] for e in result.materializations}


def test_dict_of_frames_counts_rows_per_partition(tmp_path: Path) -> None:
    @asset(partitions=PARTS)
    def frames(context: StepContext) -> dict[str, pd.DataFrame]:
        return {p: pd.DataFrame({"v": range(i + 1)}) for i, p in enumerate(context.partition_keys)}

    io = {"default": FilesystemIOManager(tmp_path / "fs")}
    result = materialize([frames], partition="a...c", io_managers=io)
    assert {p: m.get("rows") for p, m in _rows(result).items()} == {"a": 1, "b": 2, "c": 3}


def test_compute_reported_partition_metadata_is_merged_per_partition() -> None:
    @asset(partitions=PARTS)
    def loaded(context: StepContext) -> MaterializeResult:
        return MaterializeResult(
            key=AssetKey("loaded"),
            metadata={"rows": 30, "source": "api"},
            partition_metadata={"a": {"rows": 10}, "b": {"rows": 20}},
        )

    meta = _rows(materialize([loaded], partition="a...c"))
    assert (meta["a"]["rows"], meta["b"]["rows"]) == (10, 20)
    assert meta["a"]["source"] == "api"
    # a partition without its own count does not claim the whole run's rows
    assert "rows" not in meta["c"]
    assert meta["c"]["run_rows"] == 30


def test_a_single_partition_keeps_its_rows() -> None:
    @asset(partitions=PARTS)
    def one(context: StepContext) -> MaterializeResult:
        return MaterializeResult(key=AssetKey("one"), metadata={"rows": 7})

    assert _rows(materialize([one], partition="b"))["b"]["rows"] == 7

"""Built-in IO managers round-trip values: memory, filesystem (tmp dir), DuckDB (real file)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from catchment.errors import ConfigError, ExecutionError
from catchment.io import InputContext, IOManager, OutputContext, TableIOManager
from catchment.io_managers import DuckDBIOManager, FilesystemIOManager, MemoryIOManager
from catchment.keys import AssetKey
from catchment.specs import AssetSpec, spec
from catchment.tables import duckdb_table


def out(
    key: str, *, partition: str | None = None, partitions: tuple[str, ...] = (), **meta: Any
) -> OutputContext:
    s = spec(key, metadata=meta)
    return OutputContext(
        key=s.key,
        spec=s,
        run_id="r1",
        partition_key=partition,
        partition_keys=partitions or ((partition,) if partition else ()),
    )


def inp(key: str, *, partitions: tuple[str, ...] = (), **meta: Any) -> InputContext:
    s: AssetSpec = spec(key, metadata=meta)
    return InputContext(
        key=s.key, spec=s, downstream_key=AssetKey("down"), partition_keys=partitions
    )


# ------------------------------------------------------------------ memory + filesystem
@pytest.fixture(params=["memory", "filesystem"])
def value_manager(request: pytest.FixtureRequest, tmp_path: Path) -> IOManager:
    return (
        MemoryIOManager() if request.param == "memory" else FilesystemIOManager(tmp_path / "store")
    )


def test_values_round_trip(value_manager: IOManager) -> None:
    assert isinstance(value_manager, IOManager)
    value = {"rows": [1, 2, 3], "name": "orders"}
    value_manager.handle_output(out("raw/orders"), value)
    assert value_manager.load_input(inp("raw/orders")) == value
    value_manager.handle_output(out("raw/orders"), [4])
    assert value_manager.load_input(inp("raw/orders")) == [4]  # overwritten


def test_partitions_round_trip(value_manager: IOManager) -> None:
    value_manager.handle_output(out("days", partition="2026-01-01"), "a")
    value_manager.handle_output(out("days", partition="2026-01-02-13:00"), "b")
    value_manager.handle_output(out("days", partitions=("x/1", "x/2")), {"x/1": "c", "x/2": "d"})
    assert value_manager.load_input(inp("days", partitions=("2026-01-01",))) == "a"
    assert value_manager.load_input(inp("days", partitions=("2026-01-02-13:00", "x/2"))) == {
        "2026-01-02-13:00": "b",
        "x/2": "d",
    }
    everything = value_manager.load_input(inp("days"))
    assert everything == {"2026-01-01": "a", "2026-01-02-13:00": "b", "x/1": "c", "x/2": "d"}


def test_missing_values_and_partitions_are_clear_errors(value_manager: IOManager) -> None:
    with pytest.raises(ExecutionError, match="no stored value for asset nope") as info:
        value_manager.load_input(inp("nope"))
    assert info.value.where == "asset down"
    assert info.value.hint
    assert "catchment materialize --select nope" in info.value.hint
    value_manager.handle_output(out("p", partition="a"), 1)
    with pytest.raises(ExecutionError, match=r"partitions \['b'\] of asset p"):
        value_manager.load_input(inp("p", partitions=("a", "b")))


def test_range_output_must_be_a_dict_per_partition(value_manager: IOManager) -> None:
    with pytest.raises(ExecutionError, match="ran for 2 partitions") as info:
        value_manager.handle_output(out("p", partitions=("a", "b")), [1, 2])
    assert info.value.hint
    assert "dict" in info.value.hint


def test_filesystem_layout_and_atomic_files(tmp_path: Path) -> None:
    fs = FilesystemIOManager(tmp_path)
    meta = fs.handle_output(out("raw/orders"), [1])
    assert meta == {"path": str(tmp_path / "raw" / "orders.pkl")}
    fs.handle_output(out("raw/orders", partition="2026-01-01-13:00"), [2])
    part_dir = tmp_path / "raw" / "orders.partitions"
    assert [p.name for p in part_dir.iterdir()] == ["2026-01-01-13%3A00.pkl"]
    assert not list(tmp_path.rglob(".tmp-*"))
    # a second process sees what the first stored
    code = textwrap.dedent(
        f"""
        from catchment.io_managers import FilesystemIOManager
        from catchment.io import InputContext
        from catchment.specs import spec
        s = spec("raw/orders")
        print(FilesystemIOManager({str(tmp_path)!r}).load_input(InputContext(key=s.key, spec=s)))
        """
    )
    assert (
        subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        == "[1]\n"
    )


def test_filesystem_unpicklable_value_is_a_clear_error(tmp_path: Path) -> None:
    fs = FilesystemIOManager(tmp_path)
    with pytest.raises(ExecutionError, match="cannot pickle the value of asset gen"):
        fs.handle_output(out("gen"), (i for i in range(3)))
    assert not list(tmp_path.rglob("*.pkl"))


# ------------------------------------------------------------------ duckdb
FRAMES = {
    "pandas": lambda: pd.DataFrame({"id": [1, 2, 3], "amount": [9.5, 3.0, 1.25]}),
    "pyarrow": lambda: pa.table({"id": [1, 2, 3], "amount": [9.5, 3.0, 1.25]}),
    "polars": lambda: pl.DataFrame({"id": [1, 2, 3], "amount": [9.5, 3.0, 1.25]}),
}


def read(path: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("written", list(FRAMES))
@pytest.mark.parametrize("loaded", list(FRAMES))
def test_duckdb_round_trips_every_frame_type(tmp_path: Path, written: str, loaded: str) -> None:
    db = tmp_path / "warehouse.duckdb"
    io = DuckDBIOManager(db)
    assert isinstance(io, TableIOManager)
    meta = io.handle_output(out("marts/daily/orders"), FRAMES[written]())
    assert meta == {"rows": 3, "table": "marts.daily__orders"}
    # a real table in a real file: readable by any DuckDB client
    assert read(db, "SELECT sum(amount) FROM marts.daily__orders") == [(13.75,)]
    value = io.load_input(inp("marts/daily/orders", dataframe=loaded))
    expected_type = {"pandas": pd.DataFrame, "pyarrow": pa.Table, "polars": pl.DataFrame}[loaded]
    assert isinstance(value, expected_type)
    as_pandas = value if loaded == "pandas" else value.to_pandas()
    assert as_pandas.sort_values("id").to_dict("list") == {
        "id": [1, 2, 3],
        "amount": [9.5, 3.0, 1.25],
    }


def test_duckdb_names_and_table_identity(tmp_path: Path) -> None:
    io = DuckDBIOManager(tmp_path / "w.duckdb", default_schema="analytics")
    assert io.schema_and_table(AssetKey("orders")) == ("analytics", "orders")
    assert io.schema_and_table(AssetKey("raw/shop-eu/orders.v2")) == ("raw", "shop_eu__orders_v2")
    assert io.table_for(AssetKey("raw/orders")) == duckdb_table(
        tmp_path / "w.duckdb", "orders", schema="raw"
    )
    io.handle_output(out("orders"), FRAMES["pandas"]())
    assert read(tmp_path / "w.duckdb", "SELECT count(*) FROM analytics.orders") == [(3,)]


def test_duckdb_overwrites_unpartitioned_tables(tmp_path: Path) -> None:
    io = DuckDBIOManager(tmp_path / "w.duckdb")
    io.handle_output(out("t"), pd.DataFrame({"a": [1, 2, 3]}))
    io.handle_output(out("t"), pd.DataFrame({"a": [7], "b": ["new column"]}))
    assert read(tmp_path / "w.duckdb", "SELECT * FROM main.t") == [(7, "new column")]


def test_duckdb_partitioned_writes_replace_only_their_partition(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    io = DuckDBIOManager(db)
    io.handle_output(out("events", partition="2026-01-01"), pd.DataFrame({"v": [1, 2]}))
    io.handle_output(out("events", partition="2026-01-02"), pl.DataFrame({"v": [3]}))
    io.handle_output(out("events", partition="2026-01-01"), pa.table({"v": [10]}))  # re-run day 1
    assert read(db, "SELECT partition_key, v FROM main.events ORDER BY v") == [
        ("2026-01-02", 3),
        ("2026-01-01", 10),
    ]
    day2 = io.load_input(inp("events", partitions=("2026-01-02",)))
    assert day2["v"].tolist() == [3]
    both = io.load_input(inp("events", partitions=("2026-01-01", "2026-01-02"), dataframe="polars"))
    assert sorted(both["v"].to_list()) == [3, 10]
    assert len(io.load_input(inp("events"))) == 2


def test_duckdb_range_writes_use_the_partition_column(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    io = DuckDBIOManager(db)
    frame = pd.DataFrame({"day": ["a", "b", "b"], "v": [1, 2, 3]})
    meta = io.handle_output(out("e", partitions=("a", "b"), partition_column="day"), frame)
    # the run's rows, and each partition's own (issue 25: per-partition row counts)
    assert meta == {
        "rows": 3,
        "table": "main.e",
        "partition_metadata": {"a": {"rows": 1}, "b": {"rows": 2}},
    }
    io.handle_output(
        out("e", partitions=("b", "c"), partition_column="day"),
        pd.DataFrame({"day": ["c"], "v": [4]}),
    )
    assert read(db, "SELECT day, v FROM main.e ORDER BY v") == [("a", 1), ("c", 4)]
    with pytest.raises(ExecutionError, match="no 'partition_key' column") as info:
        io.handle_output(out("f", partitions=("a", "b")), pd.DataFrame({"v": [1]}))
    assert info.value.hint
    assert "one partition at a time" in info.value.hint
    with pytest.raises(ExecutionError, match=r"partitions outside its run: \['z'\]"):
        io.handle_output(
            out("e", partitions=("a", "b"), partition_column="day"),
            pd.DataFrame({"day": ["z"], "v": [0]}),
        )
    assert read(db, "SELECT count(*) FROM main.e") == [(2,)]  # the failed write changed nothing


def test_duckdb_rejects_non_frames_suggesting_the_filesystem_manager(tmp_path: Path) -> None:
    io = DuckDBIOManager(tmp_path / "w.duckdb")
    with pytest.raises(ExecutionError, match="stores only pandas, pyarrow and polars") as info:
        io.handle_output(out("raw/orders"), [{"id": 1}])
    assert "builtins.list" in info.value.message
    assert info.value.where == "asset raw/orders"
    assert info.value.hint
    assert "FilesystemIOManager" in info.value.hint


def test_duckdb_missing_table_and_bad_dataframe_choice(tmp_path: Path) -> None:
    io = DuckDBIOManager(tmp_path / "w.duckdb")
    with pytest.raises(
        ExecutionError, match=r"table raw\.orders for asset raw/orders does not exist"
    ) as info:
        io.load_input(inp("raw/orders"))
    assert info.value.hint
    assert "catchment materialize --select raw/orders" in info.value.hint
    io.handle_output(out("x"), pd.DataFrame({"a": [1]}))
    with pytest.raises(ExecutionError, match="does not exist"):
        io.load_input(inp("raw/orders"))
    with pytest.raises(ConfigError, match="asks for dataframe 'spark'"):
        io.load_input(inp("x", dataframe="spark"))


@pytest.mark.slow
def test_duckdb_file_is_usable_by_processes_in_turn(tmp_path: Path) -> None:
    """Each call opens and closes its own connection, so other processes can use the file."""
    db = tmp_path / "w.duckdb"
    io = DuckDBIOManager(db)
    io.handle_output(out("a"), pd.DataFrame({"v": [1]}))
    code = textwrap.dedent(
        f"""
        import pandas as pd
        from catchment.io import OutputContext
        from catchment.io_managers import DuckDBIOManager
        from catchment.specs import spec
        s = spec("b")
        print(DuckDBIOManager({str(db)!r}).handle_output(
            OutputContext(key=s.key, spec=s, run_id="r2"), pd.DataFrame({{"v": [2, 3]}})))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "'rows': 2" in result.stdout
    assert io.load_input(inp("b"))["v"].tolist() == [2, 3]
    assert io.load_input(inp("a"))["v"].tolist() == [1]

"""Observation on a real DuckDB warehouse through the CLI: `plan` sees tables gone, drifted
and changed outside catchment; `apply` rebuilds exactly those and their downstream;
`catchment observe` records `asset_observed` events; a broken warehouse is "unknown"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
import pytest
from catchment.cli.main import app
from catchment.events import EventType
from catchment.execution.observe import OBSERVATIONS_RUN_ID, observer_factories
from catchment.hookspecs import AdapterInfo, hookimpl
from catchment.plugins import PluginRegistry
from catchment.storage import open_storage
from typer.testing import CliRunner

YAML = """\
project:
  name: wh
components:
  - type: python
    name: core
    attributes:
      module: assets.py
"""

ASSETS = """\
import pandas as pd
from catchment import asset

@asset
def raw() -> pd.DataFrame:
    return pd.DataFrame({"n": [1, 2, 3]})

@asset
def clean(raw: pd.DataFrame) -> pd.DataFrame:
    return raw.assign(m=raw["n"] * 2)

@asset
def report(clean: pd.DataFrame) -> pd.DataFrame:
    return clean.head(1)

@asset
def other() -> pd.DataFrame:
    return pd.DataFrame({"x": [1]})
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "catchment.yaml").write_text(YAML)
    (tmp_path / "assets.py").write_text(ASSETS)
    result = CliRunner().invoke(app, ["materialize", "--project", str(tmp_path)])
    assert result.exit_code == 0, result.output
    return tmp_path


def _sql(project: Path, *statements: str) -> None:
    con = duckdb.connect(str(project / "warehouse.duckdb"))
    for s in statements:
        con.execute(s)
    con.close()


def test_a_dropped_table_is_missing_and_apply_rebuilds_it_and_its_downstream(
    project: Path, cli: Any
) -> None:
    assert {r["state"] for r in cli.plan(project).values()} == {"fresh"}
    _sql(project, "drop table clean")
    plan = cli.plan(project)
    assert plan["clean"]["state"] == "missing"
    assert plan["clean"]["reasons"] == ["table gone (warehouse.main.clean not found)"]
    assert plan["report"]["state"] == "stale"
    assert plan["report"]["reasons"] == ["upstream clean missing"]
    assert plan["raw"]["state"] == plan["other"]["state"] == "fresh"
    result = cli(project, "apply")
    assert result.exit_code == 0, result.output
    assert cli.last_run_built(project) == {"clean", "report"}
    assert {r["state"] for r in cli.plan(project).values()} == {"fresh"}


def test_a_deleted_warehouse_file_makes_every_table_missing(project: Path, cli: Any) -> None:
    (project / "warehouse.duckdb").unlink()
    result = cli(project, "plan", "--observe-ttl", "0")
    assert result.exit_code == 0, result.output
    assert "4 missing, 0 stale, 0 fresh" in result.output
    assert cli(project, "apply").exit_code == 0
    assert cli.last_run_built(project) == {"raw", "clean", "report", "other"}


def test_columns_altered_by_hand_show_as_drift(project: Path, cli: Any) -> None:
    _sql(project, "alter table report add column extra integer", "alter table report drop m")
    plan = cli.plan(project)
    assert plan["report"]["state"] == "stale"
    (reason,) = plan["report"]["reasons"]
    assert reason == (
        "drifted (columns differ from what the code produced: added extra; removed m)"
    )
    assert cli.plan(project)["report"]["state"] == "stale"  # still drifted: not a one-shot
    assert cli(project, "apply").exit_code == 0
    assert cli.last_run_built(project) == {"report"}
    assert cli.plan(project)["report"]["state"] == "fresh"


def test_rows_changed_outside_catchment_make_it_stale(project: Path, cli: Any) -> None:
    _sql(project, "insert into other values (7)")
    plan = cli.plan(project)
    assert plan["other"]["state"] == "stale"
    assert plan["other"]["reasons"][0].startswith("changed outside catchment (data version ")


def test_no_observe_reads_the_records_only(project: Path, cli: Any) -> None:
    _sql(project, "drop table raw")
    result = cli(project, "plan", "--json", "--no-observe")
    assert {r["state"] for r in json.loads(result.output)} == {"fresh"}


def test_the_cache_is_reused_within_its_time_to_live(project: Path, cli: Any) -> None:
    assert cli(project, "plan", "--observe-ttl", "60").exit_code == 0
    _sql(project, "drop table other")
    cached = cli(project, "plan", "--json", "--observe-ttl", "60")
    assert {r["state"] for r in json.loads(cached.output)} == {"fresh"}
    assert cli.plan(project)["other"]["state"] == "missing"  # ttl 0: observed again


def test_an_unreadable_warehouse_is_unknown_never_fresh_nor_a_crash(
    project: Path, cli: Any
) -> None:
    (project / "warehouse.duckdb").write_bytes(b"not a duckdb file at all" * 100)
    result = cli(project, "plan", "--json", "--observe-ttl", "0")
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert {r["state"] for r in rows} == {"unknown"}
    assert all(r["reasons"][0].startswith("unknown: could not observe (") for r in rows)
    applied = cli(project, "apply")
    assert "nothing to do" in applied.output  # unknown is not rebuilt blindly
    observed = cli(project, "observe", "--json")
    assert observed.exit_code == 1
    assert "Traceback" not in observed.output


def test_observe_records_what_changed_only(project: Path, cli: Any) -> None:
    first = cli(project, "observe", "--json")
    assert first.exit_code == 0, first.output
    rows = {r["key"]: r for r in json.loads(first.output)}
    assert rows["raw"]["exists"] is True
    assert rows["raw"]["row_count"] == 3
    assert rows["clean"]["columns"] == {"n": "BIGINT", "m": "BIGINT"}
    store = open_storage(f"sqlite:///{project / '.catchment' / 'runs.db'}")
    try:
        # materialize recorded the baseline of each table; observing found nothing new
        events = store.events_for_run(OBSERVATIONS_RUN_ID, [EventType.ASSET_OBSERVED])
        assert sorted(e.asset_key or "" for e in events) == ["clean", "other", "raw", "report"]
        _sql(project, "drop table raw")
        assert cli(project, "observe").exit_code == 0
        events = store.events_for_run(OBSERVATIONS_RUN_ID, [EventType.ASSET_OBSERVED])
        assert len(events) == 5
        assert events[-1].asset_key == "raw"
        assert events[-1].observed.exists is False
        assert events[-1].observed.table is not None
    finally:
        store.close()


class _Fixed:
    system = "mytool"

    def __init__(self, location: str):
        self.location = location

    def observe(self, tables: Any) -> dict[Any, Any]:
        raise RuntimeError("login failed for postgresql://bob:hunter2@db/x")


class _Plugin:
    @hookimpl
    def catchment_adapter_info(self) -> AdapterInfo:
        return AdapterInfo(name="mytool", version="1")

    @hookimpl
    def catchment_observers(self, register: Any) -> None:
        register("mytool", _Fixed)


def test_adapters_register_observers_and_their_failures_are_unknown_and_redacted() -> None:
    from catchment.definitions import AssetsDefinition
    from catchment.execution.observe import observe
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey
    from catchment.specs import AssetSpec
    from catchment.tables import table

    registry = PluginRegistry(strict=False, allow=None)
    registry.add_plugin(_Plugin(), "mytool")
    factories = observer_factories(registry)
    assert factories["mytool"] is _Fixed
    spec = AssetSpec(key=AssetKey.parse("t"), table=table("mytool", "t", location="here"))
    graph = AssetGraph.build([AssetsDefinition(name="t", specs=(spec,), compute=lambda c: None)])
    (obs,) = observe(graph, factories=factories).values()
    assert obs.exists is None
    assert obs.error is not None
    assert "hunter2" not in obs.error
    assert "login failed" in obs.error
    assert observe(graph, factories={}) == {}  # nothing can look: the records decide


PARTITIONED = """\
import pandas as pd
from catchment import asset
from catchment.partitions import StaticPartitions

@asset(partitions=StaticPartitions(["a", "b"]))
def parts(context) -> pd.DataFrame:
    return pd.DataFrame({"n": [1, 2]})
"""


def test_writing_another_partition_is_not_a_change_outside_catchment(
    tmp_path: Path, cli: Any
) -> None:
    (tmp_path / "catchment.yaml").write_text(YAML)
    (tmp_path / "assets.py").write_text(PARTITIONED)
    for partition in ("a", "b"):
        done = cli(tmp_path, "materialize", "--partition", partition)
        assert done.exit_code == 0, done.output
    assert cli.plan(tmp_path)["parts"]["state"] == "fresh"
    # (DuckDB's catalog row count sees inserts; deletes and updates only show after compaction)
    _sql(tmp_path, "insert into parts values (9, 'a')")
    plan = cli.plan(tmp_path)["parts"]
    assert plan["state"] == "stale"
    assert plan["reasons"][0].startswith("changed outside catchment")
    assert plan["partitions"] == ["a", "b"]


class _Odd:
    system = "mytool"
    location = "here"

    def observe(self, tables: Any) -> Any:
        return dict.fromkeys(tables, "not an observation")


class _BrokenResource:
    def observer(self) -> Any:
        raise RuntimeError("no driver")


def test_a_misbehaving_observer_or_resource_never_crashes_observation() -> None:
    from catchment.definitions import AssetsDefinition
    from catchment.execution.observe import observe
    from catchment.graph import AssetGraph
    from catchment.keys import AssetKey
    from catchment.specs import AssetSpec
    from catchment.tables import table

    spec = AssetSpec(key=AssetKey.parse("t"), table=table("mytool", "t", location="here"))
    graph = AssetGraph.build(
        [AssetsDefinition(name="t", specs=(spec,), compute=lambda c: None, observers=(_Odd(),))]
    )
    (obs,) = observe(graph, factories={}, resources={"r": _BrokenResource()}).values()
    assert obs.exists is None
    assert "_Odd returned 'not an observation'" in (obs.error or "")

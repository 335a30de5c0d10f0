"""Running streams with the real Sling binary: PostgreSQL and CSV into DuckDB, incremental
loads, per-stream failures, selection, secrets and a clean home directory."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from catchment import materialize
from catchment.definitions import AssetsDefinition
from catchment.events import EventType, encode_event

pytestmark = [pytest.mark.slow, pytest.mark.postgres]

Builder = Callable[..., AssetsDefinition]


def _pg_component(
    build_sling: Builder, pg_url: str, schema: str, streams: dict[str, Any]
) -> AssetsDefinition:
    return build_sling(
        {
            "replication": {
                "source": "PG",
                "target": "WH",
                "defaults": {"mode": "full-refresh", "object": "raw.{stream_table}"},
                "streams": {f"{schema}.{name}": cfg for name, cfg in streams.items()},
            },
            "connections": {"PG": pg_url, "WH": "duckdb://warehouse.duckdb"},
        }
    )


def _rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_postgres_table_is_replicated_into_duckdb(
    project: Path, build_sling: Builder, pg_url: str, pg_schema: str
) -> None:
    defn = _pg_component(build_sling, pg_url, pg_schema, {"orders": None})
    result = materialize([defn])
    (event,) = result.materializations
    assert event.asset_key == "raw/orders"
    assert event.data["metadata"]["rows"] == 5
    assert event.data["metadata"]["mode"] == "full-refresh"
    wh = project / "warehouse.duckdb"
    assert _rows(wh, "select count(*), sum(amount) from raw.orders") == [(5, 22.5)]
    # Sling ran with its home under the project; no temp replication files are left behind
    home = project / ".catchment" / "sling-home"
    assert (home / ".sling").is_dir()
    assert (home / ".duckdb" / "extensions" / "v1.4.4" / "linux_amd64").is_dir()
    assert [p.name for p in (project / ".catchment").iterdir()] == ["sling-home"]


def test_csv_file_source(project: Path, build_sling: Builder) -> None:
    (project / "data").mkdir()
    (project / "data" / "people.csv").write_text("id,name\n1,ann\n2,bob\n3,cy\n")
    defn = build_sling(
        {
            "replication": {
                "source": "LOCAL",
                "target": "WH",
                "defaults": {"object": "raw.{stream_file_name}"},
                "streams": {"file://data/people.csv": None},
            },
            "connections": {"WH": "duckdb://warehouse.duckdb"},
        }
    )
    result = materialize([defn])
    assert result.status_of("raw/people") == "success"
    assert result.materializations[0].data["metadata"]["rows"] == 3
    assert _rows(project / "warehouse.duckdb", "select name from raw.people order by id") == [
        ("ann",),
        ("bob",),
        ("cy",),
    ]


def test_incremental_stream_second_run_adds_only_new_rows(
    project: Path, build_sling: Builder, pg_url: str, pg_schema: str, pg: Any
) -> None:
    defn = _pg_component(
        build_sling,
        pg_url,
        pg_schema,
        {"orders": {"mode": "incremental", "primary_key": ["id"], "update_key": "updated_at"}},
    )
    first = materialize([defn])
    assert first.materializations[0].data["metadata"]["rows"] == 5
    pg.execute(
        f"insert into {pg_schema}.orders values "
        "(6, 9.0, timestamp '2026-02-01'), (7, 10.5, timestamp '2026-02-02')"
    )
    second = materialize([defn])
    assert second.materializations[0].data["metadata"]["rows"] == 2
    wh = project / "warehouse.duckdb"
    assert _rows(wh, "select count(*), count(distinct id), max(id) from raw.orders") == [(7, 7, 7)]


def test_a_missing_table_fails_only_its_own_asset_with_slings_message(
    project: Path, build_sling: Builder, pg_url: str, pg_schema: str
) -> None:
    defn = _pg_component(build_sling, pg_url, pg_schema, {"orders": None, "missing": None})
    result = materialize([defn], raise_on_failure=False)
    assert result.status_of("raw/orders") == "success"
    assert result.status_of("raw/missing") == "failed"
    (failure,) = [e for e in result.events if e.type is EventType.ASSET_FAILED]
    assert "did not find any columns" in failure.data["message"]
    assert f"{pg_schema}.missing" in failure.data["message"]
    assert failure.data["where"].endswith(f"(streams.{pg_schema}.missing)")
    assert _rows(project / "warehouse.duckdb", "select count(*) from raw.orders") == [(5,)]


def test_exactly_the_selected_streams_run(
    project: Path, build_sling: Builder, pg_url: str, pg_schema: str, pg: Any
) -> None:
    pg.execute(f"create table {pg_schema}.customers as select 1 as id")
    defn = _pg_component(build_sling, pg_url, pg_schema, {"orders": None, "customers": None})
    result = materialize([defn], selection="raw/customers")
    assert [e.asset_key for e in result.materializations] == ["raw/customers"]
    tables = _rows(
        project / "warehouse.duckdb",
        "select table_name from information_schema.tables where table_schema = 'raw'",
    )
    assert tables == [("customers",)]


def test_connection_password_never_appears_in_output_events_or_errors(
    project: Path,
    build_sling: Builder,
    pg_url: str,
    password: str,
    pg_schema: str,
    capfd: pytest.CaptureFixture[str],
) -> None:
    good = _pg_component(build_sling, pg_url, pg_schema, {"orders": None, "missing": None})
    unreachable_url = pg_url.replace(":5432/", ":1/")
    bad = build_sling(
        {
            "replication": {
                "source": "PG",
                "target": "WH",
                "streams": {f"{pg_schema}.orders": {"object": "raw.orders_copy"}},
            },
            "connections": {"PG": unreachable_url, "WH": "duckdb://warehouse.duckdb"},
        },
        name="unreachable",
    )
    seen: list[bytes] = []
    result = materialize(
        [good, bad], raise_on_failure=False, on_event=lambda e: seen.append(encode_event(e))
    )
    assert result.status_of("raw/orders") == "success"
    assert result.status_of("raw/orders_copy") == "failed"
    connect_failure = next(e for e in result.failures if e.asset_key == "raw/orders_copy").data[
        "message"
    ]
    assert "could not connect" in connect_failure
    log_lines = [e for e in result.events if e.type is EventType.LOG]
    assert len(log_lines) > 5
    out, err = capfd.readouterr()
    everything = b"".join(seen).decode() + out + err
    everything += "".join(encode_event(e).decode() for e in result.events)
    with pytest.raises(Exception) as info:
        materialize([bad])
    everything += str(info.value)
    assert "could not connect" in everything
    assert password not in everything


def test_missing_binary_at_run_time_is_one_clear_message(
    project: Path, build_sling: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "p.csv").write_text("a\n1\n")
    defn = build_sling(
        {
            "replication": {
                "source": "LOCAL",
                "target": "WH",
                "streams": {"file://p.csv": {"object": "raw.p"}},
            },
            "connections": {"WH": "duckdb://warehouse.duckdb"},
        }
    )
    monkeypatch.setenv("SLING_BINARY", str(project / "no-such-sling"))
    result = materialize([defn], raise_on_failure=False)
    assert result.status_of("raw/p") != "success"
    (failure,) = [e for e in result.failures if e.type is EventType.STEP_FAILED]
    assert failure.data["error_class"] == "ConfigError"
    assert "no-such-sling" in failure.data["message"]
    assert "SLING_BINARY" in failure.data["where"]
    assert "pip install sling-linux-amd64" in failure.data["hint"]
    assert not (project / "warehouse.duckdb").exists()


def test_child_environment_telemetry_off_home_redirected_user_may_override(
    project: Path, build_sling: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLING_DISABLE_TELEMETRY", raising=False)
    replication = {
        "source": "LOCAL",
        "target": "WH",
        "streams": {"file://p.csv": {"object": "raw.p"}},
        "env": {"SLING_THREADS": 4},
    }
    attrs = {"replication": replication, "connections": {"WH": "duckdb://warehouse.duckdb"}}
    home = project / ".catchment" / "sling-home"
    compute = build_sling(attrs).compute
    env = compute._environment(home)  # type: ignore[attr-defined]
    assert env["SLING_DISABLE_TELEMETRY"] == "true"
    assert env["HOME"] == str(home)
    assert env["SLING_HOME_DIR"] == str(home / ".sling")
    assert env["SLING_LOGGING"] == "JSON"
    assert env["WH"] == f"duckdb://{project.resolve() / 'warehouse.duckdb'}"
    assert env["DUCKDB_VERSION"] == "1.4.4"
    assert Path(env["DUCKDB_PATH"]).name == "duckdb"
    assert "env" not in compute._replication_for([])  # type: ignore[attr-defined]
    override = build_sling({**attrs, "env": {"SLING_DISABLE_TELEMETRY": "false"}}).compute
    assert override._environment(home)["SLING_DISABLE_TELEMETRY"] == "false"  # type: ignore[attr-defined]


def test_a_locked_duckdb_file_fails_with_a_hint(project: Path, build_sling: Builder) -> None:
    (project / "p.csv").write_text("a\n1\n")
    defn = build_sling(
        {
            "replication": {
                "source": "LOCAL",
                "target": "WH",
                "streams": {"file://p.csv": {"object": "raw.p"}},
            },
            "connections": {"WH": "duckdb://warehouse.duckdb"},
        }
    )
    with duckdb.connect(str(project / "warehouse.duckdb")):
        result = materialize([defn], raise_on_failure=False)
    (failure,) = result.failures
    assert failure.asset_key == "raw/p"
    assert "Could not set lock on file" in failure.data["message"]
    assert f"this process holds it (pid {os.getpid()})" in failure.data["message"]
    assert "close other connections" in failure.data["message"]
    assert "file://p.csv" in failure.data["message"]


def test_a_duckdb_file_locked_by_another_process_names_it_before_sling_starts(
    project: Path, build_sling: Builder
) -> None:
    # Asked before Sling runs: Sling 1.4 can wait forever when its DuckDB CLI cannot lock.
    (project / "p.csv").write_text("a\n1\n")
    warehouse = project / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(warehouse)!r}); "
            "print('locked', flush=True); time.sleep(120)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "locked"
        defn = build_sling(
            {
                "replication": {
                    "source": "LOCAL",
                    "target": "WH",
                    "streams": {"file://p.csv": {"object": "raw.p"}},
                },
                "connections": {"WH": "duckdb://warehouse.duckdb"},
            }
        )
        result = materialize([defn], raise_on_failure=False)
    finally:
        holder.kill()
        holder.wait()
    (failure,) = result.failures
    assert f"process {holder.pid} holds it" in failure.data["message"]
    assert "close other connections" in failure.data["message"]


def test_a_partitioned_stream_loads_the_folder_of_each_window(
    project: Path, build_sling: Builder
) -> None:
    """``{partition_start:%Y/%m/%d/%H}`` in the stream name is the run's window: one `sling run`
    per hour, each reading that hour's folder; a re-run of an hour replaces nothing twice."""
    for hour, rows in (("03", "1,10\n2,20\n"), ("04", "3,30\n")):
        folder = project / "landing" / "2025" / "08" / "01" / hour
        folder.mkdir(parents=True)
        (folder / "part-0.csv").write_text("id,amount\n" + rows)
    defn = build_sling(
        {
            "replication": {
                "source": "LOCAL",
                "target": "WH",
                "defaults": {"mode": "incremental", "primary_key": ["id"], "object": "raw.events"},
                "streams": {"file://landing/{partition_start:%Y/%m/%d/%H}/": None},
            },
            "connections": {"WH": "duckdb://warehouse.duckdb"},
            "partitions": {"cadence": "hourly", "start": "2025-08-01-00:00", "end": "2025-08-02"},
        }
    )
    (spec,) = defn.specs
    assert spec.key.to_string() == "raw/events"
    assert spec.partitions is not None
    result = materialize([defn], partition="2025-08-01-03:00...2025-08-01-04:00")
    assert [e.partition for e in result.materializations] == [
        "2025-08-01-03:00",
        "2025-08-01-04:00",
    ]
    # each hour's record counts that hour's rows (issue 25), not the range's
    assert [e.data["metadata"]["rows"] for e in result.materializations] == [2, 1]
    wh = project / "warehouse.duckdb"
    assert _rows(wh, "select count(*), sum(amount) from raw.events") == [(3, 60)]
    materialize([defn], partition="2025-08-01-03:00")
    assert _rows(wh, "select count(*), sum(amount) from raw.events") == [(3, 60)]


def test_partitions_may_name_only_streams_of_the_replication(build_sling: Builder) -> None:
    from catchment.errors import ConfigError

    with pytest.raises(ConfigError, match=r"partitions\.streams names streams") as info:
        build_sling(
            {
                "replication": {
                    "source": "LOCAL",
                    "target": "WH",
                    "defaults": {"object": "raw.events"},
                    "streams": {"file://landing/{partition_key}/": None},
                },
                "connections": {"WH": "duckdb://warehouse.duckdb"},
                "partitions": {"cadence": "daily", "start": "2025-08-01", "streams": ["nope"]},
            }
        )
    assert "file://landing/{partition_key}/" in (info.value.hint or "")

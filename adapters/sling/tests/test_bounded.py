"""A Sling run that stops answering is bounded: the real Sling binary, driving a DuckDB CLI
that never answers (the state Sling 1.4.11 was seen stuck in), is killed with its whole
process group at the step's timeout, the step fails as timed out, and the silence is reported
in the live log while it lasts."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from catchment import materialize
from catchment.definitions import AssetsDefinition
from catchment.events import Event, EventType

pytestmark = pytest.mark.slow

Builder = Callable[..., AssetsDefinition]

SILENT_DUCKDB = """#!/bin/sh
# A DuckDB CLI that answers --version, then reads its input and never replies.
if [ "$1" = "--version" ]; then echo "v1.4.4 0000000"; exit 0; fi
echo $$ > "{pidfile}"
exec sleep 600
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


def test_a_stuck_sling_run_is_killed_at_the_timeout_and_reported(
    project: Path, build_sling: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CATCHMENT_TOOL_QUIET_SECONDS", "0.5")
    monkeypatch.delenv("DUCKDB_PATH", raising=False)
    pidfile = project / "duckdb.pid"
    fake = project / "silent-duckdb"
    fake.write_text(SILENT_DUCKDB.format(pidfile=pidfile))
    fake.chmod(0o755)
    (project / "people.csv").write_text("id,name\n1,ann\n")
    defn = build_sling(
        {
            "replication": {
                "source": "LOCAL",
                "target": "WH",
                "defaults": {"object": "raw.{stream_file_name}"},
                "streams": {"file://people.csv": None},
            },
            "connections": {"WH": "duckdb://warehouse.duckdb"},
            "duckdb_binary": str(fake),
        }
    ).replace(timeout=3.0)
    live: list[Event] = []
    start = time.monotonic()
    result = materialize([defn], raise_on_failure=False, on_event=live.append)
    assert time.monotonic() - start < 30
    (failure,) = [e for e in result.events if e.type is EventType.ASSET_FAILED]
    message = failure.data["message"]
    assert failure.data["error_class"] == "StepTimeout"
    assert "sling timed out after 3 s" in message
    found = re.search(r"killed sling \(pid (\d+)\) and its process group", message)
    assert found, message
    assert _gone(int(found.group(1)))
    assert _gone(int(pidfile.read_text()))  # Sling's DuckDB CLI went with it
    quiet = [
        e.data["message"]
        for e in live
        if e.type is EventType.LOG and "no output from sling" in e.data["message"]
    ]
    assert quiet, "the silence must show in the live log while it lasts"
    assert f"(still running, pid {found.group(1)})" in quiet[0]
    assert os.environ["CATCHMENT_TOOL_QUIET_SECONDS"] == "0.5"


EXITING_DUCKDB = """#!/bin/sh
# A DuckDB CLI that answers --version, then exits without a word after reading for a moment:
# what a CLI that cannot lock its file looks like to Sling. Sling 1.4.11 then waits forever.
if [ "$1" = "--version" ]; then echo "v1.4.4 0000000"; exit 0; fi
sleep 0.5
exit 1
"""


def test_sling_wedged_after_its_duckdb_cli_exited_is_killed_without_a_timeout(
    project: Path, build_sling: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import catchment_sling.execution as execution

    monkeypatch.setattr(execution, "STALL_SECONDS", 2.0)
    monkeypatch.delenv("DUCKDB_PATH", raising=False)
    fake = project / "exiting-duckdb"
    fake.write_text(EXITING_DUCKDB)
    fake.chmod(0o755)
    (project / "people.csv").write_text("id,name\n1,ann\n")
    defn = build_sling(
        {
            "replication": {
                "source": "LOCAL",
                "target": "WH",
                "streams": {"file://people.csv": {"object": "raw.people"}},
            },
            "connections": {"WH": "duckdb://warehouse.duckdb"},
            "duckdb_binary": str(fake),
        }
    )
    assert defn.timeout is None  # no time limit: the stall guard alone must end it
    start = time.monotonic()
    result = materialize([defn], raise_on_failure=False)
    assert time.monotonic() - start < 60
    (failure,) = [e for e in result.events if e.type is EventType.ASSET_FAILED]
    assert failure.data["error_class"] == "ToolStalled"
    message = failure.data["message"]
    assert "sling stopped answering: its child process" in message
    assert "printed nothing for 2 s since" in message
    found = re.search(r"killed sling \(pid (\d+)\) and its process group", message)
    assert found, message
    assert _gone(int(found.group(1)))
    assert "Sling 1.5.20" in failure.data["hint"]


WAITING_DUCKDB = """#!/bin/sh
# A DuckDB CLI that answers --version, then reads its commands and never answers one: Sling 1.4
# and its CLI then wait on each other with no output and no CPU, as seen in the suite.
if [ "$1" = "--version" ]; then echo "v1.4.4 0000000"; exit 0; fi
echo "started" >> "$(dirname "$0")/starts"
exec cat > /dev/null
"""


@pytest.mark.parametrize(
    ("mode", "starts"), [("full-refresh", 2), ("incremental", 1)], ids=["rerun", "no-rerun"]
)
def test_sling_idle_with_its_duckdb_cli_waiting_is_killed_and_rerun_only_when_safe(
    project: Path,
    build_sling: Builder,
    monkeypatch: pytest.MonkeyPatch,
    mode: str,
    starts: int,
) -> None:
    """The whole group idle, the CLI blocked reading Sling's pipe: killed as stalled with no
    time limit; a full refresh (which cannot load a row twice) runs again once."""
    monkeypatch.setenv("CATCHMENT_SLING_STALL_SECONDS", "2")
    monkeypatch.delenv("DUCKDB_PATH", raising=False)
    fake = project / "waiting-duckdb"
    fake.write_text(WAITING_DUCKDB)
    fake.chmod(0o755)
    (project / "people.csv").write_text("id,name\n1,ann\n")
    stream: dict[str, Any] = {"object": "raw.people", "mode": mode}
    if mode == "incremental":
        stream |= {"primary_key": ["id"], "update_key": "id"}
    defn = build_sling(
        {
            "replication": {
                "source": "LOCAL",
                "target": "WH",
                "streams": {"file://people.csv": stream},
            },
            "connections": {"WH": "duckdb://warehouse.duckdb"},
            "duckdb_binary": str(fake),
        }
    )
    assert defn.timeout is None  # no time limit: the idle guard alone must end it
    live: list[Any] = []
    start = time.monotonic()
    result = materialize([defn], raise_on_failure=False, on_event=live.append)
    assert time.monotonic() - start < 90
    (failure,) = [e for e in result.events if e.type is EventType.ASSET_FAILED]
    assert failure.data["error_class"] == "ToolStalled"
    message = failure.data["message"]
    assert "sling stopped answering: no output and next to no CPU used for 2 s" in message
    assert "waited for input from it" in message
    found = re.search(r"killed sling \(pid (\d+)\) and its process group", message)
    assert found, message
    assert _gone(int(found.group(1)))
    assert len((project / "starts").read_text().splitlines()) == starts
    # Sling's goroutine dump (SIGQUIT before the kill) is kept for a bug report, no secret in it
    dumped = re.search(r"Sling's goroutine dump: (\S+\.txt)", message)
    assert dumped, message
    dump = Path(dumped.group(1))
    assert dump.parent == project / ".catchment" / "sling-dumps"
    assert "goroutine " in dump.read_text()
    assert len(list(dump.parent.iterdir())) == starts
    reruns = [
        e
        for e in live
        if e.type is EventType.LOG and "running the replication again" in e.data["message"]
    ]
    assert len(reruns) == starts - 1

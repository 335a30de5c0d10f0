"""Sling 1.4's DuckDB CLI behind the end-marker filter: the marker's header and value lines
become one line, everything else passes unchanged, and the real Sling no longer wedges when
the two lines come apart (which wedged Sling 1.4.11 on every run before the filter)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from catchment import materialize
from catchment.definitions import AssetsDefinition
from catchment.events import EventType
from catchment_sling.endmarker import MARKER, MarkerFilter, filter_stream, wrapper

Builder = Callable[..., AssetsDefinition]

RESULT = b"id,name\n1,ann\n" + MARKER + MARKER
"""A query's output as Sling 1.4's DuckDB CLI prints it: rows, then the marker's header and
value lines."""


def _through(chunks: list[bytes]) -> bytes:
    marker = MarkerFilter()
    return b"".join(marker.feed(c) for c in chunks) + marker.flush()


@pytest.mark.parametrize("cut", range(len(RESULT) + 1))
def test_the_marker_pair_becomes_one_line_wherever_the_reads_split_it(cut: int) -> None:
    chunks = [RESULT[:cut], RESULT[cut:]]
    assert _through(chunks + chunks) == (b"id,name\n1,ann\n" + MARKER) * 2


def test_other_lines_pass_unchanged_and_nothing_finished_is_held_back() -> None:
    marker = MarkerFilter()
    # a marker line alone, or one that is part of a longer line, is left as it is
    assert _through([b"x" + MARKER + MARKER]) == b"x" + MARKER + MARKER
    assert _through([MARKER, b"marker_1\n", MARKER]) == MARKER + b"marker_1\n" + MARKER
    # a finished marker line is passed on at once; its twin, when it comes, is dropped
    assert marker.feed(b"1\n" + MARKER) == b"1\n" + MARKER
    assert marker.feed(MARKER) == b""
    # only an unfinished line that may become a marker waits for more bytes
    assert marker.feed(b"id\n___end_of") == b"id\n"
    assert marker.flush() == b"___end_of"


def test_filter_stream_copies_a_pipe_until_it_closes() -> None:
    source, into = os.pipe()
    out, sink = os.pipe()
    os.write(into, RESULT * 3)
    os.close(into)
    filter_stream(source, sink)
    os.close(sink)
    assert os.read(out, 1 << 16) == (b"id,name\n1,ann\n" + MARKER) * 3


# A DuckDB CLI printing the marker's header and value lines 40 ms apart: Sling 1.4.11's second
# 25 ms timer then fires after the next query started and marks that query done, so Sling drops
# its output and waits forever (seen in the suite, about one run in a hundred on a busy machine).
APART_DUCKDB = """#!{python}
import os, subprocess, sys, time
cli = subprocess.Popen([{real!r}, *sys.argv[1:]], stdout=subprocess.PIPE)
for line in iter(cli.stdout.readline, b""):
    os.write(1, line)
    if line == {marker!r}:
        time.sleep(0.04)
sys.exit(cli.wait())
"""


@pytest.mark.slow
def test_sling_runs_through_a_cli_whose_marker_lines_come_apart(
    project: Path, build_sling: Builder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from catchment_sling.binaries import locate_duckdb

    monkeypatch.setenv("CATCHMENT_SLING_STALL_SECONDS", "10")
    real = locate_duckdb(root=project)
    monkeypatch.delenv("DUCKDB_PATH", raising=False)
    apart = project / "apart-duckdb"
    apart.write_text(APART_DUCKDB.format(python=sys.executable, real=str(real), marker=MARKER))
    apart.chmod(0o755)
    (project / "people.csv").write_text("id,name\n1,ann\n2,bo\n")
    defn = build_sling(
        {
            "replication": {
                "source": "LOCAL",
                "target": "WH",
                "streams": {"file://people.csv": {"object": "raw.people"}},
            },
            "connections": {"WH": "duckdb://warehouse.duckdb"},
            "duckdb_binary": str(apart),
        }
    )
    logs: list[str] = []
    start = time.monotonic()
    result = materialize(
        [defn],
        raise_on_failure=False,
        on_event=lambda e: logs.append(e.data.get("message", "")),
    )
    assert time.monotonic() - start < 60
    assert not [e for e in result.events if e.type is EventType.ASSET_FAILED]
    (done,) = result.materializations
    assert done.data["metadata"]["rows"] == 2
    # no wedge caught by the guard (10 s idle, then a rerun that wedged again before the filter)
    assert not [m for m in logs if "stopped answering" in m]


def test_the_wrapper_runs_the_cli_with_its_arguments(tmp_path: Path) -> None:
    cli = tmp_path / "echo-cli"
    cli.write_text('#!/bin/sh\necho "$0 $*"\n')
    cli.chmod(0o755)
    script = wrapper(cli, tmp_path)
    out = subprocess.run([script, "-csv", "a b"], capture_output=True, timeout=30, check=True)
    assert out.stdout.decode() == f"{cli} -csv a b\n"

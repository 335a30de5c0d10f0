"""Parsing Sling's JSON log and its end-of-run error sections (text captured from sling 1.4.11)."""

from __future__ import annotations

import json

from catchment_sling.logs import LogParser, failure_sections


def _line(msg: str, lvl: str = "info") -> str:
    return json.dumps({"lvl": lvl, "time": "2026-11-21T05:21:17Z", "msg": msg})


MULTI = [
    _line("\u001b[36mSling CLI | https://slingdata.io\u001b[0m"),
    _line("Sling Replication [2 streams] | PG -> WH"),
    _line("[1 / 2] running stream sx.orders"),
    _line("reading from source database"),
    _line('inserted 5 rows into "raw"."sx_orders" in 1 secs [3 r/s] [185 B]'),
    _line("execution succeeded"),
    _line("[2 / 2] running stream sx.missing"),
    _line("execution failed"),
    _line("Sling Replication Completed in 2s | PG -> WH | 1 Successes | 1 Failures\n"),
]

MISSING = (
    'did not find any columns for "sx"."missing". Perhaps it does not exists, '
    "or user does not have read permission."
)
STDERR = f"""

{MISSING}

\x1b[31mfatal:
~ failure running replication (see docs @ https://docs.slingdata.io/sling-cli)
--------------------------- sx.missing ---------------------------
~ Could not get source columns
{MISSING}
\x1b[0m"""


def test_multi_stream_log_gives_status_and_rows_per_stream() -> None:
    parser = LogParser()
    lines = [parser.feed(raw) for raw in MULTI]
    assert lines[0] is not None
    assert lines[0].message == "Sling CLI | https://slingdata.io"
    ok, bad = parser.outcomes["sx.orders"], parser.outcomes["sx.missing"]
    assert (ok.status, ok.rows, ok.target) == ("succeeded", 5, '"raw"."sx_orders"')
    assert ok.duration is not None
    assert (bad.status, bad.rows) == ("failed", None)


def test_single_stream_header_and_warnings() -> None:
    parser = LogParser()
    for raw in [
        _line("Sling Replication | PG -> WH | sx.orders"),
        _line("no data or records found in stream. Nothing to do.", "warn"),
        _line('inserted 0 rows into "raw"."orders_inc" in 0 secs [0 r/s] '),
        _line("execution succeeded"),
    ]:
        parser.feed(raw)
    out = parser.outcomes["sx.orders"]
    assert (out.status, out.rows) == ("succeeded", 0)
    assert out.warnings == ["no data or records found in stream. Nothing to do."]


def test_plain_text_lines_are_tolerated() -> None:
    parser = LogParser()
    line = parser.feed("not json at all")
    assert line is not None
    assert (line.level, line.message) == ("info", "not json at all")
    assert parser.feed("   ") is None
    assert parser.outcomes == {}


def test_failure_sections_split_per_stream() -> None:
    sections, general = failure_sections(STDERR)
    assert sections == {"sx.missing": f"Could not get source columns\n{MISSING}"}
    assert "failure running replication" in general
    compile_error = "\x1b[31mfatal:\n~ Error compiling replication config\nneed `object`\x1b[0m"
    assert failure_sections(compile_error) == (
        {},
        "Error compiling replication config\nneed `object`",
    )

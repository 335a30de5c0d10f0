"""Sling 1.4's DuckDB CLI seen through a filter that prints its end-of-result marker once.

Sling 1.4 ends every DuckDB query with ``select '<marker>' AS <marker>``; in CSV mode the CLI
prints the marker twice (header and value), Sling arms a 25 ms timer for each line, and the
timer that fires second marks whichever query is current *then* as done. When the next query
has started by then, Sling drops all its output and waits forever (a wedge; fixed upstream in
Sling 1.5.20). Collapsing the pair to one line leaves one timer per query, so the query it
ends is always its own.

Run as a script (``python -I -S endmarker.py CLI ARGS...``) it becomes the CLI: it forks a
filter for the CLI's stdout and execs the CLI in place, so Sling's child is the real DuckDB.
Standard library only, since it starts with every DuckDB CLI Sling opens.
"""

from __future__ import annotations

import contextlib
import os
import select
import sys
from pathlib import Path

MARKER = b"___end_of_duckdb_result___\n"
"""The line Sling 1.4 looks for at the end of each DuckDB result (iop/duckdb.go)."""
PAIR = MARKER + MARKER
HOLD_SECONDS = 1.0
"""How long a marker line waits for its twin before it is passed on alone."""
_SCRIPT = """#!/bin/sh
# DuckDB CLI for Sling, its end-of-result marker printed once (catchment_sling.endmarker)
exec {python} -I -S {script} {cli} "$@"
"""


class MarkerFilter:
    """Passes bytes on unchanged except that a marker line right after a marker line is
    dropped; holds back only an unfinished line that may still become a marker (``pending``).
    """

    def __init__(self) -> None:
        self.pending = b""
        self._line_start = True  # the bytes passed on so far end a line
        self._after_marker = False  # ... and their last line is a marker

    def feed(self, chunk: bytes) -> bytes:
        """The bytes that can be passed on now, given ``chunk``, the next bytes read."""
        buf, self.pending = self.pending + chunk, b""
        at_start = self._line_start
        if at_start and buf.startswith(PAIR if not self._after_marker else MARKER):
            buf = buf[len(MARKER) :]
        buf = buf.replace(b"\n" + PAIR, b"\n" + MARKER)
        cut = buf.rfind(b"\n") + 1
        tail = buf[cut:]
        if tail and MARKER.startswith(tail) and (cut > 0 or at_start):
            buf, self.pending = buf[:cut], tail
        if buf:
            self._line_start = buf.endswith(b"\n")
            whole = len(buf) == len(MARKER) and at_start
            self._after_marker = buf.endswith(MARKER) and (
                whole or buf[-len(MARKER) - 1 : -len(MARKER)] == b"\n"
            )
        return buf

    def flush(self) -> bytes:
        """The unfinished line held back, passed on as it is (no more bytes came for it)."""
        out, self.pending = self.pending, b""
        if out:
            self._line_start = self._after_marker = False
        return out


def filter_stream(source: int, sink: int, hold: float = HOLD_SECONDS) -> None:
    """Copy ``source`` to ``sink`` through a ``MarkerFilter`` until end of file; bytes held
    back are passed on after ``hold`` seconds without more input."""
    marker = MarkerFilter()
    while True:
        if marker.pending and not select.select([source], [], [], hold)[0]:
            _write(sink, marker.flush())
            continue
        chunk = os.read(source, 1 << 16)
        if not chunk:
            _write(sink, marker.flush())
            return
        _write(sink, marker.feed(chunk))


def _write(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def wrapper(cli: Path, folder: Path) -> Path:
    """An executable in ``folder`` that runs ``cli`` with its marker printed once (POSIX)."""
    script = folder / "duckdb-cli"
    script.write_text(
        _SCRIPT.format(
            python=_quoted(sys.executable), script=_quoted(__file__), cli=_quoted(str(cli))
        )
    )
    script.chmod(0o755)
    return script


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _main(argv: list[str]) -> None:
    """Exec the CLI ``argv[0]`` with ``argv[1:]``, its stdout through a forked filter."""
    cli, args = argv[0], argv[1:]
    if "-csv" in args:  # Sling's query session; `-version` and the like go straight through
        read, write = os.pipe()
        if os.fork() == 0:
            os.close(write)
            os.close(0)
            with contextlib.suppress(OSError):  # Sling went away: nothing left to pass on
                filter_stream(read, 1)
            os._exit(0)
        os.close(read)
        os.dup2(write, 1)
        os.close(write)
    try:
        os.execv(cli, [cli, *args])
    except OSError as exc:
        sys.stderr.write(f"catchment: could not run the DuckDB CLI {cli}: {exc.strerror}\n")
        sys.exit(127)


if __name__ == "__main__":
    _main(sys.argv[1:])

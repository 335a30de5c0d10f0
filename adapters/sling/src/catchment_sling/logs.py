"""Turning Sling's output into per-stream outcomes.

With ``SLING_LOGGING=JSON`` Sling writes one JSON object per line on stdout
(``{"lvl", "time", "msg"}``); a replication announces each stream (``[2 / 3] running stream x``,
or ``Sling Replication | A -> B | x`` when it has one stream), reports ``inserted N rows into
"s"."t"`` and ends it with ``execution succeeded`` / ``execution failed``. The reasons of the
failures come at the end on stderr, one ``--- <stream> ---`` section per failed stream.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_RUNNING = re.compile(r"^\[\d+ / \d+\] running stream (?P<name>.+)$")
_SINGLE = re.compile(r"^Sling Replication \| [^|]+ \| (?P<name>.+)$")
_ROWS = re.compile(r"^(?:inserted|wrote) (?P<rows>\d+) rows? (?:into|to) (?P<target>.+?) in ")
_SECTION = re.compile(r"^-{3,} (?P<name>.+?) -{3,}$")


def strip_ansi(text: str) -> str:
    """Remove terminal colour codes."""
    return _ANSI.sub("", text)


@dataclass
class StreamOutcome:
    """What Sling said about one stream."""

    name: str
    status: str = "started"  # started | succeeded | failed
    rows: int | None = None
    target: str | None = None
    started: float = field(default_factory=time.monotonic)
    duration: float | None = None
    warnings: list[str] = field(default_factory=list)
    message: str | None = None


@dataclass
class LogLine:
    """One parsed line: level and message (``lvl`` falls back to ``info`` for plain text)."""

    level: str
    message: str


class LogParser:
    """Feed stdout lines as they come; read per-stream outcomes when Sling exits."""

    def __init__(self) -> None:
        self.outcomes: dict[str, StreamOutcome] = {}
        self.current: StreamOutcome | None = None

    def feed(self, raw: str) -> LogLine | None:
        """Parse one stdout line, updating the outcomes; returns it for logging."""
        raw = raw.strip()
        if not raw:
            return None
        try:
            obj = json.loads(raw)
        except ValueError:
            obj = None
        if isinstance(obj, dict):
            level, msg = str(obj.get("lvl", "info")), strip_ansi(str(obj.get("msg", "")))
        else:
            level, msg = "info", strip_ansi(raw)
        msg = msg.strip()
        self._interpret(level, msg)
        return LogLine(level, msg)

    def _interpret(self, level: str, msg: str) -> None:
        match = _RUNNING.match(msg) or _SINGLE.match(msg)
        if match:
            name = match.group("name").strip()
            self.current = self.outcomes[name] = StreamOutcome(name=name)
            return
        cur = self.current
        if cur is None:
            return
        rows = _ROWS.match(msg)
        if rows:
            cur.rows = (cur.rows or 0) + int(rows.group("rows"))
            cur.target = rows.group("target")
        elif msg == "execution succeeded":
            cur.status, cur.duration = "succeeded", time.monotonic() - cur.started
        elif msg == "execution failed":
            cur.status, cur.duration = "failed", time.monotonic() - cur.started
        elif level == "warn":
            cur.warnings.append(msg)


def failure_sections(stderr: str) -> tuple[dict[str, str], str]:
    """Sling's end-of-run error text split per stream, and the text outside any section."""
    sections: dict[str, list[str]] = {}
    general: list[str] = []
    current: list[str] = general
    for line in strip_ansi(stderr).splitlines():
        match = _SECTION.match(line.strip())
        if match:
            current = sections.setdefault(match.group("name").strip(), [])
            continue
        current.append(line)
    tidy = {name: _tidy(lines) for name, lines in sections.items()}
    return tidy, _tidy(general)


def _tidy(lines: list[str]) -> str:
    out = [ln.strip().removeprefix("~ ").strip() for ln in lines]
    return "\n".join(ln for ln in out if ln and ln != "fatal:")

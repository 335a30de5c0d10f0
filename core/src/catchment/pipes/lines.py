"""Split a byte stream into lines with a size limit, so one huge line cannot exhaust memory
or swallow the lines after it."""

from __future__ import annotations

from dataclasses import dataclass

PREVIEW_BYTES = 200


@dataclass(frozen=True)
class Oversized:
    """A line longer than the limit: its size (at least) and its first bytes, the rest dropped."""

    size: int
    head: bytes


Line = bytes | Oversized


class LineSplitter:
    """Feed bytes as they arrive; get back complete lines (without ``\\n``) or ``Oversized``."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self._buf = bytearray()
        self._skipping = False
        self._skipped = 0
        self._head = b""

    def feed(self, data: bytes) -> list[Line]:
        out: list[Line] = []
        start = 0
        while (end := data.find(b"\n", start)) >= 0:
            out.append(self._finish(data[start:end]))
            start = end + 1
        rest = data[start:]
        if self._skipping:
            self._skipped += len(rest)
        else:
            self._buf += rest
            if len(self._buf) > self.max_bytes:
                self._skipping = True
                self._skipped = len(self._buf)
                self._head = bytes(self._buf[:PREVIEW_BYTES])
                self._buf.clear()
        return out

    def flush(self) -> list[Line]:
        """At end of stream: the last line if it had no newline (a writer that died mid-line)."""
        if self._skipping or self._buf:
            return [self._finish(b"")]
        return []

    def _finish(self, tail: bytes) -> Line:
        if self._skipping:
            line: Line = Oversized(self._skipped + len(tail), self._head)
            self._skipping, self._skipped, self._head = False, 0, b""
            return line
        total = len(self._buf) + len(tail)
        if total > self.max_bytes:
            head = (bytes(self._buf) + tail[:PREVIEW_BYTES])[:PREVIEW_BYTES]
            self._buf.clear()
            return Oversized(total, head)
        whole = bytes(self._buf) + tail
        self._buf.clear()
        return whole

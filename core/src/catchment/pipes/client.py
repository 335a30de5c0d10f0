"""Run any command as a pipes remote: pass the context, stream its messages, yield results.

``PipesSubprocessClient().run(context, ["python", "job.py"])`` starts the process, tails its
messages file while it runs (so logs and materializations arrive as they happen), and when it
ends fails every selected asset it did not report, with the reason and the tail of stderr.
"""

from __future__ import annotations

import contextlib
import os
import queue
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from collections import deque
from collections.abc import Generator, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from catchment.context import StepContext
from catchment.errors import ExecutionError
from catchment.pipes.lines import Line, LineSplitter, Oversized
from catchment.pipes.remote import DEFAULT_MAX_MESSAGE_BYTES
from catchment.pipes.session import PipesSession
from catchment.results import StepResult

_OUTPUT_LINE_LIMIT = 64 * 1024
_ORPHAN_GRACE = 5.0
_READ_CHUNK = 1 << 20


class PipesSubprocessClient:
    """Start commands as pipes remotes on this machine.

    ``env`` and ``cwd`` apply to every run (``run`` can add to them); ``timeout`` kills a
    process that runs longer (seconds); ``forward_stdout`` sends the process's plain stdout
    lines to the run log (stderr is kept as a tail for failure messages, and logged at debug
    level only when ``forward_stderr``).
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        timeout: float | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        forward_stdout: bool = True,
        forward_stderr: bool = False,
        stderr_tail_lines: int = 40,
        poll_interval: float = 0.05,
    ):
        self.env = dict(env or {})
        self.cwd = cwd
        self.timeout = timeout
        self.max_message_bytes = max_message_bytes
        self.forward_stdout = forward_stdout
        self.forward_stderr = forward_stderr
        self.stderr_tail_lines = stderr_tail_lines
        self.poll_interval = poll_interval

    def run(
        self,
        context: StepContext,
        command: Sequence[str] | str,
        *,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        extras: Mapping[str, Any] | None = None,
        label: str | None = None,
        timeout: float | None = None,
    ) -> Iterator[StepResult]:
        """Run ``command`` for ``context``'s selected assets and yield their results as the
        process reports them, then a failure for each asset it did not report."""
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not argv:
            raise ExecutionError("empty command", where=context.step_key)
        session = PipesSession(
            context,
            label=label or " ".join(shlex.quote(a) for a in argv[:3]),
            extras=extras,
            max_message_bytes=self.max_message_bytes,
        )
        with tempfile.TemporaryDirectory(prefix="catchment-pipes-") as tmp:
            messages = Path(tmp) / "messages.jsonl"
            messages.touch()
            full_env = {**os.environ, **self.env, **(env or {})}
            full_env.update(session.env(messages, Path(tmp)))
            yield from _Run(self, session, argv, full_env, cwd or self.cwd, messages).results(
                timeout if timeout is not None else self.timeout
            )


class _Run:
    """One running process: its reader threads, its message file and how it ended."""

    def __init__(
        self,
        client: PipesSubprocessClient,
        session: PipesSession,
        argv: list[str],
        env: dict[str, str],
        cwd: str | os.PathLike[str] | None,
        messages: Path,
    ):
        self.client = client
        self.session = session
        self.log = session.context.log
        self.argv = argv
        self.env = env
        self.cwd = cwd
        self.messages = messages
        self.stderr_tail: deque[str] = deque(maxlen=client.stderr_tail_lines)
        self.traceback = _TracebackCatcher()
        self.events: queue.Queue[tuple[str, Line | None]] = queue.Queue()

    def _start(self) -> subprocess.Popen[bytes]:
        try:
            return subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as e:
            raise ExecutionError(
                f"cannot start {self.argv[0]!r}: {e.strerror or e}",
                where=f"{self.session.context.step_key} ({self.session.label})",
                hint="check that the program exists, is executable and is on PATH",
            ) from e

    def _pump(self, name: str, stream: IO[bytes]) -> None:
        splitter = LineSplitter(max(_OUTPUT_LINE_LIMIT, self.client.max_message_bytes))
        read = getattr(stream, "read1", stream.read)
        while chunk := read(_READ_CHUNK):
            for line in splitter.feed(chunk):
                self.events.put((name, line))
        for line in splitter.flush():
            self.events.put((name, line))
        self.events.put((name, None))

    def results(self, timeout: float | None) -> Iterator[StepResult]:
        proc = self._start()
        assert proc.stdout is not None
        assert proc.stderr is not None
        pumps = [
            threading.Thread(target=self._pump, args=(n, s), daemon=True)
            for n, s in (("stdout", proc.stdout), ("stderr", proc.stderr))
        ]
        for t in pumps:
            t.start()
        splitter = LineSplitter(self.client.max_message_bytes)
        deadline = None if timeout is None else time.monotonic() + timeout
        reason: str | None = None
        open_streams = 2
        exited_at: float | None = None
        try:
            with open(self.messages, "rb") as f:
                while True:
                    if exited_at is None and proc.poll() is not None:
                        exited_at = time.monotonic()
                    if exited_at is not None and time.monotonic() - exited_at > _ORPHAN_GRACE:
                        _kill_group(proc.pid)  # children still hold stdout/stderr open
                    done = exited_at is not None and open_streams == 0
                    yield from self._read_messages(f, splitter)
                    if done:
                        for line in splitter.flush():
                            yield from self.session.handle_line(line)
                        break
                    open_streams -= yield from self._drain_output()
                    if deadline is not None and time.monotonic() > deadline and reason is None:
                        reason = (
                            f"{self.session.label} timed out after {timeout:g} s and was killed"
                        )
                        _stop(proc)
        finally:
            _stop(proc)
            for s in (proc.stdout, proc.stderr):
                s.close()
        tail = "\n".join(self.stderr_tail)
        caught = "\n".join(self.traceback.lines)
        output = f"{caught}\n...\n{tail}" if caught and caught not in tail else tail
        yield from self.session.finish(
            proc.returncode, reason=reason, output=output or None, error=self.traceback.error
        )

    def _read_messages(self, f: IO[bytes], splitter: LineSplitter) -> Iterator[StepResult]:
        while chunk := f.read(_READ_CHUNK):
            for line in splitter.feed(chunk):
                yield from self.session.handle_line(line)

    def _drain_output(self) -> Generator[StepResult, None, int]:
        """Handle what the reader threads queued (waiting up to one poll interval); return how
        many streams reached their end."""
        ended = 0
        try:
            item = self.events.get(timeout=self.client.poll_interval)
        except queue.Empty:
            return 0
        while True:
            name, line = item
            if line is None:
                ended += 1
            elif name == "stdout":
                results = self.session.handle_stdout_line(line)
                if results is None:
                    text = _text(line)
                    self.traceback.feed(text)  # spark-submit sends the driver's stderr here
                    if self.client.forward_stdout:
                        self.log.info("%s", text)
                else:
                    yield from results
            else:
                text = _text(line)
                self.stderr_tail.append(text)
                self.traceback.feed(text)
                if self.client.forward_stderr:
                    self.log.debug("%s", text)
            try:
                item = self.events.get_nowait()
            except queue.Empty:
                return ended


class _TracebackCatcher:
    """Keeps the last Python traceback the process printed (drivers often log pages after it)."""

    START = "Traceback (most recent call last):"
    MAX_LINES = 200

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.error: str | None = None
        self._open = False

    def feed(self, text: str) -> None:
        if text.startswith(self.START):
            self.lines, self.error, self._open = [text], None, True
        elif self._open:
            if len(self.lines) < self.MAX_LINES:
                self.lines.append(text)
            if text and not text[0].isspace():
                self.error, self._open = text.strip(), False


def _text(line: Line) -> str:
    if isinstance(line, Oversized):
        return line.head.decode("utf-8", "replace") + f"... ({line.size} bytes, truncated)"
    return line.decode("utf-8", "replace").rstrip("\r")


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Terminate the process and its children (its own session), then kill if it lingers."""
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue

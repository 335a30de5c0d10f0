"""Run any command as a pipes remote: pass the context, stream its messages, yield results.

``PipesSubprocessClient().run(context, ["python", "job.py"])`` starts the process, tails its
messages file while it runs (so logs and materializations arrive as they happen), and when it
ends fails every selected asset it did not report, with the reason and the tail of stderr.
"""

from __future__ import annotations

import os
import shlex
import tempfile
import time
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from catchment.context import StepContext
from catchment.errors import ExecutionError
from catchment.pipes.lines import Line, LineSplitter
from catchment.pipes.remote import DEFAULT_MAX_MESSAGE_BYTES
from catchment.pipes.session import PipesSession
from catchment.results import StepResult
from catchment.timeouts import StepTimeout, deadline_of
from catchment.toolprocess import Stream, ToolProcess, line_text

_OUTPUT_LINE_LIMIT = 64 * 1024
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
    """One running process (a :class:`ToolProcess`): its message file and how it ended."""

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

    def _tool(self, timeout: float | None) -> ToolProcess:
        """The process, bounded by the client's ``timeout`` and the step's deadline."""
        context = self.session.context
        step_deadline = deadline_of(context)
        deadline, limit = step_deadline, getattr(context, "timeout", None)
        if timeout is not None:
            own = time.monotonic() + timeout
            if step_deadline is None or own < step_deadline:
                deadline, limit = own, timeout
        return ToolProcess(
            self.argv,
            label=self.session.label,
            env=self.env,
            cwd=self.cwd,
            deadline=deadline,
            limit=limit,
            log=self.log,
            max_line_bytes=max(_OUTPUT_LINE_LIMIT, self.client.max_message_bytes),
            where=f"{context.step_key} ({self.session.label})",
        )

    def results(self, timeout: float | None) -> Iterator[StepResult]:
        splitter = LineSplitter(self.client.max_message_bytes)
        reason: str | None = None
        tool = self._tool(timeout)
        with tool, open(self.messages, "rb") as f:
            try:
                for item in tool.lines(poll=self.client.poll_interval):
                    yield from self._read_messages(f, splitter)
                    if item is not None:
                        yield from self._output(*item)
            except StepTimeout as exc:
                reason = exc.message
            yield from self._read_messages(f, splitter)
            for line in splitter.flush():
                yield from self.session.handle_line(line)
        tail = "\n".join(self.stderr_tail)
        caught = "\n".join(self.traceback.lines)
        output = f"{caught}\n...\n{tail}" if caught and caught not in tail else tail
        yield from self.session.finish(
            tool.returncode, reason=reason, output=output or None, error=self.traceback.error
        )

    def _read_messages(self, f: IO[bytes], splitter: LineSplitter) -> Iterator[StepResult]:
        while chunk := f.read(_READ_CHUNK):
            for line in splitter.feed(chunk):
                yield from self.session.handle_line(line)

    def _output(self, name: Stream, line: Line) -> Iterator[StepResult]:
        if name == "stdout":
            results = self.session.handle_stdout_line(line)
            if results is not None:
                yield from results
                return
            text = line_text(line)
            self.traceback.feed(text)  # spark-submit sends the driver's stderr here
            if self.client.forward_stdout:
                self.log.info("%s", text)
            return
        text = line_text(line)
        self.stderr_tail.append(text)
        self.traceback.feed(text)
        if self.client.forward_stderr:
            self.log.debug("%s", text)


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

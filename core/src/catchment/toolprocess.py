"""Run a tool subprocess in its own process group, with a deadline, streaming its output.

Every adapter that starts a process (Sling, spark-submit, a pipes remote) uses
:class:`ToolProcess`, so each gets the same guarantees:

- the tool starts in a new session (its own process group), with stdin closed;
- its stdout and stderr arrive line by line (bounded lines) while it runs;
- at the ``deadline`` (a ``time.monotonic()`` instant, usually ``context.deadline``) a
  watchdog thread sends the whole group SIGTERM, then SIGKILL after ``kill_grace`` seconds,
  and the reader raises :class:`~catchment.timeouts.StepTimeout` ("timed out after N s");
- a tool that prints nothing for ``quiet_after`` seconds is reported once per quiet spell:
  "no output from sling for 60 s (still running, pid N)";
- with ``stall_after_child_exit``, a tool whose child process exited and which then stays
  silent, with no child left, for that many seconds is taken as wedged (Sling 1.4 waits forever
  when its DuckDB CLI dies): the group is killed and :class:`ToolStalled` raised (Linux only);
- with ``stall_when_idle``, a tool that stays silent and uses no CPU, with its children (if
  any) blocked reading a pipe from it, for that many seconds is taken as wedged the same way
  (Sling 1.4 can stop sending commands to a DuckDB CLI waiting for them) (Linux only);
- with ``stall_dump_signal``, a stalled tool first gets that signal (SIGQUIT makes a Go
  program print its goroutines) and what it prints on stderr within ``stall_dump_grace``
  seconds is kept in :attr:`ToolStalled.dump`, for a bug report;
- however the caller leaves (return, error, Ctrl-C, a timeout), nothing of the group survives:
  the leader is reaped only after the group is killed, so a reused pid is never signalled.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import IO, Any, Literal

from catchment.context import Log
from catchment.errors import ExecutionError
from catchment.pipes.lines import Line, LineSplitter, Oversized
from catchment.timeouts import StepTimeout, format_seconds

__all__ = [
    "QUIET_ENV",
    "Stream",
    "ToolProcess",
    "ToolStalled",
    "line_text",
    "quiet_after_default",
]

Stream = Literal["stdout", "stderr"]
QUIET_ENV = "CATCHMENT_TOOL_QUIET_SECONDS"
DEFAULT_QUIET = 60.0
_READ_CHUNK = 1 << 16
_MAX_LINE = 1 << 20


def quiet_after_default() -> float | None:
    """Seconds of silence before a tool is reported (``$CATCHMENT_TOOL_QUIET_SECONDS``,
    default 60; ``0`` turns the report off)."""
    raw = os.environ.get(QUIET_ENV, "").strip()
    if not raw:
        return DEFAULT_QUIET
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_QUIET
    return value if value > 0 else None


class ToolStalled(ExecutionError):
    """A tool stopped answering (see ``stall_after_child_exit`` and ``stall_when_idle``)."""

    dump: str = ""
    """What the tool printed on stderr after ``stall_dump_signal`` (empty without one)."""


_TICKS_PER_S = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
_PIPE_WAITS = frozenset({"anon_pipe_read", "pipe_read", "pipe_wait"})


def _cpu_ticks(pid: int) -> int | None:
    """User + system CPU ticks of ``pid`` (all its threads), or None where /proc cannot tell."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, ValueError, IndexError):
        return None


def _waits_on_pipe(pid: int) -> bool:
    """Whether ``pid`` sleeps in a read of a pipe (its kernel wait channel says so)."""
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read().strip() in _PIPE_WAITS
    except OSError:
        return False


def _children(pid: int) -> dict[int, str] | None:
    """``pid``'s child processes and their names, from /proc; None where /proc cannot tell."""
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    kids: dict[int, str] = {}
    for tid in tasks:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                found = [int(p) for p in f.read().split()]
        except (OSError, ValueError):
            return None
        for child in found:
            try:
                with open(f"/proc/{child}/comm") as f:
                    kids[child] = f.read().strip()
            except OSError:
                kids[child] = "?"
    return kids


def line_text(line: Line) -> str:
    """A line as text (undecodable bytes replaced; an oversized line shown by its head)."""
    if isinstance(line, Oversized):
        return line.head.decode("utf-8", "replace") + f"... ({line.size} bytes, truncated)"
    return line.decode("utf-8", "replace").rstrip("\r")


class ToolProcess:
    """One tool subprocess; use as a context manager and iterate :meth:`lines`.

    ``label`` names the tool in messages (``sling``, ``spark-submit job.py``). ``limit`` is
    the time limit the deadline came from, for the message (default: the time left at start).
    ``stderr`` may be an open file to send stderr there instead of streaming it.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        label: str,
        env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None,
        deadline: float | None = None,
        limit: float | None = None,
        quiet_after: float | Literal["default"] | None = "default",
        log: Log | None = None,
        stderr: IO[Any] | None = None,
        kill_grace: float = 3.0,
        orphan_grace: float = 2.0,
        stall_after_child_exit: float | None = None,
        stall_hint: str | None = None,
        stall_when_idle: float | None = None,
        stall_dump_signal: int | None = None,
        stall_dump_grace: float = 3.0,
        max_line_bytes: int = _MAX_LINE,
        where: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.argv = [str(a) for a in argv]
        self.label = label
        self.env = None if env is None else dict(env)
        self.cwd = cwd
        self.deadline = deadline
        self.limit = limit
        self.quiet_after = quiet_after_default() if quiet_after == "default" else quiet_after
        self.log = log
        self.kill_grace = kill_grace
        self.orphan_grace = orphan_grace
        self.stall_after_child_exit = stall_after_child_exit
        self.stall_hint = stall_hint
        self.stall_when_idle = stall_when_idle
        self.stall_dump_signal = stall_dump_signal
        self.stall_dump_grace = stall_dump_grace
        self._idle: tuple[float, int] | None = None  # (since when, the group's CPU ticks then)
        self._idle_children: dict[int, str] = {}
        self._child_gone: tuple[float, int, str] | None = None  # (when, pid, name)
        self._had_children: dict[int, str] = {}
        self.max_line_bytes = max_line_bytes
        self.where = where
        self.clock = clock
        self.timed_out = False
        self.quiet_reports = 0
        self._stderr_file = stderr
        self._proc: subprocess.Popen[bytes] | None = None
        self._lines: queue.Queue[tuple[Stream, Line | None]] = queue.Queue()
        self._open_streams = 0
        self._exited = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    # -- life cycle ------------------------------------------------------------------------
    @property
    def pid(self) -> int:
        """The tool's pid (also its process group id)."""
        assert self._proc is not None, "start() first"
        return self._proc.pid

    @property
    def returncode(self) -> int | None:
        """The exit code once the tool ended and was reaped (negative: killed by signal)."""
        return None if self._proc is None else self._proc.returncode

    def start(self) -> ToolProcess:
        """Start the tool in its own session; raise ``ExecutionError`` if it cannot start."""
        if self.limit is None and self.deadline is not None:
            self.limit = max(0.0, self.deadline - time.monotonic())
        try:
            self._proc = subprocess.Popen(
                self.argv,
                env=self.env,
                cwd=self.cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=self._stderr_file if self._stderr_file is not None else subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            program = repr(self.argv[0])
            what = program if self.label == self.argv[0] else f"{self.label} ({program})"
            raise ExecutionError(
                f"cannot start {what}: {exc.strerror or exc}",
                where=self.where,
                hint="check that the program exists, is executable and is on PATH",
            ) from exc
        streams: list[tuple[Stream, IO[bytes] | None]] = [("stdout", self._proc.stdout)]
        if self._stderr_file is None:
            streams.append(("stderr", self._proc.stderr))
        for name, stream in streams:
            assert stream is not None
            self._open_streams += 1
            self._spawn(self._pump, name, stream)
        self._spawn(self._watch)
        return self

    def __enter__(self) -> ToolProcess:
        return self.start() if self._proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(
            target=target, args=args, daemon=True, name=f"tool-{self.label}-{target.__name__}"
        )
        thread.start()
        self._threads.append(thread)

    # -- threads ---------------------------------------------------------------------------
    def _pump(self, name: Stream, stream: IO[bytes]) -> None:
        splitter = LineSplitter(self.max_line_bytes)
        read = getattr(stream, "read1", stream.read)
        try:
            while chunk := read(_READ_CHUNK):
                for line in splitter.feed(chunk):
                    self._lines.put((name, line))
        except (OSError, ValueError):  # closed under us while the group is being killed
            pass
        for line in splitter.flush():
            self._lines.put((name, line))
        self._lines.put((name, None))

    def _watch(self) -> None:
        """Wait for the tool to exit (without reaping it); at the deadline, kill its group."""
        assert self._proc is not None
        pid = self._proc.pid
        if self.deadline is None:
            self._wait_exit(pid, None)
            return
        if not self._wait_exit(pid, self.deadline):
            self.timed_out = True
            self._signal_group(signal.SIGTERM)
            if not self._wait_exit(pid, time.monotonic() + self.kill_grace):
                self._signal_group(signal.SIGKILL)
                self._wait_exit(pid, None)

    def _wait_exit(self, pid: int, until: float | None) -> bool:
        """True once ``pid`` has exited (left unreaped, so its pgid stays reserved)."""
        while not self._exited.is_set():
            if self._done.is_set():
                return True
            try:
                exited = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT | os.WNOHANG) is not None
            except ChildProcessError:  # already reaped by close()
                exited = True
            if exited:
                self._exited.set()
                break
            if until is not None and time.monotonic() >= until:
                return False
            wait = 0.05 if until is None else min(0.05, max(0.0, until - time.monotonic()))
            self._done.wait(wait)
        return True

    def _signal_group(self, sig: int) -> None:
        """Signal the whole group, unless the leader was already reaped (pid may be reused)."""
        with self._lock:
            if self._proc is None or self._proc.returncode is not None:
                return
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._proc.pid, sig)

    # -- reading ---------------------------------------------------------------------------
    def lines(self, poll: float | None = None) -> Iterator[tuple[Stream, Line] | None]:
        """Yield ``(stream, line)`` as the tool prints; with ``poll``, also ``None`` after
        each ``poll`` seconds without output (so the caller can do other work).

        Ends when the tool exited and its output closed. Raises ``StepTimeout`` (after the
        group was killed) when the deadline passed.
        """
        assert self._proc is not None, "start() first"
        last_output = self.clock()
        exited_at: float | None = None
        while True:
            if self.timed_out:
                raise self._timeout_error()
            wait = 0.1 if poll is None else min(poll, 0.1)
            try:
                name, line = self._lines.get(timeout=wait)
            except queue.Empty:
                name, line = "stdout", None
                now = self.clock()
                if self._exited.is_set():
                    exited_at = exited_at if exited_at is not None else time.monotonic()
                    if self._open_streams == 0:
                        return
                    if time.monotonic() - exited_at > self.orphan_grace:
                        # the leader is gone; children of it still hold the pipes open
                        self._signal_group(signal.SIGKILL)
                elif self._stalled(last_output):
                    raise self._end_stalled(self._stall_error()) from None
                elif self._idle_stalled(last_output):
                    raise self._end_stalled(self._idle_error()) from None
                elif self.quiet_after is not None and now - last_output >= self.quiet_after:
                    self.quiet_reports += 1
                    if self.log is not None:
                        self.log.warning(
                            "no output from %s for %s s (still running, pid %d)",
                            self.label,
                            format_seconds(round(now - last_output, 1)),
                            self._proc.pid,
                        )
                    last_output = now
                if poll is not None:
                    yield None
                continue
            if line is None:
                self._open_streams -= 1
                if self._open_streams == 0 and self._wait_exit(self._proc.pid, None):
                    if self.timed_out:
                        raise self._timeout_error()
                    return
                continue
            last_output = self.clock()
            yield name, line

    def _end_stalled(self, error: ToolStalled) -> ToolStalled:
        """Kill the stalled tool's group, after asking it for a dump (``stall_dump_signal``)."""
        assert self._proc is not None
        error.dump = self._dump()
        self._signal_group(signal.SIGKILL)
        self._wait_exit(self._proc.pid, time.monotonic() + self.kill_grace)
        return error

    def _dump(self) -> str:
        """Send ``stall_dump_signal`` to the tool alone and collect its stderr until its
        output closes or ``stall_dump_grace`` seconds pass (stdout is dropped)."""
        if self.stall_dump_signal is None or self._proc is None:
            return ""
        with self._lock:
            if self._proc.returncode is not None:
                return ""
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(self._proc.pid, self.stall_dump_signal)
        until = time.monotonic() + self.stall_dump_grace
        text: list[str] = []
        while self._open_streams and (left := until - time.monotonic()) > 0:
            try:
                name, line = self._lines.get(timeout=min(left, 0.1))
            except queue.Empty:
                continue
            if line is None:
                self._open_streams -= 1
            elif name == "stderr":
                text.append(line_text(line))
        return "\n".join(text)

    def _stalled(self, last_output: float) -> bool:
        """Whether a child of the tool exited and the tool has been silent and childless for
        ``stall_after_child_exit`` seconds since (both counted on ``clock``)."""
        if self.stall_after_child_exit is None or self._proc is None:
            return False
        kids = _children(self._proc.pid)
        if kids is None:
            return False
        now = self.clock()
        if kids:
            self._had_children.update(kids)
            self._child_gone = None
            return False
        if not self._had_children:
            return False
        if self._child_gone is None:
            pid, name = next(reversed(self._had_children.items()))
            self._child_gone = (now, pid, name)
        since = max(self._child_gone[0], last_output)
        return now - since >= self.stall_after_child_exit

    def _idle_stalled(self, last_output: float) -> bool:
        """Whether the tool has been silent, used no CPU (nor its children), and had children
        that all waited on a pipe, for ``stall_when_idle`` seconds (counted on ``clock``). A
        silent tool with no child (waiting on a network source, say) is left to its deadline."""
        if self.stall_when_idle is None or self._proc is None:
            return False
        kids = _children(self._proc.pid)
        ticks = [_cpu_ticks(pid) for pid in (self._proc.pid, *(kids or {}))]
        now = self.clock()
        if not kids or None in ticks or not all(_waits_on_pipe(k) for k in kids):
            self._idle = None
            return False
        total = sum(t for t in ticks if t is not None)
        # "no CPU": under 1% of a core over the window (a runtime's timers tick now and then)
        allowed = 2 + (0.0 if self._idle is None else (now - self._idle[0]) * _TICKS_PER_S / 100)
        if self._idle is None or total - self._idle[1] > allowed:
            self._idle = (now, total)
            self._idle_children = dict(kids)
            return False
        since = max(self._idle[0], last_output)
        return now - since >= self.stall_when_idle

    def _idle_error(self) -> ToolStalled:
        seconds = format_seconds(self.stall_when_idle or 0.0)
        waiting = ", ".join(f"{name} (pid {pid})" for pid, name in self._idle_children.items())
        children = f"; {waiting} waited for input from it" if waiting else ""
        return ToolStalled(
            f"{self.label} stopped answering: no output and next to no CPU used for {seconds} s"
            f"{children}; killed {self.label} (pid {self.pid}) and its process group",
            where=self.where,
            hint=self.stall_hint,
        )

    def _stall_error(self) -> ToolStalled:
        assert self._child_gone is not None
        _, child, name = self._child_gone
        seconds = format_seconds(self.stall_after_child_exit or 0.0)
        return ToolStalled(
            f"{self.label} stopped answering: its child process {name} (pid {child}) exited and "
            f"{self.label} printed nothing for {seconds} s since; killed {self.label} "
            f"(pid {self.pid}) and its process group",
            where=self.where,
            hint=self.stall_hint,
        )

    def _timeout_error(self) -> StepTimeout:
        seconds = self.limit if self.limit is not None else 0.0
        return StepTimeout(
            seconds,
            what=self.label,
            killed=f"{self.label} (pid {self.pid}) and its process group",
            where=self.where,
        )

    # -- ending ----------------------------------------------------------------------------
    def close(self) -> int | None:
        """Kill whatever is left of the group (SIGTERM, then SIGKILL), reap the tool, close
        its pipes; return its exit code. Safe to call twice."""
        proc = self._proc
        if proc is None:
            return None
        if proc.returncode is None:
            if not self._exited.is_set():
                self._signal_group(signal.SIGTERM)
                deadline = time.monotonic() + self.kill_grace
                while not self._exited.is_set() and time.monotonic() < deadline:
                    self._exited.wait(0.05)
            self._signal_group(signal.SIGKILL)  # stragglers too; the leader is not reaped yet
            with self._lock:
                proc.wait()
        self._done.set()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None and stream is not self._stderr_file:
                with contextlib.suppress(OSError):
                    stream.close()
        for thread in self._threads:
            thread.join(timeout=1.0)
        return proc.returncode

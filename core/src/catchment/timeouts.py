"""Step time limits: reading ``timeout:`` values, the ``StepTimeout`` error and deadlines.

A timeout is given in seconds (``90``, ``2.5``) or as a duration string (``"30s"``, ``"30m"``,
``"2h"``, ``"1h30m"``). A step's deadline is a ``time.monotonic()`` instant; the engine puts it
on the step context (``context.deadline``) so an adapter can hand it to the tool subprocess it
starts (:func:`catchment.toolprocess.run_tool`), which kills the tool's process group when the
deadline passes.
"""

from __future__ import annotations

import contextlib
import math
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from catchment.errors import CatchmentError, ConfigError

__all__ = [
    "KILL_GRACE_SECONDS",
    "StepInterrupted",
    "StepTimeout",
    "deadline_of",
    "format_seconds",
    "interrupt_at",
    "parse_kill_grace",
    "parse_timeout",
    "remaining",
]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_WHOLE = re.compile(r"(?:\s*\d+(?:\.\d+)?\s*(?:ms|s|m|h|d))+\s*")
HINT = "give seconds (e.g. 90) or a duration such as '30s', '30m', '2h' or '1h30m'"

KILL_GRACE_SECONDS = 10.0  # a step this long past its last deadline is stuck: its worker goes
KILL_GRACE_HINT = (
    "give a number of seconds, 0 or more (default 10): how long a step may run past its last "
    "deadline before its worker is killed (multiprocess) or restarted (dask), or it is logged "
    "as stuck (inprocess)"
)


def parse_timeout(value: Any, *, where: str | None = None) -> float | None:
    """Seconds from ``value`` (a number, a duration string, or None for no limit).

    Raises ``ConfigError`` naming ``where`` for anything else, zero or a negative value.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ConfigError(f"timeout must be a duration, got {value!r}", where=where, hint=HINT)
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower()
        if re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        elif _WHOLE.fullmatch(text):
            seconds = sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))
        else:
            raise ConfigError(f"timeout {value!r} is not a duration", where=where, hint=HINT)
    else:
        raise ConfigError(
            f"timeout must be a duration, got a {type(value).__name__}", where=where, hint=HINT
        )
    if not seconds > 0 or seconds == float("inf"):
        raise ConfigError(f"timeout must be more than 0 s, got {value!r}", where=where, hint=HINT)
    return seconds


def parse_kill_grace(value: Any, *, where: str | None = None) -> float | None:
    """Seconds from an executor's ``kill_grace_seconds`` (a number, or a string of one as a
    template renders it; None for the default). Raises ``ConfigError`` naming ``where`` for
    anything else or a negative value, so a stuck step's worker is never killed at a guess."""
    if value is None:
        return None
    number = isinstance(value, int | float) and not isinstance(value, bool)
    text = isinstance(value, str) and re.fullmatch(r"\s*-?\d+(?:\.\d+)?\s*", value)
    seconds = float(value) if number or text else None
    if seconds is None or not math.isfinite(seconds):
        raise ConfigError(
            f"kill_grace_seconds must be a number of seconds, got {value!r}",
            where=where,
            hint=KILL_GRACE_HINT,
        )
    if seconds < 0:
        raise ConfigError(
            f"kill_grace_seconds must be 0 or more, got {value!r}",
            where=where,
            hint=KILL_GRACE_HINT,
        )
    return seconds


def format_seconds(seconds: float) -> str:
    """``30`` for 30.0, ``2.5`` for 2.5: how messages print a limit."""
    return f"{seconds:g}"


def remaining(deadline: float | None) -> float | None:
    """Seconds until ``deadline`` (a monotonic instant), never below 0; None for no deadline."""
    if deadline is None:
        return None
    return max(0.0, deadline - time.monotonic())


def deadline_of(context: object) -> float | None:
    """The step's deadline from a step context (None when it has no time limit, or when the
    context predates deadlines)."""
    value = getattr(context, "deadline", None)
    return float(value) if isinstance(value, int | float) else None


class StepTimeout(CatchmentError):
    """A step (or the tool it ran) passed its time limit and was stopped.

    The message always contains ``timed out after N s``; ``killed`` names the process
    group that was killed, when there was one.
    """

    def __init__(
        self,
        seconds: float,
        *,
        what: str = "the step",
        killed: str | None = None,
        where: str | None = None,
        hint: str | None = None,
    ):
        self.seconds = seconds
        message = f"{what} timed out after {format_seconds(seconds)} s"
        if killed:
            message += f"; killed {killed}"
        super().__init__(
            message,
            where=where,
            hint=hint
            or "raise the step's `timeout:` (component, @asset(timeout=...) or "
            "defaults: timeout:) if the work needs longer",
        )


class StepInterrupted(BaseException):
    """Raised inside a running compute when its deadline passes (internal).

    A ``BaseException``, like ``KeyboardInterrupt``, so a compute's ``except Exception`` does
    not swallow it; the engine records it as a ``StepTimeout``.
    """


class _Alarm:
    """While a step runs on the main thread: at its deadline, deliver SIGALRM to the main
    thread and raise ``StepInterrupted`` there. Other SIGALRMs (pytest-timeout's, a user's
    ``signal.alarm``) still reach the handler that was installed before."""

    def __init__(self, deadline: float, on_overdue: Callable[[], None] | None, grace: float):
        self.deadline = deadline
        self.on_overdue = on_overdue
        self.grace = grace
        self.fired = False
        self._stop = threading.Event()
        self._previous: Any = None
        self._main = threading.main_thread().ident
        self._thread = threading.Thread(target=self._wait, daemon=True, name="catchment-deadline")

    def _handler(self, signum: int, frame: Any) -> None:
        if self.fired and not self._stop.is_set():
            raise StepInterrupted
        previous = self._previous
        if callable(previous):
            previous(signum, frame)

    def _wait(self) -> None:
        if self._stop.wait(max(0.0, self.deadline - time.monotonic())):
            return
        self.fired = True
        if self._main is not None:
            with contextlib.suppress(OSError, ValueError):
                signal.pthread_kill(self._main, signal.SIGALRM)
        if self.on_overdue is not None and not self._stop.wait(self.grace):
            self.on_overdue()  # still running: blocked where no exception reaches it

    def __enter__(self) -> _Alarm:
        self._previous = signal.signal(signal.SIGALRM, self._handler)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        signal.signal(signal.SIGALRM, self._previous)


def _async_raise(thread: int, exc: type[BaseException] | None) -> bool:
    """Have ``exc`` raised in ``thread`` at its next bytecode (None: drop a pending one).

    CPython's ``PyThreadState_SetAsyncExc``, through prototypes of our own so the shared
    ``ctypes.pythonapi`` function keeps its default argument handling. False where it does
    not exist (another Python implementation)."""
    import ctypes

    api = getattr(ctypes, "pythonapi", None)
    if api is None or not hasattr(api, "PyThreadState_SetAsyncExc"):
        return False
    if exc is None:
        clear = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.c_void_p)
        clear(("PyThreadState_SetAsyncExc", api))(thread, None)  # NULL: clear
        return True
    raise_ = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.c_ulong, ctypes.py_object)
    return bool(raise_(("PyThreadState_SetAsyncExc", api))(thread, exc))


class _ThreadInterrupt:
    """While a step runs on a thread other than the main one (a Dask worker's task thread):
    at its deadline, raise ``StepInterrupted`` in that thread at its next bytecode.

    No signal reaches such a thread, so a sleep, a lock wait or a blocking read is not
    interrupted: the exception is raised when it returns to Python. The exception is armed
    only while the block runs; one armed but not yet delivered when the block ends is dropped,
    so it never lands in the caller's code."""

    def __init__(self, deadline: float, on_overdue: Callable[[], None] | None, grace: float):
        self.deadline = deadline
        self.on_overdue = on_overdue
        self.grace = grace
        self.target = threading.get_ident()
        self._lock = threading.Lock()
        self._inside = True
        self._armed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._wait, daemon=True, name="catchment-deadline")

    def _wait(self) -> None:
        if self._stop.wait(max(0.0, self.deadline - time.monotonic())):
            return
        with self._lock:
            if not self._inside:
                return
            self._armed = _async_raise(self.target, StepInterrupted)
        if self.on_overdue is not None and not self._stop.wait(self.grace):
            self.on_overdue()  # still running: blocked where no exception reaches it

    def _disarm(self) -> None:
        self._stop.set()
        with self._lock:
            self._inside = False
            if self._armed:
                self._armed = False
                _async_raise(self.target, None)

    def __enter__(self) -> _ThreadInterrupt:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        delivered = False
        while True:  # the exception may arrive while disarming: it is delivered once
            try:
                self._disarm()
                break
            except StepInterrupted:
                delivered = True
        if delivered:
            raise StepInterrupted


@contextlib.contextmanager
def interrupt_at(
    deadline: float | None,
    *,
    on_overdue: Callable[[], None] | None = None,
    grace: float = 10.0,
) -> Iterator[None]:
    """Raise ``StepInterrupted`` in the code run under this block once ``deadline`` passes.

    On the main thread of a POSIX process it is delivered by a signal, so it also ends
    sleeps, waits and blocking reads. On any other thread (a Dask worker runs steps in its
    task threads) it is raised at the thread's next bytecode: Python code is interrupted, a
    sleep, wait or read only when it returns. Code blocked inside a native call that never
    returns to Python cannot be interrupted; ``on_overdue`` is called ``grace`` seconds after
    the deadline if the block is still running, so the caller can say so (and a caller that
    can, replaces the process). Where neither works (Windows main thread, another Python
    implementation) this only calls ``on_overdue``; tools started through
    :class:`catchment.toolprocess.ToolProcess` are still killed at the deadline.
    """
    if deadline is None:
        yield
        return
    main = threading.current_thread() is threading.main_thread()
    if main and hasattr(signal, "pthread_kill") and hasattr(signal, "SIGALRM"):
        with _Alarm(deadline, on_overdue, grace):
            yield
        return
    if not main:
        with _ThreadInterrupt(deadline, on_overdue, grace):
            yield
        return
    stop = threading.Event()

    def watch() -> None:
        if not stop.wait(max(0.0, deadline - time.monotonic()) + grace) and on_overdue:
            on_overdue()

    watcher = threading.Thread(target=watch, daemon=True, name="catchment-deadline")
    watcher.start()
    try:
        yield
    finally:
        stop.set()

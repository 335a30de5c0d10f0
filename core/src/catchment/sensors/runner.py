"""Running a sensor's code in a subprocess with a time limit, without blocking the daemon.

``start`` launches ``python -m catchment.sensors.host`` in its own process group and returns
at once; the daemon ``poll``s it on every step with its clock's time, and past the sensor's
timeout the whole group is killed. Output goes to a temporary file (no pipe to fill up); the
result is the host's marked line, validated into a ``SensorResult``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import msgspec

from catchment.sensors.definition import SensorContext, SensorResult
from catchment.sensors.host import ERROR_MARK, RESULT_MARK

OUTPUT_TAIL = 2000


@dataclass(frozen=True)
class SensorOutcome:
    """How one sensor evaluation ended: a result, or an error saying what went wrong."""

    result: SensorResult | None = None
    error: str | None = None
    output: str = ""


def parse_output(text: str, code: int | None, what: str) -> SensorOutcome:
    """The outcome the host's output says (the last marked line wins)."""
    tail = text[-OUTPUT_TAIL:]
    for line in reversed(text.splitlines()):
        if line.startswith(RESULT_MARK):
            try:
                result = msgspec.convert(json.loads(line[len(RESULT_MARK) :]), SensorResult)
            except (ValueError, msgspec.ValidationError) as exc:
                return SensorOutcome(error=f"{what} returned an invalid result: {exc}", output=tail)
            return SensorOutcome(result=result, output=tail)
        if line.startswith(ERROR_MARK):
            data: Any = json.loads(line[len(ERROR_MARK) :])
            where = f" (at {data['where']})" if data.get("where") else ""
            return SensorOutcome(error=f"{what} raised {data['error']}{where}", output=tail)
    return SensorOutcome(
        error=f"{what} ended (exit code {code}) without a result", output=tail.strip()
    )


class SensorProcess:
    """One running evaluation; ``poll`` until it returns an outcome."""

    def __init__(
        self,
        proc: subprocess.Popen[bytes],
        out: IO[bytes],
        started_at: float,
        timeout: float,
        what: str,
    ):
        self.proc = proc
        self._out = out
        self.started_at = started_at
        self.timeout = timeout
        self.what = what

    def poll(self, now: float) -> SensorOutcome | None:
        """The outcome once the process ended or ran out of time; None while it runs."""
        code = self.proc.poll()
        if code is None:
            if now - self.started_at < self.timeout:
                return None
            self.kill()
            text = self._read()
            return SensorOutcome(
                error=f"{self.what} timed out after {self.timeout:g}s and was killed",
                output=text[-OUTPUT_TAIL:],
            )
        return parse_output(self._read(), code, self.what)

    def kill(self) -> None:
        """Kill the process and everything it started."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)

    def _read(self) -> str:
        try:
            self._out.seek(0)
            return self._out.read().decode("utf-8", errors="replace")
        finally:
            self._out.close()


class SubprocessSensorRunner:
    """Starts sensor evaluations as ``python -m catchment.sensors.host`` processes."""

    def __init__(self, project_root: Path, *, python: str | None = None):
        self.project_root = project_root
        self.python = python or sys.executable

    def start(
        self, function: str, context: SensorContext, now: float, timeout: float
    ) -> SensorProcess:
        """Start evaluating ``function`` with ``context``; returns at once."""
        job = {
            "function": function,
            "context": msgspec.to_builtins(context),
            "project_root": str(self.project_root),
        }
        command = [self.python, "-m", "catchment.sensors.host"]
        return self.spawn(command, self.project_root, job, context, now, timeout)

    def spawn(
        self,
        command: list[str],
        cwd: Path,
        job: dict[str, Any],
        context: SensorContext,
        now: float,
        timeout: float,
    ) -> SensorProcess:
        """Start ``command`` (a ``catchment.sensors.host``) in ``cwd`` with ``job`` on stdin."""
        out = tempfile.TemporaryFile()  # noqa: SIM115 - read and closed by SensorProcess
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        assert proc.stdin is not None
        try:
            proc.stdin.write(json.dumps(job).encode())
            proc.stdin.close()
        except BrokenPipeError:  # it died at once; poll reports what it printed
            pass
        return SensorProcess(proc, out, now, timeout, f"sensor {context.sensor_name}")

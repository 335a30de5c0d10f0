"""The shared tool-subprocess runner: output streaming, the deadline that kills the whole
process group, the report of a silent tool, and clean-up however the caller leaves."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

import pytest
from catchment.timeouts import StepTimeout
from catchment.toolprocess import ToolProcess, line_text

PY = sys.executable


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); it is dead for our purposes
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _dies_soon(pid: int, within: float = 5.0) -> bool:
    """Whether ``pid`` is gone (or a zombie) within ``within`` seconds: a process killed by
    its group's SIGKILL is dead once the kernel has run it, a moment later on a loaded box."""
    end = time.monotonic() + within
    while _alive(pid):
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


class Recorder:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def debug(self, msg: str, *args: object) -> None:
        self.lines.append(msg % args)

    info = warning = error = debug


def test_streams_stdout_and_stderr_lines_and_returns_the_exit_code() -> None:
    script = "import sys; print('one'); print('two', file=sys.stderr); print('three'); sys.exit(3)"
    with ToolProcess([PY, "-c", script], label="t") as tool:
        got = [(name, line_text(line)) for item in tool.lines() if item for name, line in [item]]
    assert sorted(got) == [("stderr", "two"), ("stdout", "one"), ("stdout", "three")]
    assert tool.returncode == 3


def test_deadline_kills_the_whole_process_group_and_raises_timed_out(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # the tool starts a grandchild that would outlive it, then both hang
    script = (
        "import os, subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
        "print('started', flush=True)\n"
        "time.sleep(60)\n"
    )
    start = time.monotonic()
    with (
        pytest.raises(StepTimeout) as caught,
        ToolProcess(
            [PY, "-c", script], label="slowtool", deadline=time.monotonic() + 1.0, limit=1.0
        ) as tool,
    ):
        for _ in tool.lines():
            pass
    assert time.monotonic() - start < 10
    assert "slowtool timed out after 1 s" in str(caught.value)
    assert "process group" in str(caught.value)
    leader, grandchild = map(int, pids.read_text().split())
    assert not _alive(leader)
    assert _dies_soon(grandchild)  # not waited for by anyone: it may lag the kill


def test_a_tool_that_ignores_sigterm_is_killed_after_the_grace() -> None:
    script = (
        "import signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\n"
        "time.sleep(60)\n"
    )
    tool = ToolProcess(
        [PY, "-c", script], label="stubborn", deadline=time.monotonic() + 0.5, kill_grace=0.3
    )

    def read() -> None:
        with tool:
            for _ in tool.lines():
                pass

    with pytest.raises(StepTimeout):
        read()
    assert tool.returncode == -9


def test_silence_is_reported_once_per_quiet_spell_on_a_fake_clock() -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 25.0  # every look at the clock: 25 s later
        return now[0]

    log = Recorder()
    script = "import time; time.sleep(0.6); print('late', flush=True)"
    with ToolProcess(
        [PY, "-c", script], label="sling", quiet_after=60.0, log=log, clock=clock
    ) as tool:
        lines = [line_text(i[1]) for i in tool.lines() if i]
    assert lines == ["late"]
    assert log.lines, "a silent tool must be reported"
    first = log.lines[0]
    assert first.startswith("no output from sling for ")
    assert f"(still running, pid {tool.pid})" in first
    assert tool.quiet_reports == len(log.lines)


def test_leaving_early_kills_the_group(tmp_path: Path) -> None:
    script = "import time; print('x', flush=True); time.sleep(60)"
    tool = ToolProcess([PY, "-c", script], label="t")

    def leave() -> None:
        with tool:
            for _ in tool.lines():
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        leave()
    assert not _alive(tool.pid)
    assert tool.returncode is not None


def test_children_holding_the_output_open_do_not_keep_the_reader_waiting() -> None:
    script = (
        "import subprocess, sys\n"
        "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        "print('bye', flush=True)\n"
    )
    start = time.monotonic()
    with ToolProcess([PY, "-c", script], label="t", orphan_grace=0.3) as tool:
        lines = [line_text(i[1]) for i in tool.lines() if i]
    assert lines == ["bye"]
    assert time.monotonic() - start < 10
    assert tool.returncode == 0


def test_a_missing_program_is_one_clear_error() -> None:
    from catchment.errors import ExecutionError

    with pytest.raises(ExecutionError, match="cannot start mytool"):
        ToolProcess(["/nonexistent/mytool"], label="mytool").start()


# A tool that waits on a child, and goes on waiting after the child died: what Sling 1.4 does
# when its DuckDB CLI exits early.
_WEDGED = (
    "import subprocess, sys, time\n"
    "subprocess.run([sys.executable, '-c', 'import time; time.sleep(0.5)'])\n"
    "time.sleep(600)\n"
)


def test_a_tool_silent_after_its_child_exited_is_killed_as_stalled() -> None:
    from catchment.toolprocess import ToolStalled

    start = time.monotonic()
    tool = ToolProcess(
        [PY, "-c", _WEDGED], label="sling", stall_after_child_exit=1.0, stall_hint="look here"
    )
    with pytest.raises(ToolStalled) as caught, tool:
        list(tool.lines())
    assert time.monotonic() - start < 20
    message = caught.value.message
    assert "sling stopped answering: its child process python" in message
    assert "printed nothing for 1 s since" in message
    assert f"killed sling (pid {tool.pid}) and its process group" in message
    assert caught.value.hint == "look here"
    assert not _alive(tool.pid)


def test_a_tool_that_speaks_after_its_child_exited_is_not_stalled() -> None:
    script = _WEDGED.replace("time.sleep(600)", "time.sleep(0.3); print('done', flush=True)")
    with ToolProcess([PY, "-c", script], label="t", stall_after_child_exit=2.0) as tool:
        lines = [line_text(i[1]) for i in tool.lines() if i]
    assert lines == ["done"]
    assert tool.returncode == 0


def test_a_silent_tool_that_never_had_a_child_is_left_to_its_deadline() -> None:
    script = "import time; time.sleep(1.5); print('late', flush=True)"
    with ToolProcess([PY, "-c", script], label="t", stall_after_child_exit=0.2) as tool:
        lines = [line_text(i[1]) for i in tool.lines() if i]
    assert lines == ["late"]


# A tool whose child waits for input the tool never sends, while the tool waits too: what
# Sling 1.4 can do with a DuckDB CLI that is alive and waiting for its next command.
_DEADLOCKED = (
    "import subprocess, sys, time\n"
    "child = subprocess.Popen([sys.executable, '-c', 'import sys; sys.stdin.read()'],"
    " stdin=subprocess.PIPE)\n"
    "time.sleep(600)\n"
)


def test_a_silent_idle_tool_whose_child_waits_for_its_input_is_killed_as_stalled() -> None:
    from catchment.toolprocess import ToolStalled

    start = time.monotonic()
    tool = ToolProcess([PY, "-c", _DEADLOCKED], label="sling", stall_when_idle=1.0)
    with pytest.raises(ToolStalled) as caught, tool:
        list(tool.lines())
    assert time.monotonic() - start < 20
    message = caught.value.message
    assert "sling stopped answering: no output and next to no CPU used for 1 s" in message
    assert "python" in message
    assert "waited for input from it" in message
    assert not _alive(tool.pid)


def test_a_stalled_tool_is_asked_for_a_dump_before_it_is_killed() -> None:
    """With ``stall_dump_signal``, the tool gets that signal first (SIGQUIT: a Go program
    prints its goroutines) and what it prints on stderr comes with the error."""
    from catchment.toolprocess import ToolStalled

    script = (
        "import os, signal, sys\n"
        "def dump(*_):\n"
        "    sys.stderr.write('goroutine 1 [select]:\\nmain.wait()\\n'); sys.stderr.flush()\n"
        "    os._exit(2)\n"
        "signal.signal(signal.SIGQUIT, dump)\n" + _DEADLOCKED
    )
    tool = ToolProcess(
        [PY, "-c", script], label="sling", stall_when_idle=1.0, stall_dump_signal=signal.SIGQUIT
    )
    with pytest.raises(ToolStalled) as caught, tool:
        list(tool.lines())
    assert caught.value.dump == "goroutine 1 [select]:\nmain.wait()"
    assert not _alive(tool.pid)


def test_a_silent_tool_whose_child_works_is_not_idle() -> None:
    busy = "import time; t = time.time()\nwhile time.time() - t < 2: pass"
    script = (
        "import subprocess, sys\n"
        f"subprocess.run([sys.executable, '-c', {busy!r}])\n"
        "print('done', flush=True)\n"
    )
    with ToolProcess([PY, "-c", script], label="t", stall_when_idle=0.5) as tool:
        lines = [line_text(i[1]) for i in tool.lines() if i]
    assert lines == ["done"]


def test_a_silent_idle_tool_with_no_child_is_left_to_its_deadline() -> None:
    script = "import time; time.sleep(1.5); print('late', flush=True)"
    with ToolProcess([PY, "-c", script], label="t", stall_when_idle=0.2) as tool:
        lines = [line_text(i[1]) for i in tool.lines() if i]
    assert lines == ["late"]

"""The DuckDB IO manager's hint matches the cause, each cause made real: a full disk (a file
size limit, RLIMIT_FSIZE, in a child process: the kernel answers EFBIG exactly where a full
disk answers ENOSPC; no tmpfs or mock needed), a folder that cannot be written (``/sys``,
read-only for everyone, root included), a corrupt file, a file locked by another process,
and a table whose columns changed."""

from __future__ import annotations

import fcntl
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from catchment.errors import ExecutionError
from catchment.io import InputContext, OutputContext
from catchment.io_managers import DuckDBIOManager
from catchment.specs import spec

SCHEMA_HINT = "if the columns changed"
LOCK_HINT = "another process holds the file"


def _out(key: str = "a", partition: str | None = None) -> OutputContext:
    s = spec(key)
    return OutputContext(
        key=s.key,
        spec=s,
        run_id="r",
        partition_key=partition,
        partition_keys=(partition,) if partition else (),
    )


def test_a_full_disk_says_the_disk_is_full(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    code = textwrap.dedent(
        f"""
        import resource, signal
        import pandas as pd
        from catchment.errors import ExecutionError
        from catchment.io import OutputContext
        from catchment.io_managers import DuckDBIOManager
        from catchment.specs import spec
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
        resource.setrlimit(resource.RLIMIT_FSIZE, (300_000, 300_000))
        s = spec("big")
        frame = pd.DataFrame({{"a": range(200_000), "b": ["x" * 50] * 200_000}})
        try:
            DuckDBIOManager({str(db)!r}).handle_output(
                OutputContext(key=s.key, spec=s, run_id="r"), frame
            )
        except ExecutionError as exc:
            print("MESSAGE", exc.message)
            print("HINT", exc.hint)
        """
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "MESSAGE" in done.stdout, done.stdout + done.stderr
    assert "File too large" in done.stdout
    assert "is full" in done.stdout
    assert SCHEMA_HINT not in done.stdout
    assert LOCK_HINT not in done.stdout
    assert "Stack Trace" not in done.stdout


def test_an_unwritable_place_says_it_cannot_be_written() -> None:
    if not Path("/sys").is_dir():
        pytest.skip("no /sys")
    io = DuckDBIOManager("/sys/catchment-test/w.duckdb")
    with pytest.raises(ExecutionError) as info:
        io.handle_output(_out(), pd.DataFrame({"v": [1]}))
    assert info.value.hint is not None
    assert "cannot be written" in info.value.hint
    assert LOCK_HINT not in info.value.hint


def test_a_corrupt_file_says_it_is_damaged(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    db.write_bytes(b"not a database " * 1000)
    io = DuckDBIOManager(db, lock_timeout=0)
    for call in (
        lambda: io.handle_output(_out(), pd.DataFrame({"v": [1]})),
        lambda: io.load_input(InputContext(key=spec("a").key, spec=spec("a"))),
    ):
        with pytest.raises(ExecutionError) as info:
            call()
        assert info.value.hint is not None
        assert "damaged or not a DuckDB file" in info.value.hint
        assert LOCK_HINT not in info.value.hint


def test_a_locked_file_says_another_process_holds_it(tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    DuckDBIOManager(db).handle_output(_out(), pd.DataFrame({"v": [1]}))
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys, time; c = duckdb.connect({str(db)!r}); print('held', flush=True);"
            " sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ExecutionError) as info:
            DuckDBIOManager(db, lock_timeout=0.2).handle_output(_out(), pd.DataFrame({"v": [1]}))
        assert info.value.hint is not None
        assert LOCK_HINT in info.value.hint
    finally:
        holder.kill()
        holder.wait()
    assert fcntl  # the lock is the kernel's (fcntl) lock DuckDB takes


def test_changed_columns_keep_the_schema_hint(tmp_path: Path) -> None:
    io = DuckDBIOManager(tmp_path / "w.duckdb")
    io.handle_output(_out("p", "2024-01-01"), pd.DataFrame({"v": [1]}))
    with pytest.raises(ExecutionError) as info:
        io.handle_output(_out("p", "2024-01-02"), pd.DataFrame({"w": ["x"], "z": [2]}))
    assert info.value.hint is not None
    assert SCHEMA_HINT in info.value.hint

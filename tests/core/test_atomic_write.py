"""Atomic writes: readers never see half a file, concurrent writers never fail each other, and
a failed write leaves the old file and no temporary file behind."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

import pytest
from catchment.atomic_write import write_atomic, write_cache


def test_writes_the_data_creating_the_folder_owner_only(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "entry.msgpack"
    write_atomic(target, b"first")
    write_atomic(target, b"second, longer")
    assert target.read_bytes() == b"second, longer"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["entry.msgpack"]


def _write_many(path: str, fill: int, times: int) -> None:
    body = bytes([fill]) * 200_000
    for _ in range(times):
        write_atomic(Path(path), body)


def test_two_processes_writing_one_file_never_fail_or_tear_it(tmp_path: Path) -> None:
    # The bug this replaced: writers sharing one fixed temporary name, so one writer's rename
    # raised FileNotFoundError (the other had renamed it) or renamed the other's half-file.
    target = tmp_path / "shared.bin"
    write_atomic(target, b"\x00" * 200_000)
    ctx = multiprocessing.get_context("spawn")
    writers = [ctx.Process(target=_write_many, args=(str(target), n, 150)) for n in (1, 2)]
    for w in writers:
        w.start()
    seen = set()
    while any(w.is_alive() for w in writers):
        data = target.read_bytes()
        assert len(data) == 200_000, "a reader saw a torn file"
        assert len(set(data)) == 1, "a reader saw two writers' data in one file"
        seen.add(data[0])
    for w in writers:
        w.join(timeout=30)
        assert w.exitcode == 0
    assert len(set(target.read_bytes())) == 1
    assert seen, "the reader saw the file while the writers ran"
    assert [p.name for p in tmp_path.iterdir()] == ["shared.bin"]


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "entry"
    target.mkdir()  # a folder where the file should go: the rename fails
    with pytest.raises(OSError):
        write_atomic(target, b"data")
    assert [p.name for p in tmp_path.iterdir()] == ["entry"]
    assert target.is_dir()


def test_write_cache_reports_a_failure_instead_of_raising(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"x")
    assert write_cache(blocker / "entry", b"data") is False
    assert write_cache(tmp_path / "ok" / "entry", b"data") is True
    assert (tmp_path / "ok" / "entry").read_bytes() == b"data"

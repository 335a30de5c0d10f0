"""A real Dask cluster for tests: a `dask scheduler` and `dask worker` processes on 127.0.0.1
(free ports), started as subprocesses in their own sessions and killed with their groups."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

BIN = str(Path(sys.executable).parent)
ENV = {
    **os.environ,
    "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
    "DO_NOT_TRACK": "1",
    "RUNTIME__DLTHUB_TELEMETRY": "false",
    "SLING_DISABLE_TELEMETRY": "true",
    "DASK_DISTRIBUTED__WORKER__DAEMON": "False",
}


def wait_for(what: str, ready: object, timeout: float, *alive: subprocess.Popen[bytes]) -> None:
    """Poll ``ready()`` until true; fail naming ``what`` if a process died or time ran out."""
    end = time.monotonic() + timeout
    while not ready():  # type: ignore[operator]
        for proc in alive:
            if proc.poll() is not None:
                pytest.fail(f"{what}: process {proc.args!r} exited with {proc.returncode}")
        if time.monotonic() > end:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.05)


class Cluster:
    """A scheduler and ``workers`` workers of ``nthreads`` threads started as subprocesses;
    everything is killed in ``stop``. Without ``nanny`` a killed worker stays dead; with it,
    each `dask worker` process is a nanny that starts (and restarts) its worker process."""

    def __init__(self, folder: Path, *, workers: int = 2, nthreads: int = 1, nanny: bool = False):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.file = folder / "scheduler.json"
        self.logs: list[Path] = []
        self.scheduler = self._start(
            "scheduler",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--dashboard-address",
            "127.0.0.1:0",
            "--scheduler-file",
            str(self.file),
        )
        wait_for("scheduler file", self.file.exists, 120, self.scheduler)
        wait_for("scheduler address", lambda: "address" in self.file.read_text(), 30)
        self.address: str = json.loads(self.file.read_text())["address"]
        self.workers = [
            self._start(
                f"worker{i}",
                "worker",
                self.address,
                "--nthreads",
                str(nthreads),
                "--nworkers",
                "1",
                "--nanny" if nanny else "--no-nanny",
                "--dashboard-address",
                "127.0.0.1:0",
                "--host",
                "127.0.0.1",
                "--death-timeout",
                "60",
            )
            for i in range(workers)
        ]
        self._wait_workers(workers)

    def _start(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        log = self.folder / f"{name}.log"
        self.logs.append(log)
        with open(log, "wb") as out:
            return subprocess.Popen(
                [sys.executable, "-m", "dask", *args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env=ENV,
                start_new_session=True,
            )

    def _wait_workers(self, n: int) -> None:
        from distributed import Client

        with Client(self.address, timeout="30s") as client:
            client.wait_for_workers(n, timeout=180)

    def worker_pids(self) -> set[int]:
        """The pids of the worker processes connected now (under a nanny, its child)."""
        from distributed import Client

        with Client(self.address, timeout="30s") as client:
            return set(client.run(os.getpid).values())

    def kill_worker(self, pid: int) -> None:
        """SIGKILL the worker process ``pid`` (one of ours) and reap it."""
        worker = next(w for w in self.workers if w.pid == pid)
        os.kill(pid, signal.SIGKILL)
        worker.wait(timeout=30)

    def kill_scheduler(self) -> None:
        """SIGKILL the scheduler (first, so it cannot move a task to another worker)."""
        os.killpg(self.scheduler.pid, signal.SIGKILL)
        self.scheduler.wait(timeout=30)

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=30)

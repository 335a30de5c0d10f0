"""The launch seam: how a queued run gets a process of its own.

``SubprocessLauncher`` starts ``catchment runs execute RUN_ID`` detached from the caller (its
own session and process group, output to ``.catchment/logs/runs/RUN_ID.log``), so the run
outlives the daemon or UI that asked for it. The daemon launches every run through one
``Launcher``; the run queue (which orders runs and enforces limits) sits in front of it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Protocol

from catchment.storage import RunRecord


class Launcher(Protocol):
    """Starts queued runs somewhere; ``launch`` returns at once."""

    def launch(self, run: RunRecord) -> None:
        """Start a process that claims and executes ``run``."""
        ...


def run_log_path(root: Path, run_id: str) -> Path:
    """Where the output of a launched run's process goes."""
    return root / ".catchment" / "logs" / "runs" / f"{run_id}.log"


class SubprocessLauncher:
    """Launch each run as ``python -m catchment runs execute RUN_ID --project ROOT`` in a new
    session. Finished children are reaped on the next ``launch`` or ``reap``."""

    def __init__(self, project_root: Path, *, python: str | None = None):
        self.project_root = project_root
        self.python = python or sys.executable
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    def command(self, run_id: str) -> list[str]:
        """The command line that executes ``run_id``."""
        root = str(self.project_root)
        return [self.python, "-m", "catchment", "runs", "execute", run_id, "--project", root]

    def launch(self, run: RunRecord) -> None:
        self.reap()
        log = run_log_path(self.project_root, run.run_id)
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            self._children[run.run_id] = subprocess.Popen(
                self.command(run.run_id),
                cwd=self.project_root,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                env={**os.environ, "CATCHMENT_LAUNCHED_BY": str(os.getpid())},
            )

    def reap(self) -> list[str]:
        """Collect launched processes that have ended (no zombies); their run ids."""
        done = [run_id for run_id, p in self._children.items() if p.poll() is not None]
        for run_id in done:
            del self._children[run_id]
        return done

    @property
    def running(self) -> dict[str, int]:
        """run id -> pid of launched processes not yet reaped."""
        return {run_id: p.pid for run_id, p in self._children.items()}

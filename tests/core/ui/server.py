"""A real ``catchment ui`` subprocess on a free port, for the browser tests and the benchmark."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

CHROMIUM = Path("/usr/bin/chromium")


class UiServer:
    """``python -m catchment ui --port 0`` for ``root``; ``url`` once it printed it."""

    def __init__(self, root: Path, *args: str):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("PG_URL", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "catchment", "ui", "--project", str(root), "--port", "0", *args],
            cwd=root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        found = re.search(r"serving (http://\S+?)/", line)
        if not found:
            self.stop()
            raise AssertionError(f"catchment ui did not start: {line}")
        self.url = found.group(1)

    def get(self, path: str) -> Any:
        """GET ``path`` as JSON."""
        with urllib.request.urlopen(self.url + path, timeout=30) as r:
            return json.load(r)

    def wait_ready(self, timeout: float = 240) -> float:
        """Wait until the project is loaded; seconds waited."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.get("/api/health")["status"] == "ready":
                return time.monotonic() - t0
            time.sleep(0.2)
        raise AssertionError(f"the project did not load in {timeout} s: {self.get('/api/health')}")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)

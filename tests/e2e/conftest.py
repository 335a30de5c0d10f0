"""Helpers for the end-to-end tests: a clean copy of an example and the CLI in a subprocess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "platform"

# What runs of the example leave behind; a clean copy starts without them.
RUN_LEFTOVERS = shutil.ignore_patterns(
    "warehouse.duckdb*", ".catchment", "target", "logs", "features", ".fakesnow", "__pycache__"
)


@dataclass
class Cli:
    """``catchment`` run in a subprocess with the project folder as working directory."""

    root: Path

    def run(
        self, *args: str, ok: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        env = {k: v for k, v in os.environ.items() if k != "PG_URL"}
        env["COLUMNS"] = "200"
        done = subprocess.run(
            [sys.executable, "-m", "catchment", *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if ok:
            assert done.returncode == 0, (
                f"catchment {' '.join(args)} exited {done.returncode}\n"
                f"--- stdout\n{done.stdout[-6000:]}\n--- stderr\n{done.stderr[-6000:]}"
            )
        return done

    def json(self, *args: str) -> Any:
        return json.loads(self.run(*args, "--json").stdout)


@pytest.fixture
def platform(tmp_path: Path) -> Cli:
    """A fresh copy of examples/platform (no warehouse, no run records) and its CLI."""
    root = tmp_path / "platform"
    shutil.copytree(EXAMPLE, root, ignore=RUN_LEFTOVERS)
    return Cli(root)

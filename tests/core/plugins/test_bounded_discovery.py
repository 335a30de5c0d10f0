"""An adapter whose import or registration never returns cannot freeze catchment: with real
adapters installed through entry points, `plugins`, `check` and `materialize` answer within
the adapter time limit, show the adapter as failed ("timed out after N s while importing" /
"while registering"), and the healthy adapters work; CATCHMENT_ADAPTERS skips it entirely."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from catchment.plugins import PluginRegistry

HANGS_AT_IMPORT = "import time\ntime.sleep(1000)\n"

HANGS_WHILE_REGISTERING = """
import time
from catchment import AdapterInfo, hookimpl


@hookimpl
def catchment_adapter_info():
    return AdapterInfo(name="hangs_registering", version="0.1.0", api=">=1.0,<2")


@hookimpl
def catchment_component_types(register):
    time.sleep(1000)
"""

PROJECT = """
project:
  name: bounded
components:
  - type: healthy_tables
    name: tables
    attributes:
      tables: [a]
"""


def _install(site: Path, kit: Any) -> None:
    kit.write_adapter(site, "healthy", kit.healthy)
    kit.write_adapter(site, "hangs_importing", HANGS_AT_IMPORT)
    kit.write_adapter(site, "hangs_registering", HANGS_WHILE_REGISTERING)


def test_a_hanging_adapter_is_failed_after_the_limit_and_the_rest_load(
    site: Path, kit: Any
) -> None:
    _install(site, kit)
    registry = PluginRegistry(strict=False, allow=None, adapter_timeout=0.5)
    start = time.monotonic()
    registry.load_entry_points(kit.entry_points_in(site))
    assert time.monotonic() - start < 5
    records = {r.name: r for r in registry.adapters}
    assert records["healthy"].status == "ok"
    assert "healthy_tables" in registry.component_types
    importing, registering = records["hangs_importing"], records["hangs_registering"]
    assert (importing.status, importing.error) == (
        "failed",
        "timed out after 0.5 s while importing",
    )
    assert (registering.status, registering.error) == (
        "failed",
        "timed out after 0.5 s while registering",
    )
    assert "CATCHMENT_ADAPTERS" in (importing.hint or "")
    assert not registry.pm.is_registered(sys.modules.get("catchment_hangs_registering"))


@pytest.mark.slow  # starts the CLI in subprocesses
def test_the_cli_answers_and_names_the_hanging_adapters(
    tmp_path: Path, site: Path, kit: Any
) -> None:
    _install(site, kit)
    root = tmp_path / "project"
    root.mkdir()
    (root / "catchment.yaml").write_text(textwrap.dedent(PROJECT))

    def cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
        environ = {k: v for k, v in os.environ.items() if not k.startswith("CATCHMENT_")}
        environ["PYTHONPATH"] = os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")])
        environ["CATCHMENT_ADAPTER_TIMEOUT"] = "1"
        environ.update(env)
        return subprocess.run(
            [sys.executable, "-m", "catchment", *args],
            cwd=root,
            env=environ,
            capture_output=True,
            text=True,
            timeout=60,
        )

    start = time.monotonic()
    plugins = {p["name"]: p for p in json.loads(cli("plugins", "--json").stdout)}
    assert plugins["hangs_importing"]["status"] == "failed"
    assert plugins["hangs_importing"]["error"] == "timed out after 1 s while importing"
    assert plugins["hangs_registering"]["error"] == "timed out after 1 s while registering"
    assert plugins["healthy"]["status"] == "ok"

    check = cli("check")
    assert check.returncode == 1
    assert "adapter hangs_importing" in check.stderr
    assert "timed out after 1 s while importing" in check.stderr

    run = cli("materialize")
    assert "healthy/a" in run.stdout, run.stdout + run.stderr
    assert "timed out after 1 s while registering" in run.stderr
    assert time.monotonic() - start < 45

    skipped = cli("check", CATCHMENT_ADAPTERS="healthy")
    assert skipped.returncode == 0, skipped.stderr
    assert "timed out" not in skipped.stdout + skipped.stderr

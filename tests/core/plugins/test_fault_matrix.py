"""The fault-injection matrix through the real CLI: a broken adapter installed next to a healthy
one (real dist-info + entry_points.txt on PYTHONPATH) shows in `catchment plugins` with its
error, every healthy asset is still listed (exit 0), and `catchment check` exits 1 naming it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow  # starts the CLI in subprocesses

PROJECT = """
project:
  name: matrix
components:
  - type: python
    name: local
    attributes:
      module: assets.py
  - type: healthy_tables
    name: tables
    attributes:
      tables: [a, b, c]
"""

ASSETS = """
from catchment import asset

@asset
def orders():
    return [1, 2, 3]

@asset
def order_count(orders):
    return len(orders)
"""

EXPECTED_KEYS = {"orders", "order_count", "healthy/a", "healthy/b", "healthy/c"}


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    root.mkdir()
    (root / "catchment.yaml").write_text(textwrap.dedent(PROJECT))
    (root / "assets.py").write_text(textwrap.dedent(ASSETS))
    return root


def _cli(site: Path, cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("CATCHMENT_")}
    environ["PYTHONPATH"] = os.pathsep.join(
        [str(site), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    environ.update(env)
    return subprocess.run(
        [sys.executable, "-m", "catchment", *args],
        cwd=cwd,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_healthy_baseline_checks_clean(tmp_path: Path, site: Path, kit: Any) -> None:
    kit.write_adapter(site, "healthy", kit.healthy)
    root = _project(tmp_path)
    check = _cli(site, root, "check")
    assert check.returncode == 0, check.stderr
    assert "OK matrix: 5 assets" in check.stdout
    keys = {a["key"] for a in _json(_cli(site, root, "assets", "list", "--json"))}
    assert keys == EXPECTED_KEYS


def test_broken_adapter_is_reported_and_the_rest_works(
    tmp_path: Path, site: Path, kit: Any, broken: str
) -> None:
    source, status, fragment = kit.broken[broken]
    kit.write_adapter(site, "healthy", kit.healthy)
    kit.write_adapter(site, broken, source)
    root = _project(tmp_path)

    plugins = {p["name"]: p for p in _json(_cli(site, root, "plugins", "--json"))}
    assert plugins["healthy"]["status"] == "ok"
    assert plugins["healthy"]["component_types"] == ["healthy_tables"]
    assert plugins[broken]["status"] == status
    assert fragment in plugins[broken]["error"]
    assert plugins[broken]["distribution"] == f"catchment-{broken.replace('_', '-')}"
    assert set(plugins[broken]) >= {"name", "distribution", "version", "api", "status"}

    table = _cli(site, root, "plugins")
    assert table.returncode == 0
    assert broken in table.stdout

    assets = _json(_cli(site, root, "assets", "list", "--json"))
    assert {a["key"] for a in assets} == EXPECTED_KEYS
    by_key = {a["key"]: a for a in assets}
    assert by_key["healthy/a"]["component"] == "tables"
    assert by_key["order_count"]["deps"] == ["orders"]

    check = _cli(site, root, "check")
    assert check.returncode == 1
    assert f"adapter {broken}" in check.stderr
    assert fragment in check.stderr
    assert "Traceback" not in check.stderr + check.stdout


def test_allowlist_and_strict_mode_from_the_environment(
    tmp_path: Path, site: Path, kit: Any
) -> None:
    kit.write_adapter(site, "healthy", kit.healthy)
    kit.write_adapter(site, "import_error", kit.broken["import_error"][0])
    root = _project(tmp_path)

    allowed = _cli(site, root, "plugins", "--json", CATCHMENT_ADAPTERS="healthy")
    plugins = {p["name"]: p["status"] for p in _json(allowed)}
    ours = {name: plugins.pop(name, None) for name in ("builtin", "healthy", "import_error")}
    assert ours == {"builtin": "ok", "healthy": "ok", "import_error": "disabled"}
    # Adapters installed in the environment besides the test's own are left out too.
    assert set(plugins.values()) <= {"disabled"}, plugins
    check = _cli(site, root, "check", CATCHMENT_ADAPTERS="healthy")
    assert check.returncode == 0, check.stderr

    strict = _cli(site, root, "plugins", CATCHMENT_STRICT="1")
    assert strict.returncode != 0
    assert "catchment_no_such_dependency_xyz" in strict.stderr

"""The pip path, as practitioners meet catchment: every distribution built as a wheel,
installed into a fresh virtual environment with the development constraints (packages from
the registry, nothing downloaded elsewhere), then the scaffold and the example platform (one
project using every adapter: dbt, dlt, Sling, Spark, Modal, Snowflake through fakesnow) run
with nothing but what was installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ADAPTERS = sorted(p.parent for p in (REPO / "adapters").glob("*/pyproject.toml"))
UV = shutil.which("uv", path=str(REPO / ".venv" / "bin")) or shutil.which("uv")
LEFTOVERS = shutil.ignore_patterns(
    "warehouse.duckdb*", ".catchment", "target", "logs", "features", ".fakesnow", "__pycache__"
)


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 900) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args}\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.timeout(2400)
def test_wheels_in_a_fresh_venv_run_the_scaffold_and_every_adapter(tmp_path: Path) -> None:
    if UV is None:
        pytest.skip("uv is not installed (scripts/bootstrap.sh installs it)")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CATCHMENT_", "VIRTUAL_ENV"))}
    env.update(
        DO_NOT_TRACK="1",
        RUNTIME__DLTHUB_TELEMETRY="false",
        SLING_DISABLE_TELEMETRY="true",
        SNOWFLAKE_DISABLE_PLATFORM_DETECTION="true",
        HOME=str(tmp_path / "home"),
        UV_CACHE_DIR=os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")),
    )
    (tmp_path / "home").mkdir()
    wheels = tmp_path / "wheels"
    for dist in [REPO / "core", *ADAPTERS]:
        _run([UV, "build", "--wheel", "--out-dir", str(wheels), str(dist)], REPO, env)
    core_wheel = next(wheels.glob("catchment-*.whl"))
    venv = tmp_path / "venv"
    _run([UV, "venv", "-q", "--python", sys.executable, str(venv)], tmp_path, env)
    python = str(venv / "bin" / "python")
    bin_env = {**env, "PATH": f"{venv / 'bin'}:{env['PATH']}", "VIRTUAL_ENV": str(venv)}
    install = [UV, "pip", "install", "-q", "--python", python, "-c", str(REPO / "constraints.txt")]

    # 1. the documented install for a new project, then the scaffold runs as generated
    _run([*install, f"catchment[pandas] @ {core_wheel.as_uri()}"], tmp_path, env)
    _run(["catchment", "new", "project", "p"], tmp_path, bin_env)
    out = _run(["catchment", "materialize"], tmp_path / "p", bin_env)
    assert "2 materialized" in out or "materialized" in out

    # 2. every adapter from its wheel; each loads, and a project using all of them runs
    # each adapter with the extra its README names for this example's DuckDB / emulator use
    extras = {
        "dbt": "[duckdb]",
        "sling": "[duckdb]",
        "snowflake": "[emulator]",
        "spark": "[duckdb]",
    }
    adapter_wheels = []
    for wheel in sorted(wheels.glob("catchment_*.whl")):
        tool = wheel.name.split("-")[0].removeprefix("catchment_")
        adapter_wheels.append(f"catchment-{tool}{extras.get(tool, '')} @ {wheel.as_uri()}")
    assert len(adapter_wheels) == len(ADAPTERS)
    requirements = [f"catchment[pandas] @ {core_wheel.as_uri()}", *adapter_wheels]
    _run([*install, *requirements], tmp_path, env)
    plugins = _run(["catchment", "plugins"], tmp_path, bin_env)
    for adapter in ADAPTERS:
        assert adapter.name in plugins
    assert "failed" not in plugins
    platform = tmp_path / "platform"
    shutil.copytree(REPO / "examples" / "platform", platform, ignore=LEFTOVERS)
    assert _run(["catchment", "check"], platform, bin_env).startswith("OK platform:")
    _run(["catchment", "materialize"], platform, bin_env, timeout=1200)

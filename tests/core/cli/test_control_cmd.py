"""`catchment schedules list` and `catchment sensors list` answer from a warm definitions
snapshot: the same bytes as after a load, with neither the project's modules nor the tools
they import loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from catchment.cli.main import app
from typer.testing import CliRunner

YAML = """\
project: {name: shop}
io_managers: {default: {type: memory}}
components: [{type: python, name: core, attributes: {module: shop_assets.py}}]
schedules:
  - name: nightly
    cron: "0 3 * * *"
    timezone: Europe/Berlin
    assets: [orders]
sensors:
  - module: shop_sensors.py
  - name: landing
    type: files
    path: landing
    pattern: "%Y/%m/%d"
    assets: [orders]
    interval: 1m
"""

ASSETS = """\
import duckdb  # a tool: a load imports it, the snapshot must not

from catchment import asset

@asset
def orders():
    return [1]
"""

SENSORS = """\
from catchment.sensors import SensorResult, sensor

@sensor(asset_keys=["orders"], interval=15)
def new_files(context):
    return SensorResult(cursor="1")
"""

COMMANDS = (["schedules", "list", "--json"], ["sensors", "list", "--json"])
TOOLS = ("duckdb", "pandas", "dbt", "dlt", "shop_assets", "shop_sensors")


def _project(root: Path) -> Path:
    (root / "catchment.yaml").write_text(YAML)
    (root / "shop_assets.py").write_text(ASSETS)
    (root / "shop_sensors.py").write_text(SENSORS)
    for p in root.rglob("*"):  # older than the racy window: the key is by stat alone
        os.utime(p, (p.stat().st_atime - 60, p.stat().st_mtime - 60))
    return root


def test_schedules_and_sensors_list_read_a_warm_snapshot_without_tool_or_user_code(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    cold = []
    for args in COMMANDS:  # the first loads the project and writes the snapshot
        result = CliRunner().invoke(app, [*args, "-p", str(root)])
        assert result.exit_code == 0, result.output
        cold.append(result.output)
    assert (root / ".catchment" / "definitions.snapshot").is_file()
    code = textwrap.dedent(
        f"""
        import json, sys
        from typer.testing import CliRunner
        from catchment.cli.main import app
        outputs = []
        for args in {list(COMMANDS)!r}:
            r = CliRunner().invoke(app, [*args, "-p", {str(root)!r}])
            assert r.exit_code == 0, r.output
            outputs.append(r.output)
        print(json.dumps({{
            "outputs": outputs,
            "imported": sorted(m for m in sys.argv[1:] if m in sys.modules),
            "loader": "catchment.project.loader" in sys.modules,
        }}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code, *TOOLS],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    warm = json.loads(done.stdout)
    assert warm["outputs"] == cold
    assert warm["imported"] == []
    assert warm["loader"] is False
    schedules, sensors = (json.loads(out) for out in cold)
    assert [s["name"] for s in schedules] == ["nightly"]
    assert sorted(s["name"] for s in sensors) == ["landing", "new_files"]


def test_no_cache_loads_the_project_instead_of_the_snapshot(tmp_path: Path) -> None:
    import msgspec
    from catchment.snapshot import decode, encode, snapshot_path

    root = _project(tmp_path)
    runner = CliRunner()
    assert runner.invoke(app, ["sensors", "list", "-p", str(root)]).exit_code == 0
    path = snapshot_path(root / "catchment.yaml")
    path.write_bytes(encode(msgspec.structs.replace(decode(path.read_bytes()), sensors=())))
    hit = runner.invoke(app, ["sensors", "list", "--json", "-p", str(root)])
    assert json.loads(hit.output) == []  # what the (edited) snapshot says
    fresh = runner.invoke(app, ["sensors", "list", "--json", "--no-cache", "-p", str(root)])
    assert fresh.exit_code == 0, fresh.output
    assert sorted(s["name"] for s in json.loads(fresh.output)) == ["landing", "new_files"]
    assert len(decode(path.read_bytes()).sensors) == 2  # and the snapshot was rewritten


def test_no_schedules_points_to_cron_automation_conditions(tmp_path: Path) -> None:
    """A project that runs assets on a cron through `on_cron(...)` has no schedules: the empty
    list says where those crons are shown instead of leaving the reader to guess."""
    (tmp_path / "shop_assets.py").write_text(
        "from catchment import asset\n\n@asset\ndef orders():\n    return 1\n"
    )
    (tmp_path / "catchment.yaml").write_text(
        "project: {name: shop}\n"
        "components: [{type: python, name: core, attributes: {module: shop_assets.py}}]\n"
    )
    result = CliRunner().invoke(app, ["schedules", "list", "-p", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "no schedules" in result.stdout
    assert "`catchment automation list`" in result.stdout

"""The snapshot cache: a hit rebuilds the same graph without importing the user's code; any
edit, an adapter upgrade or another environment invalidates it; a corrupt file is rebuilt
with a message; ``--no-cache`` loads afresh; a snapshot's definitions cannot run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from catchment.errors import CatchmentError
from catchment.snapshot import load_read_only, read_snapshot, snapshot_path
from catchment.snapshot.key import project_key

ASSETS = """
from catchment import asset, asset_check

@asset(group="sales")
def orders():
    return [1]

@asset
def revenue(orders):
    return 1

@asset_check(asset="orders")
def not_empty(orders):
    return True
"""


def _project(root: Path) -> Path:
    (root / "catchment.yaml").write_text(
        "project: {name: shop}\n"
        "io_managers: {default: {type: memory}}\n"
        "components: [{type: python, name: core, attributes: {module: shop_assets.py}}]\n"
    )
    (root / "shop_assets.py").write_text(ASSETS)
    return root


def _age(root: Path) -> None:
    """Make every file older than the racy window, so the key is by stat alone."""
    for p in root.rglob("*"):
        if p.is_file():
            os.utime(p, (p.stat().st_atime - 60, p.stat().st_mtime - 60))


def _messages() -> tuple[list[str], object]:
    said: list[str] = []
    return said, said.append


def test_a_hit_rebuilds_the_same_graph_without_importing_the_users_module(
    tmp_path: Path,
) -> None:
    root = _project(tmp_path)
    _age(root)
    fresh = load_read_only(root)
    assert not fresh.from_snapshot
    assert snapshot_path(root / "catchment.yaml").is_file()
    code = textwrap.dedent(
        f"""
        import json, sys
        from catchment.snapshot import load_read_only
        p = load_read_only({str(root)!r})
        g = p.graph
        print(json.dumps({{
            "hit": p.from_snapshot,
            "keys": [k.to_string() for k in g],
            "checks": [c.name for c in g.checks_for("orders")],
            "component": g.definition_of("orders").component,
            "user": "shop_assets" in sys.modules,
            "pydantic": "pydantic" in sys.modules,
        }}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    seen = json.loads(out.stdout)
    assert seen["hit"] is True
    assert seen["keys"] == [k.to_string() for k in fresh.graph or ()]
    assert seen["checks"] == ["not_empty"]
    assert seen["component"] == "core"
    assert seen["user"] is False
    assert seen["pydantic"] is False


def test_editing_a_project_file_invalidates(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _age(root)
    load_read_only(root)
    assert load_read_only(root).from_snapshot
    (root / "shop_assets.py").write_text(ASSETS + "\n@asset\ndef extra():\n    return 2\n")
    project = load_read_only(root)
    assert not project.from_snapshot
    assert "extra" in (project.graph or ())


def test_a_same_size_edit_within_the_timestamp_granularity_invalidates(tmp_path: Path) -> None:
    root = _project(tmp_path)
    load_read_only(root)
    module = root / "shop_assets.py"
    stat = module.stat()
    module.write_text(ASSETS.replace('"sales"', '"sells"'))
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # same size, same mtime
    project = load_read_only(root)
    assert project.graph is not None
    assert (
        project.graph.specs[next(k for k in project.graph if k.name == "orders")].group == "sells"
    )


def test_files_runs_write_do_not_invalidate(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _age(root)
    load_read_only(root)
    (root / "warehouse.duckdb").write_bytes(b"x")
    (root / ".catchment" / "runs.db").write_bytes(b"x")
    (root / "target").mkdir()
    (root / "target" / "run_results.json").write_text("{}")
    assert load_read_only(root).from_snapshot


def test_upgrading_an_adapter_changes_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An upgrade (pip, uv) replaces the ``*.dist-info`` folder in the environment's package
    folder; here a stand-in package folder takes the place of the environment's."""
    import sysconfig

    (tmp_path / "p").mkdir()
    root = _project(tmp_path / "p")
    site = tmp_path / "site"
    info = site / "catchment_fake-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: catchment-fake\nVersion: 1.0\n")
    paths = {**sysconfig.get_paths(), "purelib": str(site), "platlib": str(site)}
    monkeypatch.setattr(sysconfig, "get_paths", lambda: paths)
    os.utime(site, ns=(1, 1_000_000_000))
    file = root / "catchment.yaml"
    before = project_key(file)
    assert project_key(file) == before
    info.rename(site / "catchment_fake-2.0.dist-info")
    assert project_key(file) != before


def test_another_environment_or_a_variable_the_file_reads_changes_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    file = root / "catchment.yaml"
    text = file.read_text().replace("module: shop_assets.py", "module: \"{{ env('SHOP_MOD') }}\"")
    file.write_text(text)
    monkeypatch.setenv("SHOP_MOD", "shop_assets.py")
    before = project_key(file)
    monkeypatch.setenv("SHOP_MOD", "other.py")
    assert project_key(file) != before
    monkeypatch.setenv("SHOP_MOD", "shop_assets.py")
    monkeypatch.setattr(sys, "prefix", "/elsewhere/venv")
    assert project_key(file) != before
    monkeypatch.undo()
    monkeypatch.setenv("SHOP_MOD", "shop_assets.py")
    assert project_key(file) == before
    (root / "uv.lock").write_text("version = 1\n")
    assert project_key(file) != before


def test_a_corrupt_snapshot_is_rebuilt_with_one_message(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _age(root)
    load_read_only(root)
    path = snapshot_path(root / "catchment.yaml")
    path.write_bytes(path.read_bytes()[:40])
    said: list[str] = []
    project = load_read_only(root, say=said.append)
    assert not project.from_snapshot
    assert len(said) == 1
    assert "corrupt" in said[0]
    assert str(path) in said[0]
    assert read_snapshot(root / "catchment.yaml", said.append) is not None  # rewritten


def test_no_cache_loads_afresh(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _age(root)
    load_read_only(root)
    assert not load_read_only(root, no_cache=True).from_snapshot
    assert load_read_only(root).from_snapshot


def test_a_snapshot_definition_cannot_run(tmp_path: Path) -> None:
    root = _project(tmp_path)
    _age(root)
    load_read_only(root)
    project = load_read_only(root)
    definition = project.graph.definition_of("orders") if project.graph else None
    assert definition is not None
    with pytest.raises(CatchmentError, match="snapshot and cannot run"):
        list(definition.compute(None))  # type: ignore[arg-type]


def test_problems_are_kept(tmp_path: Path) -> None:
    root = _project(tmp_path)
    yaml = root / "catchment.yaml"
    yaml.write_text(yaml.read_text() + "sensors_typo: 1\n")
    _age(root)
    first = load_read_only(root)
    again = load_read_only(root)
    assert again.from_snapshot
    assert [str(p) for p in again.problems] == [str(p) for p in first.problems]
    assert any("sensors_typo" in str(p) for p in again.problems)


def test_python_m_catchment_snapshot_prints_a_decodable_snapshot(tmp_path: Path) -> None:
    from catchment.snapshot import decode

    root = _project(tmp_path)
    out = subprocess.run(
        [sys.executable, "-m", "catchment.snapshot", str(root)],
        capture_output=True,
        timeout=120,
        check=True,
    )
    snapshot = decode(out.stdout)
    assert snapshot.name == "shop"
    assert {d.name for d in snapshot.definitions} >= {"orders", "revenue"}
    missing = subprocess.run(
        [sys.executable, "-m", "catchment.snapshot", str(tmp_path / "nowhere")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("error:")


def test_check_fast_reports_the_snapshots_problems(tmp_path: Path) -> None:
    from catchment.cli.main import app
    from typer.testing import CliRunner

    root = _project(tmp_path)
    yaml = root / "catchment.yaml"
    yaml.write_text(yaml.read_text() + "sensors_typo: 1\n")
    _age(root)
    first = CliRunner().invoke(app, ["check", "--fast", str(root)])
    again = CliRunner().invoke(app, ["check", "--fast", str(root)])
    assert first.exit_code == again.exit_code == 1
    assert "sensors_typo" in again.stderr
    assert again.stderr == first.stderr
    yaml.write_text(yaml.read_text().replace("sensors_typo: 1\n", ""))
    ok = CliRunner().invoke(app, ["check", "--fast", str(root)])
    assert ok.exit_code == 0, ok.output
    assert "2 assets, 1 check, 1 component (fresh load)" in ok.stdout
    ok = CliRunner().invoke(app, ["check", "--fast", str(root)])
    assert "(definitions snapshot)" in ok.stdout


SENSORS = """
from catchment.sensors import sensor

@sensor(asset_keys=["orders"], interval=15)
def new_files(context):
    return None
"""

CONTROL = """
resources:
  alerts: {type: webhook_alerts, config: {url: "http://127.0.0.1:9/hook"}}
schedules:
  - name: nightly
    cron: "0 3 * * *"
    timezone: Europe/Berlin
    assets: [orders]
    description: the nightly load
sensors:
  - module: shop_sensors.py
"""


def test_a_hit_serves_schedules_sensors_adapters_and_resources_without_user_code(
    tmp_path: Path,
) -> None:
    """What the UI and the daemon read besides the graph is in the snapshot (format 2)."""
    root = _project(tmp_path)
    (root / "catchment.yaml").write_text((root / "catchment.yaml").read_text() + CONTROL)
    (root / "shop_sensors.py").write_text(SENSORS)
    _age(root)
    fresh = load_read_only(root)
    assert not fresh.from_snapshot
    assert not fresh.problems, fresh.problems
    code = textwrap.dedent(
        f"""
        import json, sys
        from catchment.snapshot import load_read_only
        p = load_read_only({str(root)!r})
        print(json.dumps({{
            "hit": p.from_snapshot,
            "schedules": [(s.name, s.cron, s.timezone, s.asset_keys, s.description)
                          for s in p.schedules],
            "sensors": [(s.name, s.interval, s.function.rsplit(":", 1)[-1], s.asset_keys)
                        for s in p.sensors],
            "adapters": sorted(a["name"] for a in p.adapters),
            "resources": p.resources,
            "user": [m for m in ("shop_assets", "shop_sensors") if m in sys.modules],
        }}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    seen = json.loads(out.stdout)
    assert seen["hit"] is True
    assert seen["schedules"] == [
        ["nightly", "0 3 * * *", "Europe/Berlin", ["orders"], "the nightly load"]
    ]
    assert seen["sensors"] == [["new_files", 15.0, "new_files", ["orders"]]]
    assert "builtin" in seen["adapters"]
    assert seen["adapters"] == sorted(a["name"] for a in fresh.adapters)
    assert seen["resources"] == ["alerts"]
    assert seen["user"] == []


def test_a_snapshot_of_an_older_format_is_rebuilt(tmp_path: Path) -> None:
    import msgspec
    from catchment.snapshot import FORMAT_VERSION, decode, encode

    root = _project(tmp_path)
    _age(root)
    load_read_only(root)
    path = snapshot_path(root / "catchment.yaml")
    old = msgspec.structs.replace(decode(path.read_bytes()), format=FORMAT_VERSION - 1)
    path.write_bytes(encode(old))
    said: list[str] = []
    assert not load_read_only(root, say=said.append).from_snapshot  # stale, not misread
    assert said == []
    assert load_read_only(root).from_snapshot


def test_load_isolated_rebuilds_a_stale_snapshot_in_a_child_process(tmp_path: Path) -> None:
    """The UI and the daemon never import the project's code: a stale snapshot is rebuilt
    by ``python -m catchment.snapshot`` and read back; the edit shows."""
    root = _project(tmp_path)
    _age(root)
    load_read_only(root)
    (root / "shop_assets.py").write_text(ASSETS + "\n@asset\ndef extra():\n    return 2\n")
    code = textwrap.dedent(
        f"""
        import json, sys
        from catchment.snapshot.cache import load_isolated, read_snapshot
        p = load_isolated({str(root)!r})
        print(json.dumps({{
            "keys": sorted(k.to_string() for k in p.graph),
            "stamp": p.stamp is not None,
            "cached": read_snapshot(p.file) is not None,
            "user": "shop_assets" in sys.modules,
            "loader": "catchment.project.loader" in sys.modules,
        }}))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    seen = json.loads(out.stdout)
    assert seen["keys"] == ["extra", "orders", "revenue"]
    assert seen["stamp"]
    assert seen["cached"]
    assert seen["user"] is False
    assert seen["loader"] is False


def test_load_isolated_reports_a_broken_project_as_a_load_does(tmp_path: Path) -> None:
    from catchment.snapshot.cache import load_isolated

    root = _project(tmp_path)
    (root / "catchment.yaml").write_text("project: {name: shop}\ncomponents: [oops\n")
    with pytest.raises(CatchmentError) as isolated:
        load_isolated(root)
    with pytest.raises(CatchmentError) as loaded:
        load_read_only(root)
    assert str(isolated.value) == str(loaded.value)


def test_load_isolated_says_once_that_a_corrupt_snapshot_is_rebuilt(tmp_path: Path) -> None:
    from catchment.snapshot.cache import load_isolated

    root = _project(tmp_path)
    _age(root)
    load_read_only(root)
    path = snapshot_path(root / "catchment.yaml")
    path.write_bytes(path.read_bytes()[:40])
    said: list[str] = []
    project = load_isolated(root, say=said.append)
    assert [k.to_string() for k in project.graph or ()] == ["orders", "revenue"]
    assert len(said) == 1
    assert "corrupt" in said[0]
    assert read_snapshot(root / "catchment.yaml", said.append) is not None  # rewritten

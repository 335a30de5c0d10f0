"""Loading only the adapters a project names: the adapter index (``catchment.adapter_index``)
is written by a full load and trusted only while its key matches; whatever a load leaves out
is recorded as the full load found it and loaded on demand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from catchment.adapter_index import read_index
from catchment.plugins import PluginRegistry


def _like_healthy(kit: Any, name: str, component_type: str) -> str:
    """The healthy adapter's source as adapter ``name`` serving ``component_type``."""
    return kit.healthy.replace('"healthy"', f'"{name}"').replace("healthy_tables", component_type)


LISTENER = """
from catchment import AdapterInfo, hookimpl

CALLS = []


@hookimpl
def catchment_adapter_info():
    return AdapterInfo(name="listener", version="0.1.0", api=">=1.0,<2")


@hookimpl
def catchment_run_started(run):
    CALLS.append(run)
"""

NEEDS = ["component type:healthy_tables"]


def _records(registry: PluginRegistry) -> list[dict[str, Any]]:
    return [r.to_dict() for r in registry.adapters]


@pytest.fixture
def index(tmp_path: Path) -> Path:
    return tmp_path / "cache" / "adapters.msgpack"


@pytest.fixture
def three(install: Callable[..., str], kit: Any) -> None:
    """Installed: ``healthy`` (the type projects name), ``other`` (a type no project here
    names) and ``listener`` (a run listener, no type)."""
    install("healthy", kit.healthy, version="1.2.3")
    install("other", _like_healthy(kit, "other", "other_things"))
    install("listener", LISTENER)


def test_a_current_index_loads_only_the_named_adapters_and_life_cycle_ones(
    site: Path, three: None, index: Path
) -> None:
    full = PluginRegistry(strict=False, allow=None)
    full.load_indexed(NEEDS, index)  # no index yet: everything loads, the index is written
    assert full.pm.get_plugin("other") is not None
    assert read_index(index) is not None

    partial = PluginRegistry(strict=False, allow=None)
    partial.load_indexed(NEEDS, index)
    assert partial.pm.get_plugin("healthy") is not None
    assert partial.pm.get_plugin("listener") is not None  # runs for every project
    assert partial.pm.get_plugin("builtin") is not None
    assert partial.pm.get_plugin("other") is None
    assert "other_things" not in partial.component_types
    # what `catchment plugins`, `check` and the snapshot show is the full load's view
    assert _records(partial) == _records(full)


def test_a_left_out_adapter_loads_when_asked_for_and_completing_gives_the_full_registry(
    site: Path, three: None, index: Path
) -> None:
    full = PluginRegistry(strict=False, allow=None)
    full.load_indexed(NEEDS, index)
    partial = PluginRegistry(strict=False, allow=None)
    partial.load_indexed(NEEDS, index)

    partial.ensure(["component type:other_things"])
    assert partial.component_types["other_things"].adapter == "other"
    partial.complete()
    assert set(partial.component_types) == set(full.component_types)
    assert set(partial.resource_types) == set(full.resource_types)
    assert set(partial.io_manager_types) == set(full.io_manager_types)
    assert _records(partial) == _records(full)


def test_a_type_the_index_does_not_know_loads_everything(
    site: Path, three: None, index: Path
) -> None:
    PluginRegistry(strict=False, allow=None).load_indexed(NEEDS, index)
    registry = PluginRegistry(strict=False, allow=None)
    registry.load_indexed([*NEEDS, "component type:no_such_type"], index)
    assert registry.pm.get_plugin("other") is not None  # the unknown-type message lists all


def test_installing_an_adapter_makes_the_index_stale(
    site: Path, three: None, index: Path, install: Callable[..., str], kit: Any
) -> None:
    PluginRegistry(strict=False, allow=None).load_indexed(NEEDS, index)
    install("newer", _like_healthy(kit, "newer", "newer_things"))
    assert read_index(index) is None
    registry = PluginRegistry(strict=False, allow=None)
    registry.load_indexed(["component type:newer_things"], index)
    assert registry.component_types["newer_things"].adapter == "newer"


def test_editing_a_left_out_adapter_makes_the_index_stale(
    site: Path, three: None, index: Path
) -> None:
    PluginRegistry(strict=False, allow=None).load_indexed(NEEDS, index)
    module = site / "catchment_other" / "__init__.py"
    module.write_text(module.read_text().replace("other_things", "renamed_things"))
    stat = module.stat()
    os.utime(module, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert read_index(index) is None


def test_a_broken_adapter_is_loaded_again_and_reported_with_a_current_index(
    site: Path, install: Callable[..., str], kit: Any, index: Path
) -> None:
    source, status, fragment = kit.broken["import_error"]
    install("healthy", kit.healthy)
    install("import_error", source)
    PluginRegistry(strict=False, allow=None).load_indexed(NEEDS, index)
    assert read_index(index) is not None

    registry = PluginRegistry(strict=False, allow=None)
    registry.load_indexed(NEEDS, index)
    record = registry.record("import_error")
    assert record is not None
    assert record.status == status
    assert fragment in (record.error or "")
    assert record in registry.broken


def test_a_corrupt_index_is_ignored_and_rewritten(site: Path, three: None, index: Path) -> None:
    index.parent.mkdir(parents=True)
    index.write_bytes(b"\x00 not an index")
    registry = PluginRegistry(strict=False, allow=None)
    registry.load_indexed(NEEDS, index)
    assert registry.pm.get_plugin("other") is not None
    assert read_index(index) is not None


def test_without_a_cache_folder_every_adapter_loads(site: Path, three: None) -> None:
    registry = PluginRegistry(strict=False, allow=None)
    registry.load_indexed(NEEDS, None)
    assert registry.pm.get_plugin("other") is not None


def test_strict_mode_always_loads_every_adapter(site: Path, three: None, index: Path) -> None:
    PluginRegistry(strict=False, allow=None).load_indexed(NEEDS, index)
    registry = PluginRegistry(strict=True, allow=None)
    registry.load_indexed(NEEDS, index)
    assert registry.pm.get_plugin("other") is not None


def test_the_cli_imports_only_the_adapters_a_project_names(tmp_path: Path) -> None:
    """A real `catchment assets list --json` run twice (the snapshot removed in between) on a
    project naming one Python component: the second imports no tool adapter's code."""
    root = tmp_path / "proj"
    root.mkdir()
    (root / "catchment.yaml").write_text(
        textwrap.dedent(
            """\
            project: {name: shop}
            components:
              - {type: python, name: code, attributes: {module: assets.py}}
            """
        )
    )
    (root / "assets.py").write_text(
        "from catchment import asset\n\n@asset(key='raw/orders')\ndef orders():\n    return 1\n"
    )
    script = (
        "import sys, json\n"
        "import catchment.cli.fast as fast\n"
        "fast._exit = lambda code: None\n"
        "sys.argv = ['catchment', 'assets', 'list', '--json']\n"
        "fast.main()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('catchment_'))))\n"
    )
    env = {**os.environ, "CATCHMENT_CACHE_DIR": str(tmp_path / "cache")}

    def run() -> list[str]:
        (root / ".catchment" / "definitions.snapshot").unlink(missing_ok=True)
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        assert '"key": "raw/orders"' in done.stdout
        modules: list[str] = json.loads(done.stdout.strip().splitlines()[-1])
        return modules

    first = run()
    assert "catchment_dbt" in first  # no index yet: every installed adapter loads
    second = run()
    assert not [
        m
        for m in second
        if m.split(".")[0]
        in {
            "catchment_dbt",
            "catchment_spark",
            "catchment_snowflake",
            "catchment_dlt",
            "catchment_sling",
            "catchment_modal",
        }
    ]

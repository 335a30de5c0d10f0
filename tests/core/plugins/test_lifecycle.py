"""Adapters seen from a real project and a real run: resource and IO manager types registered
through hooks are configured from catchment.yaml, and life-cycle hooks hear about the run
(a crashing one does not break it)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

from catchment import AdapterInfo, ComponentType, Resource, SecretStr, asset, hookimpl
from catchment.execution.project import run_project
from catchment.hookspecs import RunInfo
from catchment.io_managers import MemoryIOManager
from catchment.plugins import PluginRegistry
from catchment.project import load_project


class WarehouseAPI(Resource):
    """A resource type an adapter serves."""

    url: str
    token: SecretStr
    timeout: int = 30


class CountingIOManager(MemoryIOManager):
    """An IO manager type an adapter serves: memory, counting what it stored."""

    def __init__(self, label: str):
        super().__init__()
        self.label = label
        self.stored: list[str] = []

    def handle_output(self, context: Any, obj: Any) -> Any:
        self.stored.append(context.key.to_string())
        return super().handle_output(context, obj)


class _Attrs(Resource):
    pass


def _build(attributes: Any, context: Any) -> list[Any]:
    api = context.resources["api"]

    @asset(key="remote/endpoint")
    def endpoint() -> str:
        return api.url

    return [endpoint]


class ToolAdapter:
    """Serves a resource type, an IO manager type and a component type using the resource."""

    @hookimpl
    def catchment_adapter_info(self) -> AdapterInfo:
        return AdapterInfo(name="tool", version="2.0")

    @hookimpl
    def catchment_resource_types(self, register: Callable[[str, type], None]) -> None:
        register("warehouse_api", WarehouseAPI)

    @hookimpl
    def catchment_io_manager_types(self, register: Callable[..., None]) -> None:
        register("counting", lambda config, defaults: CountingIOManager(**config))

    @hookimpl
    def catchment_component_types(self, register: Callable[[ComponentType], None]) -> None:
        register(ComponentType(name="remote", attributes=_Attrs, build=_build))


class Listener:
    """Records every life-cycle call; ``crash`` makes each one raise instead."""

    def __init__(self, name: str, crash: bool = False):
        self.name, self.crash = name, crash
        self.calls: list[tuple[str, str]] = []

    def _seen(self, hook: str, detail: str) -> None:
        self.calls.append((hook, detail))
        if self.crash:
            raise RuntimeError(f"{self.name} is broken")

    @hookimpl
    def catchment_adapter_info(self) -> AdapterInfo:
        return AdapterInfo(name=self.name, version="1")

    @hookimpl
    def catchment_run_started(self, run: RunInfo) -> None:
        self._seen("run_started", ",".join(run.asset_keys))

    @hookimpl
    def catchment_asset_materialized(self, run: RunInfo, event: Any) -> None:
        self._seen("asset_materialized", event.asset_key)

    @hookimpl
    def catchment_check_evaluated(self, run: RunInfo, event: Any) -> None:
        self._seen("check_evaluated", f"{event.asset_key}:{event.data['passed']}")

    @hookimpl
    def catchment_run_finished(self, run: RunInfo, status: str) -> None:
        self._seen("run_finished", status)


PROJECT = """
project: {name: hooks}
resources:
  api:
    type: warehouse_api
    config: {url: "https://wh.example", token: "{{ env('WH_TOKEN', 'dev-token') }}"}
io_managers:
  default: {type: counting, config: {label: main}}
components:
  - {type: python, name: local, attributes: {module: assets.py, key_prefix: eu}}
  - {type: remote, name: remote}
"""

ASSETS = """
from catchment import asset, asset_check

@asset(owners=["data@example.com"])
def orders():
    return [1, 2, 3]

@asset
def order_count(orders):
    return len(orders)

@asset_check(asset="order_count")
def positive(order_count):
    return order_count > 0
"""


def _registry(*plugins: tuple[str, object]) -> PluginRegistry:
    registry = PluginRegistry(strict=False, allow=None)
    registry.load_entry_points(metadata.entry_points(group="catchment.adapters", name="builtin"))
    for name, plugin in plugins:
        registry.add_plugin(plugin, name=name)
    assert not registry.broken, [r.error for r in registry.broken]
    return registry


def _project(tmp_path: Path) -> Path:
    (tmp_path / "catchment.yaml").write_text(textwrap.dedent(PROJECT))
    (tmp_path / "assets.py").write_text(textwrap.dedent(ASSETS))
    return tmp_path


def test_registered_types_are_configured_from_the_project(tmp_path: Path) -> None:
    registry = _registry(("tool", ToolAdapter()))
    project = load_project(_project(tmp_path), registry=registry)
    assert project.problems == []
    api = project.resources["api"]
    assert isinstance(api, WarehouseAPI)
    assert api.token.get_secret_value() == "dev-token"
    assert isinstance(project.io_managers["default"], CountingIOManager)
    assert project.io_managers["default"].label == "main"
    keys = {k.to_string() for k in project.require_graph()}
    assert keys == {"eu/orders", "eu/order_count", "remote/endpoint"}


def test_invalid_resource_config_names_the_field_not_the_secret(
    tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setenv("WH_TOKEN", "s3cr3t-value")
    root = _project(tmp_path)
    text = (root / "catchment.yaml").read_text().replace('url: "https://wh.example", ', "")
    (root / "catchment.yaml").write_text(text.replace("{url:", "{"))
    project = load_project(root, registry=_registry(("tool", ToolAdapter())))
    messages = [str(p) for p in project.problems]
    assert any("resource 'api': config.url: Field required" in m for m in messages), messages
    assert all("s3cr3t" not in m for m in messages)
    assert any("'remote' (remote) failed to build" in m for m in messages)  # needs the resource


def test_life_cycle_hooks_hear_a_real_run_and_a_crashing_one_is_isolated(
    tmp_path: Path,
) -> None:
    good, bad = Listener("audit"), Listener("flaky", crash=True)
    registry = _registry(("tool", ToolAdapter()), ("flaky", bad), ("audit", good))
    project = load_project(_project(tmp_path), registry=registry)
    result = run_project(project)
    assert result.success
    assert result.output_for("eu/order_count") == 3  # key_prefix re-maps inputs at run time
    assert project.io_managers["default"].stored.count("eu/orders") == 1

    hooks = [h for h, _ in good.calls]
    assert hooks[0] == "run_started"
    assert hooks[-1] == "run_finished"
    assert good.calls[-1] == ("run_finished", "success")
    materialized = {d for h, d in good.calls if h == "asset_materialized"}
    assert materialized == {"eu/orders", "eu/order_count", "remote/endpoint"}
    assert ("check_evaluated", "eu/order_count:True") in good.calls
    assert bad.calls == good.calls  # called the same way, its exceptions swallowed
    assert {(a, h) for a, h, _ in registry.hook.errors} >= {
        ("flaky", "catchment_run_started"),
        ("flaky", "catchment_run_finished"),
    }

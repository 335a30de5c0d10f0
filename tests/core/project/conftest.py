"""A registry with the built-in adapter plus a test adapter serving typed attributes, and a
helper writing a project folder."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from catchment import AdapterInfo, ComponentType, asset, hookimpl
from catchment.components import ComponentContext
from catchment.definitions import AssetsDefinition
from catchment.plugins import PluginRegistry
from pydantic import BaseModel


class Server(BaseModel):
    host: str
    port: int


class TypedAttrs(BaseModel):
    server: Server
    tables: list[str]
    password: str | None = None


def _build_typed(attributes: TypedAttrs, context: ComponentContext) -> list[AssetsDefinition]:
    out = []
    for name in attributes.tables:

        @asset(key=f"{context.name}/{name}", kinds=["typed"])
        def one() -> int:
            return attributes.server.port

        out.append(one)
    return out


class _Attrs(BaseModel):
    pass


def _explodes(attributes: _Attrs, context: ComponentContext) -> list[AssetsDefinition]:
    raise RuntimeError("the tool's manifest is corrupt")


def _wrong(attributes: _Attrs, context: ComponentContext) -> Any:
    return "not a list"


class TestAdapter:
    """A real plugin object with component types used by the project tests."""

    @hookimpl
    def catchment_adapter_info(self) -> AdapterInfo:
        return AdapterInfo(name="testkit", version="0.0.1")

    @hookimpl
    def catchment_component_types(self, register: Callable[[ComponentType], None]) -> None:
        register(ComponentType(name="typed", attributes=TypedAttrs, build=_build_typed))
        register(ComponentType(name="explodes", attributes=_Attrs, build=_explodes))
        register(ComponentType(name="wrong_return", attributes=_Attrs, build=_wrong))


def make_registry(*plugins: tuple[str, object]) -> PluginRegistry:
    """The built-in adapter, the test adapter and ``plugins`` (all must load)."""
    registry = PluginRegistry(strict=False, allow=None)
    registry.load_entry_points(metadata.entry_points(group="catchment.adapters", name="builtin"))
    registry.add_plugin(TestAdapter(), name="testkit")
    for name, plugin in plugins:
        registry.add_plugin(plugin, name=name)
    assert not registry.broken, [r.error for r in registry.broken]
    return registry


@pytest.fixture
def registry() -> PluginRegistry:
    """Built-in + test adapter."""
    return make_registry()


@pytest.fixture
def write_project(tmp_path: Path) -> Callable[..., Path]:
    """``write_project(yaml, {"path.py": text})`` writes ``catchment.yaml`` and other files;
    returns the folder."""

    def _write(yaml_text: str, files: dict[str, str] | None = None) -> Path:
        root = tmp_path / "proj"
        root.mkdir(exist_ok=True)
        (root / "catchment.yaml").write_text(textwrap.dedent(yaml_text).lstrip())
        for name, text in (files or {}).items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text))
        return root

    return _write

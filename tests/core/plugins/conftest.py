"""Real installed adapters for tests: a module plus its own dist-info with entry_points.txt,
written into a temporary site directory that is put on sys.path / PYTHONPATH."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable, Iterator
from importlib import metadata
from pathlib import Path

import pytest

HEALTHY = """
from pydantic import BaseModel
from catchment import AdapterInfo, ComponentType, asset, hookimpl


class Attrs(BaseModel):
    tables: list[str]


def build(attributes, context):
    out = []
    for name in attributes.tables:
        @asset(key=f"healthy/{name}", kinds=["healthy"], group="healthy")
        def one():
            return 1
        out.append(one)
    return out


@hookimpl
def catchment_adapter_info():
    return AdapterInfo(name="healthy", version="1.2.3", api=">=1.0,<2")


@hookimpl
def catchment_component_types(register):
    register(ComponentType(name="healthy_tables", attributes=Attrs, build=build))
"""

_INFO = """
from catchment import AdapterInfo, ComponentType, hookimpl
from pydantic import BaseModel


class Attrs(BaseModel):
    pass


@hookimpl
def catchment_adapter_info():
    return AdapterInfo(name="{name}", version="0.1.0", api="{api}")
"""

# Each broken adapter, and a fragment its error must contain.
BROKEN: dict[str, tuple[str, str, str]] = {
    "import_error": ("import catchment_no_such_dependency_xyz\n", "failed", "ModuleNotFoundError"),
    "syntax_error": ("def broken(:\n    pass\n", "failed", "SyntaxError"),
    "hook_raises": (
        _INFO.format(name="hook_raises", api=">=1.0,<2")
        + "\n@hookimpl\ndef catchment_component_types(register):\n"
        "    raise RuntimeError('exploded while registering')\n",
        "failed",
        "exploded while registering",
    ),
    "wrong_info_type": (
        "from catchment import hookimpl\n\n@hookimpl\ndef catchment_adapter_info():\n"
        "    return {'name': 'wrong_info_type', 'version': '1'}\n",
        "failed",
        "returned dict, expected AdapterInfo",
    ),
    "wrong_register_type": (
        _INFO.format(name="wrong_register_type", api=">=1.0,<2")
        + "\n@hookimpl\ndef catchment_component_types(register):\n"
        "    register('not a component type')\n",
        "failed",
        "needs a catchment.ComponentType, got str",
    ),
    "incompatible_api": (
        _INFO.format(name="incompatible_api", api=">=2.0,<3"),
        "incompatible",
        "needs core API >=2.0,<3",
    ),
    "zz_duplicate": (
        _INFO.format(name="zz_duplicate", api=">=1.0,<2")
        + "\n\ndef build(attributes, context):\n    return []\n"
        "\n@hookimpl\ndef catchment_component_types(register):\n"
        "    register(ComponentType(name='healthy_tables', attributes=Attrs, build=build))\n",
        "failed",
        "component type 'healthy_tables' is already served by adapter 'healthy'",
    ),
}


def write_adapter(
    site: Path, name: str, source: str, *, version: str = "0.1.0", dist: str | None = None
) -> str:
    """Install adapter ``name`` into ``site``: module ``catchment_<name>`` and a dist-info
    whose entry point ``<name>`` names it. Returns the module name."""
    module = f"catchment_{name}"
    dist = dist or f"catchment-{name.replace('_', '-')}"
    pkg = site / module
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[catchment.adapters]\n{name} = {module}\n")
    return module


def entry_points_in(site: Path) -> list[metadata.EntryPoint]:
    """The ``catchment.adapters`` entry points installed in ``site`` plus the built-in one."""
    eps = [
        ep
        for d in metadata.distributions(path=[str(site)])
        for ep in d.entry_points
        if ep.group == "catchment.adapters"
    ]
    return [*metadata.entry_points(group="catchment.adapters", name="builtin"), *eps]


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh site directory on sys.path; modules imported from it are forgotten after."""
    path = tmp_path / "site"
    path.mkdir()
    monkeypatch.syspath_prepend(str(path))
    before = set(sys.modules)
    yield path
    for name in set(sys.modules) - before:
        if name.startswith("catchment_"):
            del sys.modules[name]


@pytest.fixture
def install(site: Path) -> Callable[..., str]:
    """``install(name, source)`` puts a real adapter distribution into ``site``."""

    def _install(name: str, source: str, **kw: str) -> str:
        return write_adapter(site, name, source, **kw)

    return _install


class Kit:
    """What the plugin tests share (conftest modules are not importable under importlib mode)."""

    healthy = HEALTHY
    broken = BROKEN
    write_adapter = staticmethod(write_adapter)
    entry_points_in = staticmethod(entry_points_in)


@pytest.fixture
def kit() -> type[Kit]:
    """The shared adapter sources and helpers."""
    return Kit


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests asking for ``broken`` run once per kind of broken adapter."""
    if "broken" in metafunc.fixturenames:
        metafunc.parametrize("broken", list(BROKEN))
